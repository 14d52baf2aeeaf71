#include "core/error.h"

#include <gtest/gtest.h>

#include <cerrno>

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

TEST(Error, ReasonsAreTheOnesSpecSixPrints) {
  EXPECT_EQ(ErrnoReason(EINVAL), "invalid argument");
  EXPECT_EQ(ErrnoReason(EADDRNOTAVAIL), "address not available");
  EXPECT_EQ(ErrnoReason(ENXIO), "no such interface");
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
