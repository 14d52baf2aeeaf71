#include "cli/command_line.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/interface_options.h"

namespace etherip::cli {
namespace {

using control::Op;

constexpr std::string_view kGeneralSynopsis =
    "etherip [-s SOCKET] [-j] COMMAND [ARGS]  (etherip -h lists them)";

std::string SynopsisOf(Op op) {
  switch (op) {
    case Op::kCreate:
      return "etherip create IFNAME [OPTION...]  (etherip -h lists OPTIONs)";
    case Op::kDestroy:
      return "etherip destroy IFNAME";
    case Op::kSet:
      return "etherip set IFNAME OPTION...  (etherip -h lists OPTIONs)";
    case Op::kShow:
      return "etherip [-j] show [-r] [IFNAME]";
    case Op::kStats:
      return "etherip [-j] stats";
    case Op::kAllow:
      return "etherip [-j] allow [0|1]";
    case Op::kShowconf:
      return "etherip showconf";
    case Op::kReload:
      return "etherip reload";
  }
  return std::string(kGeneralSynopsis);
}

tl::unexpected<UsageError> Usage(
    std::string message, std::string synopsis = std::string(kGeneralSynopsis)) {
  return tl::unexpected(UsageError{std::move(message), std::move(synopsis)});
}

// Arguments travel as JSON strings, which must be UTF-8; refusing other
// bytes here beats having them silently replaced on the way. nlohmann's
// strict serializer is the validator (overlong forms and surrogates
// included); it reports by exception, which becomes a bool here.
bool IsValidUtf8(std::string_view text) {
  try {
    static_cast<void>(nlohmann::json(std::string(text)).dump());
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// The global options, wherever they are met. Returns how many words the
// option at `words[i]` took (0 when it is not a global option), or a usage
// error when its argument is missing.
tl::expected<size_t, UsageError> TakeGlobalOption(
    std::span<const std::string> words, size_t i, CommandLine& command_line,
    const std::string& synopsis) {
  const std::string& word = words[i];
  if (word == "-j" || word == "--json") {
    command_line.json = true;
    return 1;
  }
  if (word == "-h" || word == "--help") {
    command_line.help = true;
    return 1;
  }
  // An empty SOCKET is a missing one, wherever it is (as before COMMAND).
  if (word == "-s" || word == "--socket") {
    if (i + 1 >= words.size() || words[i + 1].empty()) {
      return Usage(fmt::format("{}: missing argument", word), synopsis);
    }
    command_line.socket_path = words[i + 1];
    return 2;
  }
  if (word.starts_with("--socket=")) {
    if (word == "--socket=") return Usage("-s: missing argument", synopsis);
    command_line.socket_path =
        word.substr(std::string_view("--socket=").size());
    return 1;
  }
  return 0;
}

bool LooksLikeOption(const std::string& word) {
  return word.size() > 1 && word[0] == '-';
}

// Parses what follows COMMAND for create and set: global options, IFNAME,
// then OPTION words only.
tl::expected<void, UsageError> ParseInterfaceCommand(
    std::span<const std::string> words, CommandLine& command_line) {
  const Op op = command_line.request.op;
  const std::string synopsis = SynopsisOf(op);
  size_t i = 0;
  while (i < words.size() && LooksLikeOption(words[i])) {
    auto taken = TakeGlobalOption(words, i, command_line, synopsis);
    if (!taken) return tl::unexpected(taken.error());
    if (*taken == 0) {
      return Usage(fmt::format("{}: unknown option", words[i]), synopsis);
    }
    i += *taken;
  }
  if (i >= words.size()) return Usage("missing IFNAME", synopsis);
  command_line.request.name = words[i++];
  std::vector<std::string> options(words.begin() + i, words.end());
  if (op == Op::kSet && options.empty()) {
    return Usage("missing OPTION", synopsis);
  }
  if (auto parsed = ParseInterfaceOptions(options); !parsed) {
    return Usage(parsed.error().message, synopsis);
  }
  command_line.request.options = std::move(options);
  return {};
}

// Parses what follows COMMAND for the other commands: global options
// anywhere, and at most `max_positionals` other words.
tl::expected<std::vector<std::string>, UsageError> ParsePositionals(
    std::span<const std::string> words, CommandLine& command_line,
    size_t max_positionals) {
  const std::string synopsis = SynopsisOf(command_line.request.op);
  std::vector<std::string> positionals;
  for (size_t i = 0; i < words.size();) {
    if (command_line.request.op == Op::kShow && words[i] == "-r") {
      command_line.rates = true;
      ++i;
      continue;
    }
    if (LooksLikeOption(words[i])) {
      auto taken = TakeGlobalOption(words, i, command_line, synopsis);
      if (!taken) return tl::unexpected(taken.error());
      if (*taken == 0) {
        return Usage(fmt::format("{}: unknown option", words[i]), synopsis);
      }
      i += *taken;
      continue;
    }
    if (positionals.size() == max_positionals) {
      return Usage(fmt::format("{}: unexpected argument", words[i]), synopsis);
    }
    positionals.push_back(words[i++]);
  }
  return positionals;
}

tl::expected<void, UsageError> ParseCommand(std::span<const std::string> words,
                                            CommandLine& command_line) {
  if (words.empty()) return Usage("missing COMMAND");
  const std::string& command = words[0];
  const std::optional<Op> op = control::OpFromName(command);
  if (!op) {
    return Usage(fmt::format("{}: unknown {}", command,
                             LooksLikeOption(command) ? "option" : "command"));
  }
  command_line.request.op = *op;
  const auto rest = words.subspan(1);
  if (*op == Op::kCreate || *op == Op::kSet) {
    return ParseInterfaceCommand(rest, command_line);
  }

  const size_t max_positionals =
      (*op == Op::kDestroy || *op == Op::kShow || *op == Op::kAllow) ? 1 : 0;
  auto positionals = ParsePositionals(rest, command_line, max_positionals);
  if (!positionals) return tl::unexpected(positionals.error());
  const std::string synopsis = SynopsisOf(*op);
  switch (*op) {
    case Op::kDestroy:
      if (positionals->empty()) return Usage("missing IFNAME", synopsis);
      command_line.request.name = positionals->front();
      break;
    case Op::kShow:
      if (!positionals->empty())
        command_line.request.name = positionals->front();
      break;
    case Op::kAllow:
      if (!positionals->empty()) {
        const std::string& value = positionals->front();
        if (value != "0" && value != "1") {
          return Usage(fmt::format("{}: expected 0 or 1", value), synopsis);
        }
        command_line.request.allow = value == "1";
      }
      break;
    default:
      break;
  }
  return {};
}

}  // namespace

tl::expected<CommandLine, UsageError> ParseCommandLine(
    std::span<const std::string> args) {
  for (const std::string& arg : args) {
    if (!IsValidUtf8(arg)) return Usage("an argument is not valid UTF-8");
  }

  // An empty SOCKET before COMMAND is a missing one: CLI11 would take the
  // word after "--socket=" as SOCKET (found by fuzz/command_line_fuzzer:
  // "--socket= stats" read "stats" as the socket's path).
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--socket=" || ((word == "-s" || word == "--socket") &&
                                i + 1 < args.size() && args[i + 1].empty())) {
      return Usage("-s: missing argument");
    }
    if (word == "-s" || word == "--socket") {
      ++i;  // its argument
    } else if (!LooksLikeOption(word)) {
      break;  // COMMAND: the rest is parsed by hand below
    }
  }

