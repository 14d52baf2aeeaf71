// The system call filter refuses what is not on its list and lets the rest
// through. Each test installs it in a child process (a death test: gtest
// forks and waits), so the test program itself is never filtered.
#include "daemon/syscall_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string_view>
#include <thread>

namespace etherip {
namespace {

// Exit statuses of the child, one per check, so a failure names its check.
enum Verdict : int {
  kOk = 0,
  kNoNewPrivs = 10,
  kInstall,
  kPtraceNotRefused,
  kMountNotRefused,
  kExecveNotRefused,
  kUnshareNotRefused,
  kGetpidRefused,
  kSocketRefused,
  kPipeRefused,
  kForkNotRefused,
  kThreadRefused,
  kLookupRefused,
  kPacketSocketNotRefused,
  kIoctlRefused,
  kTerminalIoctlNotRefused,
};

// Runs in the child: installs the filter, then tries calls on and off the
// list. Never returns.
[[noreturn]] void FilterAndProbe() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kNoNewPrivs);
  if (!InstallSyscallFilter()) _exit(kInstall);
  // Off the list: refused with EPERM, the process goes on.
  errno = 0;
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != -1 || errno != EPERM) {
    _exit(kPtraceNotRefused);
  }
  errno = 0;
  if (mount("none", "/", "tmpfs", 0, nullptr) != -1 || errno != EPERM) {
    _exit(kMountNotRefused);
  }
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  errno = 0;
  if (syscall(SYS_execve, "/bin/true", argv, environ) != -1 || errno != EPERM) {
    _exit(kExecveNotRefused);
  }
  errno = 0;
  if (syscall(SYS_unshare, 0) != -1 || errno != EPERM) {
    _exit(kUnshareNotRefused);
  }
  // clone() without CLONE_THREAD: a new process, refused.
  errno = 0;
  if (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM) {
    _exit(kForkNotRefused);
  }
  // A thread (clone3 refused with ENOSYS, then clone with CLONE_THREAD).
  // pthread_create, not std::thread: it reports failure as a value.
  pthread_t thread;
  bool ran = false;
  if (pthread_create(
          &thread, nullptr,
          [](void* flag) -> void* {
            *static_cast<bool*>(flag) = true;
            return nullptr;
          },
          &ran) != 0 ||
      pthread_join(thread, nullptr) != 0) {
    _exit(kThreadRefused);
  }
  if (!ran) _exit(kThreadRefused);
  // On the list: they work.
  if (syscall(SYS_getpid) != getpid()) _exit(kGetpidRefused);
  for (int family : {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}) {
    const int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) _exit(kSocketRefused);
    close(fd);
  }
  // Other families are not (a packet socket could see every frame).
  errno = 0;
  if (socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 || errno != EPERM) {
    _exit(kPacketSocketNotRefused);
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) _exit(kPipeRefused);
  // ioctl() by request: a TAP request on a socket reaches the kernel (which
  // answers it is not a TAP device: not EPERM); a terminal's is refused.
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  errno = 0;
  if (ioctl(sock, TUNGETIFF, &request) != -1 || errno == EPERM) {
    _exit(kIoctlRefused);
  }
  char byte = 'x';
  errno = 0;
  if (ioctl(sock, TIOCSTI, &byte) != -1 || errno != EPERM) {
    _exit(kTerminalIoctlNotRefused);
  }
  close(sock);
  // What the resolver thread does for host names and zones, first done
  // under the filter (NSS set-up included): localhost is in every hosts
  // file, so no DNS query leaves.
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo("localhost", nullptr, &hints, &found) != 0) {
    _exit(kLookupRefused);
  }
  freeaddrinfo(found);
  if (if_nametoindex("lo") == 0) _exit(kLookupRefused);
  _exit(kOk);
}

TEST(SyscallFilter, RefusesCallsOffTheListWithEpermAndAllowsTheRest) {
  if (!SyscallFilterAvailable()) {
    GTEST_SKIP() << "sanitizer build: the daemon installs no filter";
  }
  EXPECT_EXIT(FilterAndProbe(), testing::ExitedWithCode(kOk), "");
}

TEST(SyscallFilter, ListsTheCallsTheDaemonNeedsAndNotTheDangerousOnes) {
  const auto allowed = AllowedSyscalls();
  auto has = [&](std::string_view name) {
    return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
  };
  for (std::string_view needed :
       {"setns", "sendmmsg", "recvmmsg", "futex", "epoll_wait", "capset",
        "fchown", "rename", "unlink", "getrandom", "exit_group", "uname",
        "pread64"}) {
    EXPECT_TRUE(has(needed)) << needed;
  }
  for (std::string_view refused :
       {"execve", "execveat", "ptrace", "mount", "unshare", "setuid",
        "init_module", "bpf", "kexec_load", "clone3", "socket", "ioctl"}) {
    EXPECT_FALSE(has(refused)) << refused;
  }
  // socket() has rules of its own, by address family.
  const auto families = AllowedSocketFamilies();
  EXPECT_EQ(std::set<int>(families.begin(), families.end()),
            (std::set<int>{AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}));
  // ioctl() too, by request: the TAP device's, and no link changes.
  const auto requests = AllowedIoctlRequests();
  const std::set<unsigned long> ioctls(requests.begin(), requests.end());
  for (unsigned long needed : std::initializer_list<unsigned long>{
           TUNSETIFF, TUNSETOFFLOAD, TUNSETCARRIER, TUNSETPERSIST,
           SIOCGIFINDEX}) {
    EXPECT_TRUE(ioctls.contains(needed)) << needed;
  }
  for (unsigned long refused : std::initializer_list<unsigned long>{
           SIOCSIFFLAGS, SIOCSIFMTU, SIOCSIFADDR, TIOCSTI, TUNSETGROUP}) {
    EXPECT_FALSE(ioctls.contains(refused)) << refused;
  }
}

}  // namespace
}  // namespace etherip
