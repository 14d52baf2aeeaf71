#include "control/config_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "control/listen_address.h"
#include "core/interface_name.h"

namespace etherip::control {
namespace {

// A configuration file larger than this is refused unread: real ones are a
// few hundred bytes per interface.
constexpr off_t kMaxConfigBytes = 16 << 20;

int LineOf(const toml::source_region& region) {
  return static_cast<int>(region.begin.line);
}

// Collects the errors of one file and keeps the one nearest its top, so the
// report does not depend on the order toml++ iterates keys in (by name).
class ErrorSink {
 public:
  explicit ErrorSink(std::string_view path) : path_(path) {}

  void Report(int line, int code, std::string message) {
    if (!first_ || line < first_->line) {
      first_ = Located{line, Error{code, std::move(message)}};
    }
  }
  bool failed() const { return first_.has_value(); }
  // "PATH:LINE: message", with the code of the first error.
  Error Take() const {
    return Error{
        first_->error.code,
        fmt::format("{}:{}: {}", path_, first_->line, first_->error.message)};
  }

 private:
  struct Located {
    int line;
    Error error;
  };
  std::string_view path_;
  std::optional<Located> first_;
};

// Reads one [[interface]] table into a spec, reporting every problem it finds.
class InterfaceReader {
 public:
  InterfaceReader(const toml::table& table, ErrorSink& errors)
      : table_(table), errors_(errors) {}

  InterfaceSpec Read() {
    ReadName();
    for (const auto& [key, node] : table_) {
      const int line = LineOf(key.source());
      const std::string_view name = key.str();
      if (name == "name") continue;  // read first: it prefixes every message
      if (name == "source") {
        source_ = StringValue(node, line, name);
        source_line_ = line;
      } else if (name == "destination") {
        destination_ = StringValue(node, line, name);
        destination_line_ = line;
      } else if (name == "domain") {
        ReadDomain(node, line);
      } else if (name == "mtu") {
        ReadMtu(node, line);
      } else if (name == "lladdr") {
        ReadLladdr(node, line);
      } else if (name == "header") {
        ReadHeader(node, line);
      } else if (name == "master") {
        ReadMaster(node, line);
      } else if (name == "eoip") {
        ReadEoip(node, line);
      } else if (name == "keepalive") {
        ReadKeepalive(node, line);
      } else if (name == "ttl") {
        ReadNumber(node, line, name, CheckTtl, ParseTtl, spec_.settings.ttl);
      } else if (name == "tos") {
        ReadTos(node, line);
      } else if (name == "fwmark") {
        ReadNumber(node, line, name, CheckFwmark, ParseFwmark,
                   spec_.settings.fwmark);
      } else if (name == "df") {
        if (const auto* df = node.as_boolean()) {
          spec_.settings.df = df->get();
        } else {
          Report(line, EINVAL, "df: expected true or false");
        }
      } else if (name == "up") {
        if (const auto* up = node.as_boolean()) {
          spec_.settings.up = up->get();
        } else {
          Report(line, EINVAL, "up: expected true or false");
        }
      } else {
        Report(line, EINVAL, fmt::format("unknown key \"{}\"", name));
        saw_unknown_key_ = true;
      }
    }
    ReadTunnel();
    CheckEoipSettings();
    return std::move(spec_);
  }

  int source_line() const { return source_line_; }

 private:
  void Report(int line, int code, std::string_view message) {
    errors_.Report(line, code, fmt::format("{}: {}", prefix_, message));
  }

  std::optional<std::string> StringValue(const toml::node& node, int line,
                                         std::string_view key) {
    if (const auto* value = node.as_string()) return value->get();
    Report(line, EINVAL, fmt::format("{}: expected a string", key));
    return std::nullopt;
  }

  void ReadName() {
    auto it = table_.find("name");
    if (it == table_.end()) {
      errors_.Report(LineOf(table_.source()), EINVAL,
                     "interface: missing name");
      return;
    }
    const int line = LineOf(it->first.source());
    if (const auto* value = it->second.as_string()) {
      spec_.name = value->get();
      if (!spec_.name.empty())
        prefix_ = fmt::format("interface {}", spec_.name);
      if (auto valid = ValidateInterfaceName(spec_.name); !valid) {
        Report(line, valid.error().code, valid.error().message);
      }
    } else {
      Report(line, EINVAL, "name: expected a string");
    }
  }

