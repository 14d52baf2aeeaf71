#include "core/error.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace etherip {
namespace {

TEST(Error, NamesRoundTripForTheCodesTheProductUses) {
  for (int code :
       {EINVAL, EADDRNOTAVAIL, ENXIO, EEXIST, EPERM, EACCES, EAGAIN}) {
    const std::string name = ErrnoName(code);
    EXPECT_EQ(name[0], 'E');
    EXPECT_EQ(ErrnoFromName(name), code) << name;
  }
  EXPECT_EQ(ErrnoName(EINVAL), "EINVAL");
  EXPECT_EQ(ErrnoName(EADDRNOTAVAIL), "EADDRNOTAVAIL");
  EXPECT_EQ(ErrnoName(ENXIO), "ENXIO");
  EXPECT_EQ(ErrnoName(EEXIST), "EEXIST");
}

TEST(Error, EveryLinuxCodeHasItsOwnNameThatRoundTrips) {
  for (int code = 1; code <= 133; ++code) {  // EPERM .. EHWPOISON
    if (code == 41 || code == 58) continue;  // unused numbers on Linux
    const std::string name = ErrnoName(code);
    EXPECT_EQ(name[0], 'E') << code;
    EXPECT_NE(name, fmt::format("E{}", code));
    EXPECT_EQ(ErrnoFromName(name), code) << name;
  }
  EXPECT_EQ(ErrnoName(ENODEV), "ENODEV");
  EXPECT_EQ(ErrnoName(ECONNREFUSED), "ECONNREFUSED");
}

TEST(Error, ReasonsAreTheOnesSpecSixPrints) {
  // The wording every earlier release printed, code by code.
  const std::pair<int, std::string_view> kReasons[] = {
      {EINVAL, "invalid argument"},
      {EADDRNOTAVAIL, "address not available"},
      {ENXIO, "no such interface"},
      {EEXIST, "file exists"},
      {EPERM, "operation not permitted"},
      {EACCES, "permission denied"},
      {ENOENT, "no such file or directory"},
      {EBUSY, "device or resource busy"},
      {EAGAIN, "resource temporarily unavailable"},
      {EIO, "input/output error"},
      {ENOMEM, "out of memory"},
      {ENOSPC, "no space left"},
      {ETIMEDOUT, "timed out"},
      {EPROTO, "protocol error"},
      {ECONNREFUSED, "connection refused"},
      {EAFNOSUPPORT, "address family not supported"},
      {EOPNOTSUPP, "operation not supported"},
      {ENODEV, "no such device"},
  };
  for (const auto& [code, reason] : kReasons) {
    EXPECT_EQ(ErrnoReason(code), reason) << ErrnoName(code);
  }
  EXPECT_EQ(ErrnoReason(EMSGSIZE), "message too long");
}

TEST(Error, UnknownCodesGetANumberedName) {
  EXPECT_EQ(ErrnoName(12345), "E12345");
  EXPECT_EQ(ErrnoFromName("E12345"), 0);
  EXPECT_EQ(ErrnoFromName("ENOSUCHTHING"), 0);
  EXPECT_EQ(ErrnoFromName(""), 0);
  EXPECT_EQ(ErrnoReason(12345), "error");
}

TEST(Error, FailBuildsAnUnexpectedError) {
  Status status = Fail(ENXIO, "etherip9: no such interface");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ENXIO);
  EXPECT_EQ(status.error().message, "etherip9: no such interface");
}

}  // namespace
}  // namespace etherip
