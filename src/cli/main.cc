// etherip: the control tool of etheripd (SPEC 6). Parses the command line,
// sends one request over the control socket, prints the answer.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cli/command_line.h"
#include "cli/output.h"
#include "control/client.h"
#include "version.h"

namespace {

// Writes all of `text` to file descriptor `fd` with write(2), straight from
// the string (no stdio buffer: an answer may be megabytes); false when it
// could not (a full disk, a closed pipe), which a script must see as a
// failure.
bool Write(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// `show -r`: two `show` answers kRateSeconds apart, as rates; the time
// between them is measured, not assumed.
int ShowRates(const etherip::cli::CommandLine& command_line) {
  using namespace etherip;
  auto sample = [&]() -> Result<control::Response> {
    auto response =
        control::Call(command_line.socket_path, command_line.request);
    if (response && response->error) {
      return tl::unexpected(
          Error{response->error->code,
                cli::FormatFailure(*response->error, response->subject)});
    }
    return response;
  };
  auto before = sample();
  const auto first = std::chrono::steady_clock::now();
  if (before) {
    std::this_thread::sleep_for(
        std::chrono::duration<double>(cli::kRateSeconds));
  }
  auto after = before ? sample() : before;
  // Each sample's answer took about as long: the time between the two
  // answers is the time between the two readings.
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - first;
  if (!after) {
    const Error& error = after.error();
    Write(STDERR_FILENO, error.message.starts_with("etherip: ")
                             ? error.message
                             : cli::FormatFailure(error));
    return cli::kExitFailure;
  }
  const double seconds = std::max(elapsed.count(), cli::kRateSeconds);
  const std::string output = cli::FormatRates(
      before->interfaces, after->interfaces, seconds, command_line.json);
  return Write(STDOUT_FILENO, output) ? cli::kExitSuccess : cli::kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etherip;
  const std::vector<std::string> args(argv + 1, argv + argc);

  auto command_line = cli::ParseCommandLine(args);
  if (!command_line) {
    Write(STDERR_FILENO, cli::FormatUsageError(command_line.error()));
    return cli::kExitUsage;
  }
  if (command_line->version) {
    return Write(STDOUT_FILENO, fmt::format("etherip {}\n", kVersion))
               ? cli::kExitSuccess
               : cli::kExitFailure;
  }
  if (command_line->help) {
    return Write(STDOUT_FILENO, cli::Usage()) ? cli::kExitSuccess
                                              : cli::kExitFailure;
  }

  if (command_line->rates) return ShowRates(*command_line);

  auto response =
      control::Call(command_line->socket_path, command_line->request);
  if (!response) {
    Write(STDERR_FILENO, cli::FormatFailure(response.error()));
    return cli::kExitFailure;
  }
  if (response->error) {
    Write(STDERR_FILENO,
          cli::FormatFailure(*response->error, response->subject));
    return cli::kExitFailure;
  }
  auto output = cli::FormatResponse(command_line->request, std::move(*response),
                                    command_line->json);
  if (!output) {
    Write(STDERR_FILENO, cli::FormatFailure(output.error()));
    return cli::kExitFailure;
  }
  if (!Write(STDOUT_FILENO, *output)) {
    Write(STDERR_FILENO, "etherip: cannot write the output\n");
    return cli::kExitFailure;
  }
  return cli::kExitSuccess;
}
