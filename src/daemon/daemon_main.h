// etheripd's life: options, configuration, control socket, the forwarding
// thread, signals. main.cc only calls RunDaemon.
#pragma once

#include <string>

namespace etherip {

struct DaemonOptions {
  bool foreground = false;
  bool verbose = false;
  // How long the forwarding thread keeps polling after traffic before it
  // sleeps (ForwardingLoop); 0, the default, turns busy polling off.
  int busy_poll_us = 0;
  std::string config_path = "/etc/etherip/etheripd.conf";
  bool config_given = false;  // -c: the file must exist
  std::string socket_path = "/run/etherip/etheripd.sock";
  // --no-seccomp turns it off, for debugging (syscall_filter.h).
  bool syscall_filter = true;
  // -t: check the configuration file (as a start would) and exit: 0, or 1
  // with FILE:LINE on stderr. Nothing else is touched.
  bool check_only = false;
};

// Returns the process exit status.
int RunDaemon(const DaemonOptions& options);

}  // namespace etherip
