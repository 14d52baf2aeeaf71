#include "io/linux/raised_capabilities.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace etherip {
namespace {

// The calling thread's capability sets, through the system calls rather
// than a library: this runs on every setns() and file replacement, and
// needs no state beyond the thread's own.
struct ThreadCapabilities {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

bool Get(ThreadCapabilities& out) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  out.effective = data[0].effective | uint64_t{data[1].effective} << 32;
  out.permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;
  out.inheritable = data[0].inheritable | uint64_t{data[1].inheritable} << 32;
  return true;
}

bool Set(const ThreadCapabilities& in) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  data[0] = {static_cast<uint32_t>(in.effective),
             static_cast<uint32_t>(in.permitted),
             static_cast<uint32_t>(in.inheritable)};
  data[1] = {static_cast<uint32_t>(in.effective >> 32),
             static_cast<uint32_t>(in.permitted >> 32),
             static_cast<uint32_t>(in.inheritable >> 32)};
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

RaisedCapabilities::RaisedCapabilities(
    std::initializer_list<int> capabilities) {
  ThreadCapabilities now;
  if (!Get(now)) return;
  uint64_t wanted = 0;
  for (int capability : capabilities) wanted |= uint64_t{1} << capability;
  const uint64_t missing = wanted & now.permitted & ~now.effective;
  if (missing == 0) return;
  now.effective |= missing;
  if (Set(now)) raised_ = missing;
}

RaisedCapabilities::~RaisedCapabilities() {
  if (raised_ == 0) return;
  ThreadCapabilities now;
  // Lowering cannot fail for lack of privilege; if the calls fail at all,
  // the thread keeps the capability effective, which costs least privilege
  // but no correctness.
  if (!Get(now)) return;
  now.effective &= ~raised_;
  (void)Set(now);
}

}  // namespace etherip
