#include "io/linux/netns_enter.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/linux/raised_capabilities.h"
#include "io/linux/system_error.h"

namespace etherip {

Result<NetnsEnter> NetnsEnter::Enter(std::string_view name,
                                     std::string_view directory) {
  if (name.empty()) return NetnsEnter(UniqueFd());
  auto path = NetnsPath(name, directory);
  if (!path) return tl::unexpected(path.error());

  UniqueFd target(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid()) {
    if (errno == ENOENT) {
      return Fail(EINVAL, fmt::format("domain {}: no such domain", name));
    }
    return FailSystem(errno, fmt::format("domain {}: open {}", name, *path));
  }
  // thread-self, not self: setns() moves only this thread, and it may
  // already differ from the main thread's namespace.
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original.valid()) {
    return FailSystem(errno,
                      fmt::format("domain {}: open current namespace", name));
  }
  // The daemon keeps CAP_SYS_ADMIN permitted but not effective
  // (daemon/privileges.h): it is effective for the setns() only.
  int error = 0;
  {
    RaisedCapabilities raised({CAP_SYS_ADMIN});
    if (::setns(target.get(), CLONE_NEWNET) != 0) error = errno;
  }
  if (error != 0) {
    return FailSystem(error, fmt::format("domain {}: setns", name));
  }
  return NetnsEnter(std::move(original));
}

Status NetnsEnter::Leave() {
  if (!original_.valid()) return {};
  int error = 0;
  {
    RaisedCapabilities raised({CAP_SYS_ADMIN});  // as in Enter
    if (::setns(original_.get(), CLONE_NEWNET) != 0) error = errno;
  }
  if (error != 0) {
    return FailSystem(error, "network namespace: return to the original");
  }
  original_.reset();
  return {};
}

NetnsEnter::~NetnsEnter() {
  if (auto left = Leave(); !left) {
    std::fprintf(stderr, "etherip: fatal: %s\n", left.error().message.c_str());
    std::abort();
  }
}

}  // namespace etherip
