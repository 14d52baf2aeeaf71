#include "daemon/syscall_filter.h"

#include <fmt/format.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace etherip {
namespace {

// What the daemon does after start-up, and the calls each part makes,
// found by reading the code and by tracing the whole e2e suite (strace -f
// after the seccomp() call, and the kernel's log of refused calls). Start-up
// itself (daemonizing, binding the control socket, the inotify watch, the
// first interfaces) runs before the filter and is not here. (By hand: one
// group per comment; clang-format would give every name a line.)
// clang-format off
constexpr std::string_view kAllowed[] = {
    // Memory: malloc, thread stacks, spdlog's buffers.
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    // Threads and their synchronisation (std::thread, std::mutex,
    // condition variables, glibc's per-thread set-up), sleeping (the
    // device reaper, spdlog's flusher) and clocks (timeouts, log stamps).
    // clone() too, but only for threads: see InstallSyscallFilter.
    "futex", "set_robust_list", "rseq", "sched_yield",
    "sched_getaffinity", "gettid", "getpid", "nanosleep", "clock_nanosleep",
    "clock_gettime", "gettimeofday", "restart_syscall", "exit", "exit_group",
    // Signals: the signalfd the control loop reads, handlers' returns, and
    // abort() (NetnsEnter's last resort) raising SIGABRT.
    "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "tgkill",
    "signalfd4",
    // Event loops: the control loop's poll, the forwarding thread's epoll
    // and its wake-up eventfd, the epoll of the route watches (`mtu auto`:
    // one rtnetlink watch per domain, opened inside it with setns).
    "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "eventfd2",
    // File descriptors: TAP reads and writes (readv/writev with virtio-net
    // headers), the /run/netns inotify fd, the control connections, logging
    // to stderr.
    "read", "write", "readv", "writev", "close", "dup", "dup3", "fcntl",
    "lseek", "pipe2",
    // ioctl() has rules of its own, by request: see kIoctlRequests.
    // Files: domains (/run/netns/NAME, /proc/thread-self/ns/net), the
    // disable_ipv6 sysctl, reading the configuration file (reload), `save`
    // (temporary file, fchmod, fchown, fsync, rename, the symbolic links of
    // its path) and removing the control socket at exit.
    "openat", "open", "stat", "lstat", "fstat", "newfstatat", "statx",
    "readlink", "readlinkat", "getdents64", "fchown", "fchmod", "fsync",
    // control_group changed by a reload: the socket's group and mode.
    "chmod", "fchmodat", "lchown", "fchownat",
    "fdatasync", "rename", "renameat", "renameat2", "unlink", "unlinkat",
    "flock",
    // Domains: setns() in and out, with CAP_SYS_ADMIN raised and lowered
    // around it (capget/capset).
    "setns", "capget", "capset",
    // Sockets: the raw protocol-97 sockets (sendmmsg/recvmmsg; setsockopt
    // IP(V6)_MTU_DISCOVER switches their DF mode for `df` tunnels),
    // rtnetlink (libmnl: bind, sendto, recvfrom/recvmsg, setsockopt), the
    // control socket's connections, syslog (connect to /dev/log). socket()
    // itself only for the families in kSocketFamilies (see
    // InstallSyscallFilter).
    "bind", "connect", "accept", "accept4", "shutdown",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
    "setsockopt", "getsockopt", "getsockname", "getpeername",
    // The metrics listener (cpp-httplib) waits for connections and data
    // with select(); sd_notify sends one datagram (sendmsg, above).
    "select", "pselect6",
    // glibc and the C++ library: std::random_device and random MACs,
    // identity for log records.
    "getrandom", "getuid", "geteuid", "getgid", "getegid", "prlimit64",
    "getrlimit",
    // Host-name endpoints (the resolver thread's getaddrinfo): reading
    // /etc/hosts, /etc/nsswitch.conf, /etc/resolv.conf and /etc/gai.conf
    // (openat, read, fstat, close above), DNS over UDP and TCP and nscd's
    // UNIX socket (socket, connect, sendmmsg, recvfrom, poll), the
    // default search domain from the host name (uname), and NSS modules
    // loaded on first use (openat, mmap, mprotect above; pread64 of their
    // ELF notes). Zones: if_nametoindex (socket; ioctl SIOCGIFINDEX in
    // kIoctlRequests).
    "uname", "pread64",
};
// clang-format on

// The address families socket() may create: AF_UNIX (syslog, nscd,
// if_nametoindex's helper socket), AF_INET and AF_INET6 (the raw
// protocol-97 sockets, DNS, getaddrinfo's address sorting) and AF_NETLINK
// (rtnetlink, getaddrinfo's look at the local addresses). No packet
// sockets, no other protocol families.
constexpr int kSocketFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

// The requests ioctl() may make: the TAP device's (TUNSETIFF, offloads,
// virtio-net headers, carrier, persistence), the interface lookups of
// if_nametoindex and if_indextoname (zones), FIONREAD (glibc's resolver
// sizes each DNS answer with it), and TCGETS, with which glibc and spdlog
// ask whether a stream is a terminal. Nothing that changes a link (that
// is rtnetlink's) or writes to a terminal (TIOCSTI).
constexpr unsigned long kIoctlRequests[] = {
    TUNSETIFF,    TUNGETIFF,     TUNSETOFFLOAD, TUNSETVNETHDRSZ,
    TUNSETVNETLE, TUNSETCARRIER, TUNSETPERSIST, SIOCGIFINDEX,
    SIOCGIFNAME,  FIONREAD,      TCGETS,
};

// The verdict of a call outside the list. EPERM rather than killing the
// process: a rare call the list missed then fails like a refused
// permission, which every caller already handles and reports, instead of
// taking every tunnel down; and the kernel logs it (SCMP_FLTATR_CTL_LOG),
// so it is found.
constexpr uint32_t kDefaultAction = SCMP_ACT_ERRNO(EPERM);

Status Failed(int rc, std::string_view step) {
  return Fail(-rc,
              fmt::format("system call filter: {}: {}", step, strerror(-rc)));
}

}  // namespace

