// Helpers for tests of the Linux I/O layer: root checks, unique names, and
// network namespaces that are removed even when an assertion fails.
//
// Everything a test creates lives in namespaces it created ("eiptest-PID-N")
// and carries documentation addresses only; deleting the namespace deletes
// the links in it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etherip::testing {

// In a test body or SetUp(): skips the test unless running as root.
#define ETHERIP_REQUIRE_ROOT(why)              \
  do {                                         \
    if (::geteuid() != 0) {                    \
      GTEST_SKIP() << "needs root: " << (why); \
    }                                          \
  } while (0)

// A name unique to this process and call: PREFIX + pid + counter in hex,
// at most `max_length` bytes (the suffix loses its leading digits first).
// Interface names use the default 15.
std::string UniqueName(std::string_view prefix, size_t max_length = 15);

// Runs `command` with /bin/sh; returns its exit status (-1 if it did not
// exit normally). Commands are built from test-controlled names only.
int Run(const std::string& command);
// Runs `command` and returns its standard output without the trailing
// newline, or nullopt when it fails.
std::optional<std::string> Output(const std::string& command);

// The inode of the calling thread's network namespace, or of the namespace
// file `path` (e.g. /run/netns/NAME); 0 on error.
uint64_t ThreadNetnsInode();
uint64_t NetnsInodeOf(const std::string& path);
// The inode of the namespace socket `fd` belongs to (SIOCGSKNS).
uint64_t SocketNetnsInode(int fd);

// A network namespace made with `ip netns add` and deleted with
// `ip netns del` when the object goes away. Its loopback is brought up.
class TestNetns {
 public:
  TestNetns();
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  // Whether `ip netns add` succeeded (never without root); check with
  // ASSERT_TRUE(ns.ok()).
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  // Deletes the namespace now (the destructor then does nothing).
  void Delete();

  // `ip netns exec NAME COMMAND`: runs with this namespace's own /sys.
  int Exec(const std::string& command) const;
  std::optional<std::string> ExecOutput(const std::string& command) const;
  // `ip -n NAME ARGS`.
  int Ip(const std::string& args) const;

  // /sys/class/net/IFNAME/ATTRIBUTE as seen inside the namespace.
  std::optional<std::string> Sysfs(const std::string& ifname,
                                   const std::string& attribute) const;
  // A counter of /proc/net/snmp ("Ip", "ReasmOKs") or /proc/net/snmp6
  // (section "Ip6", "ReasmOKs" reads "Ip6ReasmOKs"); nullopt if missing.
  std::optional<uint64_t> SnmpCounter(const std::string& section,
                                      const std::string& counter) const;

 private:
  std::string name_;
  bool ok_ = false;
};

// Polls `predicate` every 10 ms for up to `timeout_ms`.
template <typename Predicate>
bool WaitFor(Predicate predicate, int timeout_ms = 2000) {
  for (int waited = 0;; waited += 10) {
    if (predicate()) return true;
    if (waited >= timeout_ms) return false;
    ::usleep(10000);
  }
}

}  // namespace etherip::testing