  void ReadDomain(const toml::node& node, int line) {
    auto domain = StringValue(node, line, "domain");
    if (!domain) return;
    // "" is the daemon's own namespace, as when the key is left out.
    if (!domain->empty()) {
      if (auto valid = ValidateDomainName(*domain); !valid) {
        Report(line, valid.error().code, valid.error().message);
      }
    }
    spec_.settings.domain = std::move(*domain);
  }

  void ReadMtu(const toml::node& node, int line) {
    // `mtu = "auto"`: the route's MTU less the encapsulation (SPEC 8).
    if (const auto* text = node.as_string()) {
      if (text->get() == kAutoMtuWord) {
        spec_.settings.mtu_auto = true;
        return;
      }
      Report(line, EINVAL, "mtu: expected an integer or \"auto\"");
      return;
    }
    const auto* value = node.as_integer();
    if (value == nullptr) {
      Report(line, EINVAL, "mtu: expected an integer or \"auto\"");
      return;
    }
    auto mtu = ParseMtu(std::to_string(value->get()));
    if (!mtu) {
      Report(line, mtu.error().code, mtu.error().message);
      return;
    }
    spec_.settings.mtu = *mtu;
  }

  // An integer (decimal or TOML's 0x form), or a string the command line
  // would take.
  template <class T, class Check, class Parse>
  void ReadNumber(const toml::node& node, int line, std::string_view key,
                  Check check, Parse parse, T& out) {
    Result<T> value = Fail(EINVAL, "");
    if (const auto* number = node.as_integer()) {
      value = check(number->get());
    } else if (const auto* text = node.as_string()) {
      value = parse(text->get());
    } else {
      Report(line, EINVAL, fmt::format("{}: expected an integer", key));
      return;
    }
    if (!value) {
      Report(line, value.error().code, value.error().message);
      return;
    }
    out = *value;
  }

  void ReadTos(const toml::node& node, int line) {
    Result<OuterTos> tos = Fail(EINVAL, "");
    if (const auto* number = node.as_integer()) {
      auto value = CheckTos(number->get());
      tos = value ? Result<OuterTos>(OuterTos::Value(*value))
                  : tl::unexpected(value.error());
    } else if (const auto* text = node.as_string()) {
      tos = ParseTos(text->get());
    } else {
      Report(line, EINVAL, "tos: expected an integer or \"inherit\"");
      return;
    }
    if (!tos) {
      Report(line, tos.error().code, tos.error().message);
      return;
    }
    spec_.settings.tos = *tos;
  }

  void ReadHeader(const toml::node& node, int line) {
    auto text = StringValue(node, line, "header");
    if (!text) return;
    auto mode = ParseHeaderMode(*text);
    if (!mode) {
      Report(line, mode.error().code, mode.error().message);
      return;
    }
    spec_.settings.header = *mode;
  }

  void ReadMaster(const toml::node& node, int line) {
    auto text = StringValue(node, line, "master");
    if (!text) return;
    if (auto valid = CheckMaster(*text); !valid) {
      Report(line, valid.error().code, valid.error().message);
      return;
    }
    spec_.settings.master = std::move(*text);
  }

  // An integer key whose text the option's parser checks (as `etherip`
  // would take it); nullopt, reported, when it is not an integer.
  std::optional<std::string> IntegerText(const toml::node& node, int line,
                                         std::string_view key) {
    if (const auto* value = node.as_integer()) {
      return std::to_string(value->get());
    }
    Report(line, EINVAL, fmt::format("{}: expected an integer", key));
    return std::nullopt;
  }

  void ReadEoip(const toml::node& node, int line) {
    eoip_line_ = line;
    auto text = IntegerText(node, line, "eoip");
    if (!text) return;
    auto id = ParseEoipId(*text);
    if (!id) {
      Report(line, id.error().code, id.error().message);
      return;
    }
    spec_.settings.eoip = *id;
  }

