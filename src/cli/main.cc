// etherip: the control tool of etheripd (SPEC 6). Parses the command line,
// sends one request over the control socket, prints the answer.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/output.h"
#include "control/client.h"

namespace {

// Writes all of `text` to `stream`; false when it could not (a full disk,
// a closed pipe), which a script must see as a failure.
bool Write(std::FILE* stream, const std::string& text) {
  if (!text.empty() &&
      std::fwrite(text.data(), 1, text.size(), stream) != text.size()) {
    return false;
  }
  return std::fflush(stream) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etherip;
  const std::vector<std::string> args(argv + 1, argv + argc);

  auto command_line = cli::ParseCommandLine(args);
  if (!command_line) {
    Write(stderr, cli::FormatUsageError(command_line.error()));
    return cli::kExitUsage;
  }
  if (command_line->help) {
    return Write(stdout, cli::Usage()) ? cli::kExitSuccess : cli::kExitFailure;
  }

  auto response =
      control::Call(command_line->socket_path, command_line->request);
  if (!response) {
    Write(stderr, cli::FormatFailure(response.error()));
    return cli::kExitFailure;
  }
  if (response->error) {
    Write(stderr, cli::FormatFailure(*response->error, response->subject));
    return cli::kExitFailure;
  }
  auto output =
      cli::FormatResponse(command_line->request, *response, command_line->json);
  if (!output) {
    Write(stderr, cli::FormatFailure(output.error()));
    return cli::kExitFailure;
  }
  if (!Write(stdout, *output)) {
    Write(stderr, "etherip: cannot write the output\n");
    return cli::kExitFailure;
  }
  return cli::kExitSuccess;
}
