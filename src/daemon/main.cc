// etheripd: the EtherIP daemon (SPEC 6).
#include <CLI/CLI.hpp>

#include "daemon/daemon_main.h"
#include "version.h"

int main(int argc, char** argv) {
  etherip::DaemonOptions options;
  CLI::App app{"etheripd: EtherIP (RFC 3378) tunnels on TAP interfaces",
               "etheripd"};
  app.add_flag("-f", options.foreground,
               "stay in the foreground, log to stderr");
  auto* config = app.add_option("-c", options.config_path,
                                "configuration file (default "
                                "/etc/etherip/etheripd.conf)");
  app.add_option("-s", options.socket_path,
                 "control socket (default /run/etherip/etheripd.sock)");
  app.add_flag("-v", options.verbose, "more logging");
  app.add_flag("-t", options.check_only,
               "check the configuration file and exit (0, or 1 with "
               "FILE:LINE)");
  app.add_option("-p", options.busy_poll_us,
                 "after traffic, poll this many microseconds before sleeping "
                 "(0: off)")
      ->check(CLI::Range(0, 1'000'000));
  app.set_version_flag("--version",
                       "etheripd " + std::string(etherip::kVersion),
                       "print the release and exit");
  bool no_seccomp = false;
  app.add_flag("--no-seccomp", no_seccomp,
               "do not install the system call filter (for debugging)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }
  options.config_given = config->count() > 0;
  options.syscall_filter = !no_seccomp;
  return etherip::RunDaemon(options);
}