  void ReadKeepalive(const toml::node& node, int line) {
    keepalive_line_ = line;
    auto text = IntegerText(node, line, "keepalive");
    if (!text) return;
    auto seconds = ParseKeepalive(*text);
    if (!seconds) {
      Report(line, seconds.error().code, seconds.error().message);
      return;
    }
    spec_.settings.keepalive = *seconds;
  }

  // The interface as a whole (SPEC 8, "EoIP"): `keepalive` only with
  // `eoip`, reported on its line; EoIP's other rules on the eoip line.
  void CheckEoipSettings() {
    if (eoip_line_ == 0 && keepalive_line_ != 0) {
      Report(keepalive_line_, EINVAL,
             fmt::format("keepalive {}: invalid argument (only for EoIP "
                         "tunnels: eoip ID)",
                         spec_.settings.keepalive));
      return;
    }
    if (!spec_.settings.eoip) return;  // absent or already reported
    if (auto valid = CheckEoip(spec_.settings); !valid) {
      Report(eoip_line_, valid.error().code, valid.error().message);
    }
  }

  void ReadLladdr(const toml::node& node, int line) {
    auto text = StringValue(node, line, "lladdr");
    if (!text) return;
    auto lladdr = ParseLladdr(*text);
    if (!lladdr) {
      Report(line, lladdr.error().code, lladdr.error().message);
      return;
    }
    spec_.settings.lladdr = *lladdr;
    spec_.has_lladdr = true;
  }

  // source and destination come together; a bad tunnel is reported on the
  // line of the address that makes it bad.
  void ReadTunnel() {
    if (source_line_ == 0 && destination_line_ == 0) return;
    // "destinaton" is better reported as the typo it is than as a missing
    // destination.
    if (saw_unknown_key_ && (source_line_ == 0 || destination_line_ == 0)) {
      return;
    }
    if (destination_line_ == 0) {
      Report(source_line_, EINVAL, "source without destination");
      return;
    }
    if (source_line_ == 0) {
      Report(destination_line_, EINVAL, "destination without source");
      return;
    }
    if (!source_ || !destination_) return;  // wrong type, already reported
    auto tunnel = ParseTunnel(*source_, *destination_);
    if (tunnel) {
      spec_.settings.tunnel = *tunnel;
      return;
    }
    auto source = TunnelEndpoint::Parse(*source_);
    const bool source_bad =
        !source ||
        (!source->is_name() && !EndpointProblem(source->address).empty());
    Report(source_bad ? source_line_ : destination_line_, tunnel.error().code,
           tunnel.error().message);
  }