std::span<const std::string_view> AllowedSyscalls() { return kAllowed; }

std::span<const int> AllowedSocketFamilies() { return kSocketFamilies; }

std::span<const unsigned long> AllowedIoctlRequests() { return kIoctlRequests; }

bool SyscallFilterAvailable() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return false;
#else
  return true;
#endif
}

Status InstallSyscallFilter() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> context(
      seccomp_init(kDefaultAction), seccomp_release);
  if (context == nullptr) return Fail(ENOMEM, "system call filter: init");
  int rc;
  if ((rc = seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
    return Failed(rc, "TSYNC");
  }
  // The kernel logs refused calls (audit, or the kernel log without it):
  // the list's misses show there. Kernels without it still filter.
  (void)seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_LOG, 1);
  for (std::string_view name : kAllowed) {
    const int number = seccomp_syscall_resolve_name(std::string(name).c_str());
    if (number == __NR_SCMP_ERROR) continue;  // not on this architecture
    if ((rc = seccomp_rule_add(context.get(), SCMP_ACT_ALLOW, number, 0)) < 0) {
      return Failed(rc, fmt::format("allow {}", name));
    }
  }
  for (int family : kSocketFamilies) {
    if ((rc = seccomp_rule_add(
             context.get(), SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
             // datum_b, unused by EQ, given: clang warns of it otherwise.
             SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family), 0))) < 0) {
      return Failed(rc, fmt::format("allow socket({})", family));
    }
  }
  for (unsigned long request : kIoctlRequests) {
    // The kernel takes the request as 32 bits: compare only those.
    if ((rc = seccomp_rule_add(
             context.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                     static_cast<scmp_datum_t>(request)))) < 0) {
      return Failed(rc, fmt::format("allow ioctl({:#x})", request));
    }
  }
  // clone() for threads only (CLONE_THREAD set): no new process (fork),
  // and so no new user or PID namespace either (the kernel refuses them
  // with CLONE_THREAD; the others take CAP_SYS_ADMIN).
  if ((rc = seccomp_rule_add(
           context.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
           SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0) {
    return Failed(rc, "allow clone");
  }
  // clone3 takes its flags in memory a filter cannot read: ENOSYS makes
  // glibc fall back to clone(), filtered above.
  if ((rc = seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(ENOSYS),
                             SCMP_SYS(clone3), 0)) < 0) {
    return Failed(rc, "clone3");
  }
  if ((rc = seccomp_load(context.get())) < 0) return Failed(rc, "load");
  return {};
}

}  // namespace etherip
