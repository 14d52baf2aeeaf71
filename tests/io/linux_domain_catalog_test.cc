#include "io/linux/linux_domain_catalog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "linux_test_support.h"

namespace etherip {
namespace {

TEST(LinuxDomainCatalogTest, OwnNamespaceAlwaysExists) {
  EXPECT_TRUE(LinuxDomainCatalog().Exists(""));
  EXPECT_TRUE(LinuxDomainCatalog("/nonexistent-directory").Exists(""));
}

TEST(LinuxDomainCatalogTest, NamesAreFilesInTheDirectory) {
  const auto directory = std::filesystem::temp_directory_path() /
                         testing::UniqueName("eiptest-dir-", 64);
  std::filesystem::create_directories(directory / "sub");
  std::ofstream(directory / "underlay") << "";
  std::ofstream(directory / "sub" / "x") << "";
  const LinuxDomainCatalog catalog(directory.string());
  EXPECT_TRUE(catalog.Exists("underlay"));
  EXPECT_FALSE(catalog.Exists("overlay"));
  // Never outside the directory, never a path.
  EXPECT_FALSE(catalog.Exists("."));
  EXPECT_FALSE(catalog.Exists(".."));
  EXPECT_FALSE(catalog.Exists("sub/x"));
  EXPECT_FALSE(catalog.Exists("../" + directory.filename().string()));
  std::filesystem::remove_all(directory);
  EXPECT_FALSE(catalog.Exists("underlay"));  // read on every call
}

TEST(LinuxDomainCatalogTest, ARecreatedDomainIsAnotherOne) {
  const auto directory = std::filesystem::temp_directory_path() /
                         testing::UniqueName("eiptest-dir-", 64);
  std::filesystem::create_directories(directory);
  const LinuxDomainCatalog catalog(directory.string());
  EXPECT_TRUE(catalog.Identity(""));  // the own namespace, always
  EXPECT_FALSE(catalog.Identity("underlay"));
  std::ofstream(directory / "underlay") << "";
  const auto first = catalog.Identity("underlay");
  ASSERT_TRUE(first);
  EXPECT_EQ(catalog.Identity("underlay"), first);
  // Another file (another namespace mounted) under the same name; the
  // first is kept (renamed) so that its inode cannot be reused.
  std::filesystem::rename(directory / "underlay", directory / "old");
  std::ofstream(directory / "underlay") << "";
  EXPECT_NE(catalog.Identity("underlay"), first);
  std::filesystem::remove_all(directory);
}

TEST(LinuxDomainCatalogTest, FollowsIpNetns) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  const LinuxDomainCatalog catalog;
  testing::TestNetns netns;
  ASSERT_TRUE(netns.ok());
  const std::string name = netns.name();
  EXPECT_TRUE(catalog.Exists(name));
  netns.Delete();
  EXPECT_FALSE(catalog.Exists(name));
}

}  // namespace
}  // namespace etherip