  const toml::table& table_;
  ErrorSink& errors_;
  InterfaceSpec spec_;
  std::string prefix_ = "interface";
  std::optional<std::string> source_;
  std::optional<std::string> destination_;
  int source_line_ = 0;  // 0: no such key
  int destination_line_ = 0;
  int eoip_line_ = 0;  // 0: no such key
  int keepalive_line_ = 0;
  bool saw_unknown_key_ = false;
};

// toml++ reports syntax errors by exception; this is where they become values.
Result<toml::table> ParseToml(std::string_view text, std::string_view path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Fail(EINVAL, fmt::format("{}:{}: {}", path, LineOf(e.source()),
                                    e.description()));
  }
}

std::string ReasonOf(int code) {
  std::string_view reason = ErrnoReason(code);
  if (reason == "error") return std::strerror(code);
  return std::string(reason);
}

// A TOML basic string, by toml++'s own formatter: quotes, backslashes and
// control characters escaped, other UTF-8 kept as it is.
std::string Quote(std::string_view text) {
  std::ostringstream out;
  out << toml::toml_formatter(toml::value<std::string>(std::string(text)),
                              toml::format_flags::allow_unicode_strings);
  return std::move(out).str();
}

// The value of `control_group`: a group name known to the system, or a GID
// in decimal digits (which need not name a group).
Result<ControlGroup> ReadControlGroup(const toml::node& node) {
  const auto* value = node.as_string();
  if (value == nullptr) {
    return Fail(EINVAL,
                "control_group: expected a group name or a GID, as a string");
  }
  const std::string& text = value->get();
  if (text.empty()) return Fail(EINVAL, "control_group: empty group name");
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t gid = 0;
    const auto [end, status] =
        std::from_chars(text.data(), text.data() + text.size(), gid);
    // (gid_t)-1 means "no change" to chown: not a group.
    if (status != std::errc() || gid >= static_cast<gid_t>(-1)) {
      return Fail(EINVAL, fmt::format("control_group: GID {} out of range "
                                      "(0..4294967294)",
                                      text));
    }
    return ControlGroup{text, static_cast<gid_t>(gid)};
  }
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(4096);
  int error;
  while ((error = getgrnam_r(text.c_str(), &entry, buffer.data(), buffer.size(),
                             &found)) == ERANGE &&
         buffer.size() < (1u << 20)) {
    buffer.resize(buffer.size() * 2);
  }
  if (error != 0) {
    return Fail(EINVAL, fmt::format("control_group: cannot look up group "
                                    "{}: {}",
                                    Quote(text), std::strerror(error)));
  }
  if (found == nullptr) {
    return Fail(EINVAL,
                fmt::format("control_group: no such group {}", Quote(text)));
  }
  return ControlGroup{text, found->gr_gid};
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view path) {
  auto root = ParseToml(text, path);
  if (!root) return tl::unexpected(root.error());

  ErrorSink errors(path);
  Config config;
  const std::pair<std::string_view, bool*> switches[] = {
      {"allow", &config.allow},
      {"save", &config.save},
      {"persist", &config.persist},
      {"disable_ipv6", &config.disable_ipv6},
  };
  for (const auto& [key, node] : *root) {
    const int line = LineOf(key.source());
    // A copy: clang before 16 cannot capture a structured binding.
    const std::string_view name = key.str();
    if (name == "interface") continue;  // read below
    if (name == "user") {
      // A name (`user = "nobody"`) or a uid (`user = 65534` or "65534").
      if (const auto* text = node.as_string()) {
        config.user = text->get();
      } else if (const auto* number = node.as_integer()) {
        if (number->get() >= 0 && number->get() < 0xffffffffLL) {
          config.user = std::to_string(number->get());
        }
      }
      if (config.user.empty() || config.user.find('\0') != std::string::npos) {
        config.user.clear();
        errors.Report(line, EINVAL,
                      "user: expected a user name or a numeric uid");
      } else {
        config.user_line = line;
      }
      continue;
    }
    if (name == "metrics") {
      const auto* value = node.as_string();
      auto address = value ? ParseListenAddress(value->get())
                           : Result<ListenAddress>(
                                 Fail(EINVAL, "expected a string, HOST:PORT"));
      if (address) {
        config.metrics = value->get();
        config.metrics_line = line;
      } else {
        errors.Report(line, EINVAL,
                      fmt::format("metrics: {}", address.error().message));
      }
      continue;
    }
    if (name == "resolve_interval") {
      const auto* value = node.as_integer();
      if (value == nullptr || value->get() < 0 ||
          value->get() > kMaxResolveInterval) {
        errors.Report(line, EINVAL,
                      fmt::format("resolve_interval: expected seconds, 0 to "
                                  "{}",
                                  kMaxResolveInterval));
      } else {
        config.resolve_interval = static_cast<uint32_t>(value->get());
      }
      continue;
    }
    if (name == "control_group") {
      auto group = ReadControlGroup(node);
      if (group) {
        config.control_group = std::move(*group);
      } else {
        errors.Report(line, group.error().code, group.error().message);
      }
      continue;
    }
    auto known =
        std::find_if(std::begin(switches), std::end(switches),
                     [&](const auto& entry) { return entry.first == name; });
    if (known == std::end(switches)) {
      errors.Report(line, EINVAL, fmt::format("unknown key \"{}\"", name));
    } else if (const auto* value = node.as_boolean()) {
      *known->second = value->get();
    } else {
      errors.Report(line, EINVAL,
                    fmt::format("{}: expected true or false", name));
    }
  }

  const toml::node* interfaces = root->get("interface");
  if (interfaces != nullptr) {
    const toml::array* array = interfaces->as_array();
    if (array == nullptr) {
      errors.Report(LineOf(interfaces->source()), EINVAL,
                    "interface: expected [[interface]] tables");
      return tl::unexpected(errors.Take());
    }
    struct Seen {
      std::string name;
      int line;
    };
    std::map<std::string, int, std::less<>> name_lines;
    // By (domain, tunnel, EoIP ID or -1), and which kinds each (domain,
    // tunnel) has (SPEC 8, "EoIP": EoIP tunnels or one standard tunnel).
    std::map<std::tuple<std::string, std::string, int>, Seen> tunnels;
    struct Kinds {
      std::optional<Seen> standard;
      std::optional<Seen> eoip;
    };
    std::map<std::pair<std::string, std::string>, Kinds> pairs;
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        errors.Report(LineOf(element.source()), EINVAL,
                      "interface: expected [[interface]] tables");
        continue;
      }
      InterfaceReader reader(*table, errors);
      InterfaceSpec spec = reader.Read();
      const int header_line = LineOf(table->source());
      if (!spec.name.empty()) {
        const int name_line = LineOf(table->find("name")->first.source());
        auto [first, inserted] = name_lines.emplace(spec.name, name_line);
        if (!inserted) {
          errors.Report(name_line, EEXIST,
                        fmt::format("interface {}: named twice (first on "
                                    "line {})",
                                    spec.name, first->second));
        }
      }
      const auto literal = spec.settings.tunnel
                               ? spec.settings.tunnel->LiteralAddresses()
                               : std::nullopt;
      if (literal) {
        // The identity SPEC 2 keeps unique: (domain, source, destination),
        // and the EoIP ID, for tunnels of literals (zones aside); what names
        // resolve to is the running daemon's business (SPEC 8).
        const auto& eoip = spec.settings.eoip;
        const std::string pair =
            Tunnel{literal->source, literal->destination}.ToString();
        const std::string label =
            fmt::format("tunnel {}{}", spec.settings.tunnel->ToString(),
                        eoip ? fmt::format(" eoip {}", *eoip) : std::string());
        const Seen seen{spec.name, reader.source_line()};
        auto [first, inserted] = tunnels.emplace(
            std::tuple{spec.settings.domain, pair, eoip ? int{*eoip} : -1},
            seen);
        Kinds& kinds = pairs[std::pair{spec.settings.domain, pair}];
        const std::optional<Seen>& other = eoip ? kinds.standard : kinds.eoip;
        if (!inserted) {
          errors.Report(reader.source_line(), EADDRNOTAVAIL,
                        fmt::format("interface {}: {}: address not available "
                                    "(used by interface {} on line {})",
                                    spec.name, label, first->second.name,
                                    first->second.line));
        } else if (other) {
          errors.Report(
              reader.source_line(), EEXIST,
              fmt::format("interface {}: {}: file exists (interface {} on "
                          "line {} has {} tunnel between these addresses; "
                          "EoIP and standard tunnels cannot share them)",
                          spec.name, label, other->name, other->line,
                          eoip ? "a standard" : "an EoIP"));
        }
        std::optional<Seen>& mine = eoip ? kinds.eoip : kinds.standard;
        if (!mine) mine = seen;
      }
      config.interfaces.push_back(std::move(spec));
      config.lines.push_back(header_line);
    }
  }
  if (errors.failed()) return tl::unexpected(errors.Take());
  return config;
}

