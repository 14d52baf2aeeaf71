// Fuzzes the command line of `etherip` (SPEC 6): the input is split at NUL
// bytes into argv words. ParseCommandLine must return a value (never throw,
// never crash); a usage error carries a message and a synopsis; what it
// accepts must be well formed (create and set carry OPTION words that parse),
// survive the control protocol's encode/decode round trip, and parse back to
// the same CommandLine from its canonical spelling
// (--socket=PATH [-j] COMMAND [IFNAME] [OPTION...|0|1]).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line.h"
#include "control/protocol.h"
#include "core/interface_options.h"
#include "fuzz_check.h"

namespace {

using namespace etherip;
using fuzz::Check;
using namespace etherip::cli;
using control::Op;

std::vector<std::string> SplitWords(std::string_view input) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= input.size() && words.size() < 64) {
    const size_t end = std::min(input.find('\0', start), input.size());
    words.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// The canonical argv of an accepted command line.
std::vector<std::string> Canonical(const CommandLine& command_line) {
  std::vector<std::string> words = {"--socket=" + command_line.socket_path};
  if (command_line.json) words.push_back("-j");
  const control::Request& request = command_line.request;
  words.emplace_back(control::OpName(request.op));
  switch (request.op) {
    case Op::kCreate:
    case Op::kSet:
      words.push_back(request.name);
      words.insert(words.end(), request.options.begin(), request.options.end());
      break;
    case Op::kDestroy:
      words.push_back(request.name);
      break;
    case Op::kShow:
      if (!request.name.empty()) words.push_back(request.name);
      break;
    case Op::kAllow:
      if (request.allow) words.push_back(*request.allow ? "1" : "0");
      break;
    default:
      break;
  }
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> words = SplitWords(input);
  auto parsed = ParseCommandLine(words);
  if (!parsed) {
    Check(!parsed.error().message.empty());
    Check(!parsed.error().synopsis.empty());
    Check(FormatUsageError(parsed.error()).starts_with("etherip: "));
    return 0;
  }
  if (parsed->help) return 0;
  const control::Request& request = parsed->request;
  if (request.op == Op::kCreate || request.op == Op::kSet) {
    Check(ParseInterfaceOptions(request.options).has_value());
    if (request.op == Op::kSet) Check(!request.options.empty());
  } else {
    Check(request.options.empty());
  }
  if (request.op != Op::kAllow) Check(!request.allow.has_value());

  // What goes on the wire comes back unchanged.
  auto decoded = control::DecodeRequest(control::EncodeRequest(request));
  Check(decoded.has_value());
  Check(*decoded == request);

  // The canonical spelling means the same.
  auto again = ParseCommandLine(Canonical(*parsed));
  Check(again.has_value());
  Check(again->socket_path == parsed->socket_path);
  Check(again->json == parsed->json);
  Check(!again->help);
  Check(again->request == request);
  return 0;
}
