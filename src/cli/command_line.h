// The command line of `etherip` (SPEC 6):
//   etherip [-s SOCKET] [-j] COMMAND [ARGS]
// turned into a control request, or into a usage error (exit status 2).
#pragma once

#include <span>
#include <string>
#include <tl/expected.hpp>

#include "control/client.h"
#include "control/protocol.h"

namespace etherip::cli {

// Exit statuses (SPEC 6).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // refused, unreachable, not permitted
inline constexpr int kExitUsage = 2;    // unknown command or option, ...

struct CommandLine {
  std::string socket_path = control::kDefaultSocketPath;
  bool json = false;
  bool help = false;     // -h or --help: print Usage() and exit 0; no request
  bool version = false;  // --version: print the release and exit 0
  // show -r: sample the interfaces' counters twice, kRateSeconds apart, and
  // print packet and bit rates instead.
  bool rates = false;
  control::Request request;
};

inline constexpr double kRateSeconds = 1.0;

struct UsageError {
  std::string message;   // what is wrong, e.g. "frob: unknown command"
  std::string synopsis;  // the usage line that applies, without "usage: "
};

// `args` are the words after the program name. The global options -s and -j
// come before COMMAND; for convenience they are also accepted after it,
// except among the OPTION words of create and set (whose "-tunnel" and
// "-domain" look like options). OPTION words are checked for syntax only
// (unknown keyword, missing argument); their values and IFNAME are the
// daemon's to judge, so that a bad value is a refusal (exit status 1).
tl::expected<CommandLine, UsageError> ParseCommandLine(
    std::span<const std::string> args);

// The full help text, for -h.
std::string Usage();

// What etherip prints on stderr for a usage error:
// "etherip: MESSAGE\nusage: SYNOPSIS\n".
std::string FormatUsageError(const UsageError& error);

}  // namespace etherip::cli