namespace {

std::string_view FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISSOCK(mode)) return "socket";
  return "special file";
}

}  // namespace

Result<Config> LoadConfig(const std::string& path) {
  auto failure = [&](int code) {
    return Fail(code, fmt::format("{}: {}", path, ReasonOf(code)));
  };
  // Only a regular file is read: a FIFO would block the reader (a reload,
  // and with it every later request) and a device may act on being opened.
  // Checked before opening, so nothing else is ever opened, and again on
  // the open file, which is opened without blocking, against a swap between
  // the two.
  auto refused = [&](mode_t mode) {
    if (S_ISDIR(mode)) return failure(EISDIR);
    return Fail(EINVAL, fmt::format("{}: not a regular file (a {})", path,
                                    FileKind(mode)));
  };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return failure(errno);
  if (!S_ISREG(info.st_mode)) return refused(info.st_mode);
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return failure(errno);
  std::string text;
  int error = 0;
  if (::fstat(fd, &info) != 0) {
    error = errno;
  } else if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return refused(info.st_mode);
  } else if (info.st_size > kMaxConfigBytes) {
    error = EFBIG;
  } else {
    char buffer[4096];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = errno;
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(kMaxConfigBytes)) {
        error = EFBIG;
        break;
      }
    }
  }
  ::close(fd);
  if (error != 0) return failure(error);
  return ParseConfig(text, path);
}

