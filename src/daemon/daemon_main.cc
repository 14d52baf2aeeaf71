#include "daemon/daemon_main.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "control/config_file.h"
#include "daemon/control_server.h"
#include "daemon/drop_logger.h"
#include "daemon/endpoint_resolver.h"
#include "daemon/forwarding_loop.h"
#include "daemon/interface_manager.h"
#include "daemon/log_text.h"
#include "daemon/metrics_server.h"
#include "daemon/privileges.h"
#include "daemon/request_handler.h"
#include "daemon/service_notifier.h"
#include "daemon/syscall_filter.h"
#include "io/linux/linux_host.h"
#include "io/linux/linux_resolver.h"
#include "io/linux/raised_capabilities.h"

namespace etherip {
namespace {

// How often running states and domains are re-checked.
constexpr int kRefreshMs = 1000;
// `mtu auto`: how long route changes settle before the MTUs that depend on
// them are recomputed; one change (`ip link set ... mtu`, `ip route
// replace`) comes as a burst of events.
constexpr int kRouteSettleMs = 100;
// A pass costs a route lookup per automatic interface of the domains that
// changed: the next one waits this many times as long as the last took,
// so that steady churn (thousands of automatic interfaces in the daemon's
// own namespace while TAPs come and go) keeps following at a bounded share
// of the control thread.
constexpr int kRoutePassSpacing = 9;
// Log records queued for the logging thread before the oldest are dropped.
// Each slot keeps the memory of the longest record it held: 1024 slots cost
// about 0.5 MB once the ring has gone round (8192 showed as +3 MB of RSS in
// scripts/soak).
constexpr size_t kLogQueueRecords = 1024;

Result<control::Config> ReadConfig(const DaemonOptions& options) {
  auto config = control::LoadConfig(options.config_path);
  if (!config && config.error().code == ENOENT && !options.config_given) {
    return control::Config{};  // no default file: start empty
  }
  return config;
}

// Logging never makes the daemon wait: records go through a queue to a
// logging thread (a full queue drops its oldest records), so a log
// destination that blocks (a pipe nobody reads, a stuck syslog) stalls
// only that thread, never forwarding or the control socket. A stderr that
// is a pipe or socket is made non-blocking too, so that even the logging
// thread (and exit, which waits for it) goes on when nobody reads.
void SetUpLogging(const DaemonOptions& options) {
  spdlog::init_thread_pool(kLogQueueRecords, 1);
  spdlog::sink_ptr sink;
  if (options.foreground) {
    struct stat info {};
    if (fstat(STDERR_FILENO, &info) == 0 &&
        (S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode))) {
      fcntl(STDERR_FILENO, F_SETFL, fcntl(STDERR_FILENO, F_GETFL) | O_NONBLOCK);
    }
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("etheripd", LOG_PID,
                                                           LOG_DAEMON, false);
  }
  // Every line through LogSafeSink: names and other text from outside
  // cannot forge, split or hide a line.
  auto logger = std::make_shared<spdlog::async_logger>(
      "etheripd", std::make_shared<LogSafeSink>(std::move(sink)),
      spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(options.foreground ? "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v"
                                         : "%v");
  spdlog::set_level(options.verbose ? spdlog::level::debug
                                    : spdlog::level::info);
  // Records reach the destination within a second even at low rates.
  spdlog::flush_every(std::chrono::seconds(1));
}

// Every interface holds a TAP fd: with the usual soft limit of 1024 open
// files, about a thousand tunnels would be the most a daemon could make.
// The hard limit is what the administrator allows; take all of it.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
    return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::debug("open files: soft limit raised from {} to {}", before,
                  limit.rlim_cur);
  }
}

// Forks; the parent waits until the child reports readiness on a pipe and
// exits with the child's verdict. Returns the write end in the child.
int Daemonize() {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid > 0) {
    close(pipe_fds[1]);
    char verdict = 1;
    const ssize_t n = read(pipe_fds[0], &verdict, 1);
    _exit(n == 1 && verdict == 0 ? 0 : 1);
  }
  close(pipe_fds[0]);
  setsid();
  if (chdir("/") != 0) {
    // "/" always exists; nothing useful to do.
  }
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    if (null_fd > STDERR_FILENO) close(null_fd);
  }
  return pipe_fds[1];
}

