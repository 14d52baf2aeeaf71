#include "linux_test_support.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace etherip::testing {
namespace {

std::atomic<unsigned> counter{0};

std::string NetnsPrefix() {
  return "eiptest-" + std::to_string(::getpid()) + "-";
}

// Belt and braces: at the end of the run (and on a test that returned
// early), delete any namespace of this process that a fixture left behind.
class LeftoverNetnsCleaner : public ::testing::Environment {
 public:
  void TearDown() override {
    if (::geteuid() != 0) return;
    auto list = Output("ls /run/netns 2>/dev/null");
    if (!list) return;
    std::istringstream names(*list);
    std::string name;
    const std::string prefix = NetnsPrefix();
    while (names >> name) {
      if (name.rfind(prefix, 0) == 0) Run("ip netns del " + name);
    }
  }
};

[[maybe_unused]] ::testing::Environment* const cleaner =
    ::testing::AddGlobalTestEnvironment(new LeftoverNetnsCleaner);

}  // namespace

std::string UniqueName(std::string_view prefix, size_t max_length) {
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "%x%02x",
                static_cast<unsigned>(::getpid()) & 0xffffff,
                counter.fetch_add(1) & 0xff);
  std::string_view tail(suffix);
  const size_t room =
      max_length > prefix.size() ? max_length - prefix.size() : 0;
  if (tail.size() > room) tail.remove_prefix(tail.size() - room);
  return std::string(prefix) + std::string(tail);
}

int Run(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

std::optional<std::string> Output(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
    text.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return std::nullopt;
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

uint64_t NetnsInodeOf(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_ino;
}

uint64_t ThreadNetnsInode() { return NetnsInodeOf("/proc/thread-self/ns/net"); }

uint64_t SocketNetnsInode(int fd) {
  const int ns = ::ioctl(fd, SIOCGSKNS);
  if (ns < 0) return 0;
  struct stat info;
  const bool ok = ::fstat(ns, &info) == 0;
  ::close(ns);
  return ok ? info.st_ino : 0;
}

TestNetns::TestNetns()
    : name_(NetnsPrefix() + std::to_string(counter.fetch_add(1))) {
  // Without root there is nothing to create (the test skips); do not even
  // try, to keep the output clean.
  if (::geteuid() != 0) return;
  ok_ = Run("ip netns add " + name_) == 0 && Ip("link set lo up") == 0;
}

TestNetns::~TestNetns() { Delete(); }

void TestNetns::Delete() {
  if (name_.empty()) return;
  if (ok_) Run("ip netns del " + name_);
  name_.clear();
  ok_ = false;
}

int TestNetns::Exec(const std::string& command) const {
  return Run("ip netns exec " + name_ + " " + command);
}

std::optional<std::string> TestNetns::ExecOutput(
    const std::string& command) const {
  return Output("ip netns exec " + name_ + " " + command);
}

int TestNetns::Ip(const std::string& args) const {
  return Run("ip -n " + name_ + " " + args);
}

std::optional<std::string> TestNetns::Sysfs(
    const std::string& ifname, const std::string& attribute) const {
  // `ip netns exec` mounts a /sys of the namespace for the command.
  return ExecOutput("cat /sys/class/net/" + ifname + "/" + attribute +
                    " 2>/dev/null");
}

std::optional<uint64_t> TestNetns::SnmpCounter(
    const std::string& section, const std::string& counter_name) const {
  if (section == "Ip6") {
    auto text = ExecOutput("cat /proc/net/snmp6");
    if (!text) return std::nullopt;
    std::istringstream lines(*text);
    std::string key;
    uint64_t value;
    while (lines >> key >> value) {
      if (key == section + counter_name) return value;
    }
    return std::nullopt;
  }
  // /proc/net/snmp: pairs of lines "Ip: Name Name ..." / "Ip: 1 2 ...".
  auto text = ExecOutput("cat /proc/net/snmp");
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::string names_line, values_line;
  while (std::getline(lines, names_line) && std::getline(lines, values_line)) {
    std::istringstream names(names_line), values(values_line);
    std::string name, value;
    names >> name;
    values >> value;
    if (name != section + ":") continue;
    while (names >> name && values >> value) {
      if (name == counter_name) return std::stoull(value);
    }
  }
  return std::nullopt;
}

}  // namespace etherip::testing