std::string RenderConfig(const GlobalSettings& globals,
                         std::span<const InterfaceView> interfaces) {
  std::string text =
      "# etheripd configuration, generated by `etherip showconf`:\n"
      "# the state of the daemon when it was written.\n";
  text += fmt::format("allow = {}\n", globals.allow);
  if (globals.save) text += "save = true\n";
  if (globals.persist) text += "persist = true\n";
  if (globals.disable_ipv6) text += "disable_ipv6 = true\n";
  if (!globals.user.empty()) {
    text += fmt::format("user = {}\n", Quote(globals.user));
  }
  if (!globals.control_group.empty()) {
    text += fmt::format("control_group = {}\n", Quote(globals.control_group));
  }
  if (!globals.metrics.empty()) {
    text += fmt::format("metrics = {}\n", Quote(globals.metrics));
  }
  if (globals.resolve_interval != kDefaultResolveInterval) {
    text += fmt::format("resolve_interval = {}\n", globals.resolve_interval);
  }
  for (const InterfaceView& view : interfaces) {
    const InterfaceSettings& settings = view.settings;
    text += "\n[[interface]]\n";
    text += fmt::format("name = {}\n", Quote(view.name));
    if (settings.tunnel) {
      text += fmt::format("source = {}\n",
                          Quote(settings.tunnel->source.ToString()));
      text += fmt::format("destination = {}\n",
                          Quote(settings.tunnel->destination.ToString()));
    }
    if (!settings.domain.empty()) {
      text += fmt::format("domain = {}\n", Quote(settings.domain));
    }
    if (settings.mtu_auto) {
      text += "mtu = \"auto\"\n";
    } else {
      text += fmt::format("mtu = {}\n", settings.mtu);
    }
    text += fmt::format("lladdr = {}\n", Quote(settings.lladdr.ToString()));
    if (settings.header != HeaderMode::kStandard) {
      text += fmt::format("header = \"{}\"\n", HeaderModeName(settings.header));
    }
    if (!settings.master.empty()) {
      text += fmt::format("master = {}\n", Quote(settings.master));
    }
    if (settings.eoip) {
      text += fmt::format("eoip = {}\n", *settings.eoip);
      if (settings.keepalive != kDefaultKeepalive) {
        text += fmt::format("keepalive = {}\n", settings.keepalive);
      }
    }
    // Outer header options: only those that are not the defaults.
    if (settings.ttl != kOuterTtl) {
      text += fmt::format("ttl = {}\n", settings.ttl);
    }
    if (settings.df) text += "df = true\n";
    if (settings.tos.kind == OuterTos::Kind::kValue) {
      text += fmt::format("tos = {}\n", settings.tos.value);
    } else if (settings.tos.kind == OuterTos::Kind::kInherit) {
      text += "tos = \"inherit\"\n";
    }
    if (settings.fwmark != 0) {
      text += fmt::format("fwmark = {}\n", settings.fwmark);
    }
    text += fmt::format("up = {}\n", settings.up);
  }
  return text;
}

}  // namespace etherip::control