// The configuration's `user`, resolved; errors name FILE:LINE.
Result<std::optional<UserId>> UserOf(const control::Config& config,
                                     const std::string& path) {
  if (config.user.empty()) return std::optional<UserId>();
  auto user = ResolveUser(config.user);
  if (!user) {
    return Fail(
        user.error().code,
        fmt::format("{}:{}: {}", path, config.user_line, user.error().message));
  }
  return std::optional<UserId>(*user);
}

// Removes the control socket when the daemon ends, however RunDaemon
// returns: its directory (/run/etherip) belongs to root, and a daemon that
// runs as another user needs CAP_DAC_OVERRIDE to unlink in it.
class SocketRemover {
 public:
  explicit SocketRemover(std::unique_ptr<ControlServer>& server)
      : server_(server) {}
  ~SocketRemover() {
    RaisedCapabilities raised({CAP_DAC_OVERRIDE});
    server_.reset();
  }
  SocketRemover(const SocketRemover&) = delete;
  SocketRemover& operator=(const SocketRemover&) = delete;

 private:
  std::unique_ptr<ControlServer>& server_;
};

void ReportReady(int fd, bool ok) {
  if (fd < 0) return;
  const char verdict = ok ? 0 : 1;
  (void)!write(fd, &verdict, 1);
  close(fd);
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  // Signals are taken through a signalfd by the control loop; the forwarding
  // thread inherits the blocked mask. SIGPIPE never kills the daemon.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config = ReadConfig(options);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 1;
  }
  auto user = UserOf(*config, options.config_path);
  if (!user) {
    std::fprintf(stderr, "%s\n", user.error().message.c_str());
    return 1;
  }
  if (options.check_only) {
    std::fprintf(stdout, "%s: OK\n", options.config_path.c_str());
    return 0;
  }
  auto server = ControlServer::Listen(options.socket_path);
  if (!server) {
    std::fprintf(stderr, "etheripd: %s\n", server.error().message.c_str());
    return 1;
  }
  SocketRemover socket_remover(*server);
  // Who may use the socket, before anyone can connect to it in earnest (it
  // is born 0600).
  auto apply_access = [&](const std::optional<control::ControlGroup>& group) {
    return (*server)->SetAccess(
        group ? std::optional(group->gid) : std::nullopt,
        group ? group->name : std::string());
  };
  if (auto access = apply_access(config->control_group); !access) {
    std::fprintf(stderr, "etheripd: %s\n", access.error().message.c_str());
    return 1;
  }
  // The metrics listener binds now, while a port under 1024 is allowed.
  std::unique_ptr<MetricsServer> metrics;
  if (!config->metrics.empty()) {
    auto address = control::ParseListenAddress(config->metrics);
    auto bound = address ? MetricsServer::Bind(*address)
                         : Result<std::unique_ptr<MetricsServer>>(
                               tl::unexpected(address.error()));
    if (!bound) {
      std::fprintf(stderr, "etheripd: %s\n", bound.error().message.c_str());
      return 1;
    }
    metrics = std::move(*bound);
  }
  auto host = LinuxHost::Open();
  if (!host) {
    std::fprintf(stderr, "etheripd: %s\n", host.error().message.c_str());
    return 1;
  }
  // What needs more than the kept capabilities is done (the control socket
  // with its owner and mode, the /run/netns watch); no thread exists yet,
  // so every thread started from here on inherits the reduced set.
  auto dropped = DropPrivileges(*user);
  if (!dropped) {
    std::fprintf(stderr, "etheripd: %s\n", dropped.error().message.c_str());
    return 1;
  }
  const int ready_fd = options.foreground ? -1 : Daemonize();
  SetUpLogging(options);
  spdlog::info("{}", *dropped);
  RaiseOpenFileLimit();

  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  GlobalCounters counters;
  std::atomic<bool> allow{false};
  DropLogger drop_logger;
  ForwardingLoop loop(counters, allow, &drop_logger,
                      std::chrono::microseconds(options.busy_poll_us));
  if (auto started = loop.Start(); !started) {
    spdlog::error("{}", started.error().message);
    ReportReady(ready_fd, false);
    return 1;
  }
  // Host names and zones are looked up on a thread of their own: a lookup
  // may wait on DNS, and the control and forwarding threads never do.
  EndpointResolver resolver(std::make_shared<LinuxResolver>());
  resolver.SetInterval(std::chrono::seconds(config->resolve_interval));
  if (auto started = resolver.Start(); !started) {
    spdlog::error("{}", started.error().message);
    ReportReady(ready_fd, false);
    return 1;
  }
  InterfaceManager manager(
      **host, loop, counters, allow,
      InterfaceManager::Options{options.config_path,
                                LinkGroupFor(options.socket_path), true,
                                &resolver});

  ServiceNotifier notifier;
  auto tally = [&] {
    const auto [interfaces, running] = manager.CountRunning();
    return InterfaceTally{interfaces, running};
  };

  // A changed control_group applies at once, to open connections too; a
  // reload refused for any reason leaves the old one.
  auto apply_reload = [&]() -> Status {
    Result<control::Config> fresh;
    {
      // A configuration file only root may read (CAP_DAC_OVERRIDE is kept
      // for `save` anyway; see privileges.cc).
      RaisedCapabilities raised({CAP_DAC_OVERRIDE});
      fresh = ReadConfig(options);
    }
    if (!fresh) return tl::unexpected(fresh.error());
    const ControlAccess before = (*server)->access();
    if (auto access = apply_access(fresh->control_group); !access) {
      return access;
    }
    auto replaced = manager.Replace(*fresh, options.config_path);
    if (!replaced) {
      (void)(*server)->SetAccess(before.group, before.group_name);
      return replaced;
    }
    if (const size_t revoked = (*server)->RevokeRefused(); revoked > 0) {
      spdlog::info(
          "control: closing {} connections the new control_group does not "
          "admit",
          revoked);
    }
    return replaced;
  };
  // SIGHUP and `etherip reload` alike; systemd sees it begin and end.
  auto reload = [&]() -> Status {
    notifier.Reloading();
    auto done = apply_reload();
    if (notifier.active()) {
      notifier.Reloaded(tally(), done ? "" : done.error().message);
    }
    return done;
  };
  if (auto applied = manager.Start(*config, options.config_path); !applied) {
    spdlog::error("{}", applied.error().message);
    if (options.foreground) {
      std::fprintf(stderr, "%s\n", applied.error().message.c_str());
    }
    ReportReady(ready_fd, false);
    return 1;
  }
  // Last: everything that needs a call outside the list has been done, and
  // TSYNC puts the filter on the threads that exist (forwarding, logging,
  // device reaper) as well.
  if (!options.syscall_filter) {
    spdlog::warn("system call filter: off (--no-seccomp)");
  } else if (!SyscallFilterAvailable()) {
    spdlog::info("system call filter: off (sanitizer build)");
  } else if (auto filtered = InstallSyscallFilter(); !filtered) {
    spdlog::error("{}", filtered.error().message);
    if (options.foreground) {
      std::fprintf(stderr, "etheripd: %s\n", filtered.error().message.c_str());
    }
    ReportReady(ready_fd, false);
    return 1;
  } else {
    spdlog::info(
        "system call filter: {} calls allowed, socket() for {} address "
        "families and ioctl() for {} requests; others fail with EPERM",
        AllowedSyscalls().size(), AllowedSocketFamilies().size(),
        AllowedIoctlRequests().size());
  }
  spdlog::info("etheripd started: socket {}, configuration {}, allow {}",
               options.socket_path, options.config_path, allow.load() ? 1 : 0);
  if (!allow.load()) {
    spdlog::info(
        "allow is off: received EtherIP packets are dropped until "
        "`etherip allow 1` (or `allow = true` in the configuration file)");
  }
  if (metrics) {
    metrics->Publish(manager.CounterSources());
    metrics->Start(counters, allow);
    spdlog::info("metrics: http://{}/metrics", config->metrics);
  }
  ReportReady(ready_fd, true);
  if (notifier.active()) notifier.Ready(tally());

  RequestHandler handler(manager, reload);
  auto handle_line = [&](std::string_view line) {
    return handler.HandleLine(line);
  };

  std::vector<pollfd> fds;
  auto last_refresh = std::chrono::steady_clock::now();
  // When the pending route changes are followed (FollowRoutes); max():
  // none are pending.
  constexpr auto kNever = std::chrono::steady_clock::time_point::max();
  auto follow_routes_at = kNever;
  std::chrono::steady_clock::duration last_pass{};
  constexpr size_t kFixedFds = 6;
  for (;;) {
    fds.clear();
    fds.push_back({signal_fd, POLLIN, 0});
    fds.push_back({loop.failure_fd(), POLLIN, 0});
    fds.push_back({(*host)->link_events_fd(), POLLIN, 0});
    fds.push_back({(*host)->domain_events_fd(), POLLIN, 0});
    fds.push_back({(*host)->route_events_fd(), POLLIN, 0});
    fds.push_back({resolver.fd(), POLLIN, 0});
    (*server)->CollectPollFds(fds);
    const auto before_poll = std::chrono::steady_clock::now();
    auto until_wake =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            last_refresh + std::chrono::milliseconds(kRefreshMs) - before_poll)
            .count();
    if (follow_routes_at != kNever) {
      until_wake = std::min<long>(
          until_wake, std::chrono::duration_cast<std::chrono::milliseconds>(
                          follow_routes_at - before_poll)
                              .count() +
                          1);
    }
    const int n = poll(fds.data(), fds.size(),
                       (*server)->NextTimeoutMs(static_cast<int>(
                           std::clamp<long>(until_wake, 0, kRefreshMs))));
    const auto polled_at = std::chrono::steady_clock::now();
    if (n < 0 && errno != EINTR) {
      spdlog::error("poll: {}", strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      bool stop = false;
      while (read(signal_fd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGHUP) {
          spdlog::info("SIGHUP: reloading {}", options.config_path);
          if (auto done = reload(); !done) {
            spdlog::error("reload refused: {}", done.error().message);
          }
        } else {
          spdlog::info("{}: removing interfaces and exiting",
                       strsignal(static_cast<int>(info.ssi_signo)));
          stop = true;
        }
      }
      if (stop) break;
    }
    if (fds[1].revents & POLLIN) {
      const auto failures = loop.TakeFailures();
      manager.HandleFailures(failures.devices, failures.sockets);
    }
    if (fds[2].revents & POLLIN) manager.HandleLinkEvents();
    bool refresh = fds[3].revents & POLLIN;
    if (fds[4].revents & POLLIN) manager.HandleRouteEvents();
    // Domains came or went: zones may now name other interface indexes.
    if (refresh) resolver.ResolveAllNow();
    if (fds[5].revents & POLLIN) {
      manager.ApplyResolutions(resolver.TakeAnswers());
    }
    (*server)->Dispatch(std::span<const pollfd>(fds).subspan(kFixedFds),
                        handle_line);
    (*server)->ExpireIdle(polled_at);
    // Requests keep carriers and sockets right themselves; this catches
    // what changes behind the daemon's back (domains): at once when
    // /run/netns changes, and once a second (a new namespace is mounted
    // on its file a moment after the file appears).
    const auto now = std::chrono::steady_clock::now();
    if (refresh ||
        now - last_refresh >= std::chrono::milliseconds(kRefreshMs)) {
      manager.Refresh();
      last_refresh = now;
      if (notifier.active()) notifier.Status(tally());
      // Names and states at most a second old; counters always live.
      if (metrics) metrics->Publish(manager.CounterSources());
    }
    // Route changes (and domains newly watched) settle, then the automatic
    // MTUs that depend on them are recomputed once.
    if (manager.routes_pending() && follow_routes_at == kNever) {
      follow_routes_at = now + std::chrono::milliseconds(kRouteSettleMs) +
                         kRoutePassSpacing * last_pass;
    }
    if (now >= follow_routes_at) {
      follow_routes_at = kNever;
      manager.FollowRoutes();
      last_pass = std::chrono::steady_clock::now() - now;
    }
  }
  notifier.Stopping();
  metrics.reset();  // before the counters it reads go
  manager.Shutdown();
  resolver.Stop();
  loop.Stop();
  close(signal_fd);
  spdlog::info("etheripd stopped");
  spdlog::shutdown();  // the queued records go out before exit
  return 0;
}

}  // namespace etherip
