// RaisedCapabilities raises a permitted capability into the calling
// thread's effective set for its scope and lowers it after; it leaves alone
// what is already effective or not permitted. Each test runs on a thread
// of its own: capabilities are per thread, so the test program's other
// threads keep theirs.
#include "io/linux/raised_capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "linux_test_support.h"

namespace etherip {
namespace {

struct Sets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
};

Sets Get() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  EXPECT_EQ(syscall(SYS_capget, &header, data), 0);
  return {data[0].effective | uint64_t{data[1].effective} << 32,
          data[0].permitted | uint64_t{data[1].permitted} << 32};
}

void Set(const Sets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0] = {static_cast<uint32_t>(sets.effective),
             static_cast<uint32_t>(sets.permitted), 0};
  data[1] = {static_cast<uint32_t>(sets.effective >> 32),
             static_cast<uint32_t>(sets.permitted >> 32), 0};
  ASSERT_EQ(syscall(SYS_capset, &header, data), 0);
}

constexpr uint64_t Bit(int capability) { return uint64_t{1} << capability; }

template <typename F>
void OnOwnThread(F body) {
  std::thread thread(body);
  thread.join();
}

TEST(RaisedCapabilities, RaisesAPermittedCapabilityForItsScopeOnly) {
  ETHERIP_REQUIRE_ROOT("needs CAP_SYS_ADMIN permitted");
  OnOwnThread([] {
    Sets start = Get();
    ASSERT_TRUE(start.permitted & Bit(CAP_SYS_ADMIN));
    // Permitted only, as in the daemon.
    Set({start.effective & ~Bit(CAP_SYS_ADMIN), start.permitted});
    {
      RaisedCapabilities raised({CAP_SYS_ADMIN, CAP_NET_ADMIN});
      EXPECT_EQ(raised.raised(), Bit(CAP_SYS_ADMIN));  // NET_ADMIN was on
      EXPECT_TRUE(Get().effective & Bit(CAP_SYS_ADMIN));
    }
    const Sets after = Get();
    EXPECT_FALSE(after.effective & Bit(CAP_SYS_ADMIN));
    EXPECT_TRUE(after.effective & Bit(CAP_NET_ADMIN));
    EXPECT_EQ(after.permitted, start.permitted);
  });
}

TEST(RaisedCapabilities, LeavesAloneWhatIsNotPermitted) {
  ETHERIP_REQUIRE_ROOT("needs CAP_SYS_ADMIN permitted");
  OnOwnThread([] {
    const Sets start = Get();
    Set({start.effective & ~Bit(CAP_CHOWN), start.permitted & ~Bit(CAP_CHOWN)});
    {
      RaisedCapabilities raised({CAP_CHOWN});
      EXPECT_EQ(raised.raised(), 0u);
      EXPECT_FALSE(Get().effective & Bit(CAP_CHOWN));
    }
  });
}

}  // namespace
}  // namespace etherip