  // CLI11 reads the global options up to COMMAND and hands back the rest
  // untouched (prefix_command): the OPTION words of create and set look like
  // options ("-tunnel") and are parsed by hand.
  CommandLine command_line;
  CLI::App app("etherip: configure etheripd", "etherip");
  app.set_help_flag();
  app.prefix_command();
  app.add_option("-s,--socket", command_line.socket_path,
                 "control socket of etheripd");
  app.add_flag("-j,--json", command_line.json, "print JSON");
  app.add_flag("-h,--help", command_line.help, "print this help");
  app.add_flag("--version", command_line.version, "print the release");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch&) {
    // -s is the only option with an argument.
    return Usage("-s: missing argument");
  } catch (const CLI::ParseError& e) {
    // CLI11 reports by exception; here it becomes a usage error value.
    return Usage(e.what());
  }
  // Whatever spelling CLI11 took it from ("-js ''", say): empty is missing.
  if (command_line.socket_path.empty()) return Usage("-s: missing argument");
  const std::vector<std::string> rest = app.remaining();
  if (command_line.help || command_line.version) return command_line;

  auto parsed = ParseCommand(rest, command_line);
  if (!parsed) return tl::unexpected(parsed.error());
  return command_line;
}

std::string Usage() {
  return R"(usage: etherip [-s SOCKET] [-j] COMMAND [ARGS]
  -s SOCKET                      control socket of etheripd
                                 (default /run/etherip/etheripd.sock)
  -j                             print JSON instead of text
  --version                      print the release and exit

COMMAND:
  create IFNAME [OPTION...]      make an interface (then apply options)
  destroy IFNAME                 remove it
  set IFNAME OPTION...           change an interface
  show [IFNAME]                  interfaces, their tunnels and counters
  show -r [IFNAME]               packet and bit rates over one second
  stats                          global counters
  allow [0|1]                    print or set the allow switch
  showconf                       print a configuration file that recreates
                                 the current state
  reload                         re-read the daemon's configuration file

OPTION:
  tunnel SRC DST                 set the tunnel: IPv4 or IPv6 literals,
                                 fe80::1%ZONE, or host names
  -tunnel                        remove the tunnel
  domain NAME | -domain          outer packets in network namespace NAME
  up | down                      administrative state
  mtu N | lladdr MAC             link settings
  mtu auto                       MTU of the route to DST less the headers,
                                 followed as the route changes
  header standard|reversed|any   EtherIP header form sent and accepted
  master BRIDGE | -master        join BRIDGE (kept on restart) | leave it
  eoip ID | -eoip                MikroTik EoIPv6 tunnel ID 0-4095 (IPv6
                                 only) | back to a standard tunnel
  keepalive SECONDS              EoIP keepalive interval (default 10, 0 off)
  ttl N                          outer TTL / hop limit, 1-255 (default 64)
  df | -df                       outer packets not fragmented | fragmented
  tos N | inherit | -tos         outer TOS / traffic class: N (0-255), the
                                 inner packet's DSCP, or the default
  fwmark N | -fwmark             firewall mark of outer packets (0: none)

Exit status: 0 success, 1 refused or failed, 2 usage error.
)";
}

std::string FormatUsageError(const UsageError& error) {
  return fmt::format("etherip: {}\nusage: {}\n", error.message, error.synopsis);
}

}  // namespace etherip::cli
