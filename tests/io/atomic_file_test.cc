#include "io/linux/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "linux_test_support.h"
#include "test_support/temp_dir.h"

namespace etherip {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

using testing_support::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

void Write(const std::string& path, std::string_view contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

// The names in `directory`, sorted, without "." and "..": what a test
// expects there, and no temporary file left behind.
std::vector<std::string> Entries(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct stat StatOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info;
}

TEST(ReplaceFileAtomically, ReplacesTheContents) {
  TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  Write(path, "allow = false\n# a comment, and a longer file than the new\n");
  const ino_t before = StatOf(path).st_ino;

  ASSERT_TRUE(ReplaceFileAtomically(path, "allow = true\n"));
  EXPECT_EQ(Slurp(path), "allow = true\n");
  // A new file took the old one's name (rename), rather than the old file
  // being rewritten in place, where a crash could leave half of it.
  EXPECT_NE(StatOf(path).st_ino, before);
  EXPECT_THAT(Entries(dir.path()), ElementsAre("etheripd.conf"));

  ASSERT_TRUE(ReplaceFileAtomically(path, ""));
  EXPECT_EQ(Slurp(path), "");
}

TEST(ReplaceFileAtomically, WritesLargeContents) {
  // More than one write(2) may take, and bytes of every value.
  std::string contents(8 << 20, '\0');
  for (size_t i = 0; i < contents.size(); ++i) {
    contents[i] = static_cast<char>(i * 7 + i / 4096);
  }
  TempDir dir;
  const std::string path = dir.File("big");
  Write(path, "small");
  ASSERT_TRUE(ReplaceFileAtomically(path, contents));
  EXPECT_TRUE(Slurp(path) == contents);
}

TEST(ReplaceFileAtomically, KeepsTheMode) {
  TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  Write(path, "old");
  for (mode_t mode : {0640, 0604, 0400, 0755}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    ASSERT_TRUE(ReplaceFileAtomically(path, "new"));
    EXPECT_EQ(StatOf(path).st_mode & 07777, mode);
    EXPECT_TRUE(S_ISREG(StatOf(path).st_mode));
  }
}

TEST(ReplaceFileAtomically, KeepsTheOwner) {
  ETHERIP_REQUIRE_ROOT("giving a file to another user");
  TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  Write(path, "old");
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);

  ASSERT_TRUE(ReplaceFileAtomically(path, "new"));
  const struct stat info = StatOf(path);
  EXPECT_EQ(info.st_uid, 65534u);
  EXPECT_EQ(info.st_gid, 65534u);
  EXPECT_EQ(info.st_mode & 07777, 0640u);
  EXPECT_EQ(Slurp(path), "new");
}

// The mode is set before the owner (so a writer that is not root needs no
// CAP_FOWNER), and set again after it when fchown cleared set-ID bits.
TEST(ReplaceFileAtomically, KeepsSetIdBitsAcrossTheOwnerChange) {
  ETHERIP_REQUIRE_ROOT("giving a file to another user");
  TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  Write(path, "old");
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(path.c_str(), 06750), 0);

  ASSERT_TRUE(ReplaceFileAtomically(path, "new"));
  const struct stat info = StatOf(path);
  EXPECT_EQ(info.st_uid, 65534u);
  EXPECT_EQ(info.st_mode & 07777, 06750u);
  EXPECT_EQ(Slurp(path), "new");
}

TEST(ReplaceFileAtomically, CreatesANewFileOnlyItsOwnerMayRead) {
  TempDir dir;
  const std::string path = dir.File("new.conf");
  // Whatever the umask: the file may hold what only root should see.
  const mode_t old_mask = ::umask(0);
  auto replaced = ReplaceFileAtomically(path, "allow = true\n");
  ::umask(old_mask);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(Slurp(path), "allow = true\n");
  const struct stat info = StatOf(path);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, ::geteuid());
  EXPECT_THAT(Entries(dir.path()), ElementsAre("new.conf"));
}

TEST(ReplaceFileAtomically, ReplacesTheFileASymlinkPointsTo) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("real").c_str(), 0700), 0);
  const std::string target = dir.File("real/etheripd.conf");
  Write(target, "old");
  ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
  // A chain: an absolute link to a relative one, as /etc setups have.
  ASSERT_EQ(::symlink("real/etheripd.conf", dir.File("relative").c_str()), 0);
  ASSERT_EQ(::symlink(dir.File("relative").c_str(), dir.File("link").c_str()),
            0);

  auto replaced = ReplaceFileAtomically(dir.File("link"), "new");
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(Slurp(target), "new");
  EXPECT_EQ(StatOf(target).st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISLNK(StatOf(dir.File("link")).st_mode));
  EXPECT_TRUE(S_ISLNK(StatOf(dir.File("relative")).st_mode));
  EXPECT_EQ(std::filesystem::read_symlink(dir.File("relative")),
            "real/etheripd.conf");
  // The temporary file was made next to the target, and is gone.
  EXPECT_THAT(Entries(dir.File("real")), ElementsAre("etheripd.conf"));
  EXPECT_THAT(Entries(dir.path()), ElementsAre("link", "real", "relative"));
}

TEST(ReplaceFileAtomically, CreatesTheFileADanglingSymlinkPointsTo) {
  TempDir dir;
  ASSERT_EQ(::symlink("absent.conf", dir.File("link").c_str()), 0);
  ASSERT_TRUE(ReplaceFileAtomically(dir.File("link"), "new"));
  EXPECT_TRUE(S_ISLNK(StatOf(dir.File("link")).st_mode));
  EXPECT_EQ(Slurp(dir.File("absent.conf")), "new");
  EXPECT_EQ(StatOf(dir.File("absent.conf")).st_mode & 07777, 0600u);
}

TEST(ReplaceFileAtomically, RefusesASymlinkLoop) {
  TempDir dir;
  ASSERT_EQ(::symlink("b", dir.File("a").c_str()), 0);
  ASSERT_EQ(::symlink("a", dir.File("b").c_str()), 0);
  auto replaced = ReplaceFileAtomically(dir.File("a"), "new");
  ASSERT_FALSE(replaced);
  EXPECT_EQ(replaced.error().code, ELOOP);
  EXPECT_THAT(replaced.error().message, StartsWith(dir.File("a") + ": "));
  EXPECT_THAT(Entries(dir.path()), ElementsAre("a", "b"));
}

TEST(ReplaceFileAtomically, FailsInAMissingDirectoryNamingThePath) {
  TempDir dir;
  const std::string path = dir.File("absent/etheripd.conf");
  auto replaced = ReplaceFileAtomically(path, "new");
  ASSERT_FALSE(replaced);
  EXPECT_EQ(replaced.error().code, ENOENT);
  EXPECT_EQ(replaced.error().message,
            path + ": open directory: no such file or directory");
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(ReplaceFileAtomically, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  auto directory = ReplaceFileAtomically(dir.path(), "new");
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, EISDIR);
  EXPECT_THAT(directory.error().message, StartsWith(dir.path() + ": "));

  const std::string fifo = dir.File("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto replaced = ReplaceFileAtomically(fifo, "new");
  ASSERT_FALSE(replaced);
  EXPECT_EQ(replaced.error().code, EINVAL);
  EXPECT_EQ(replaced.error().message, fifo + ": not a regular file");
  EXPECT_TRUE(S_ISFIFO(StatOf(fifo).st_mode));
  EXPECT_THAT(Entries(dir.path()), ElementsAre("fifo"));
}

TEST(ReplaceFileAtomically, FailsInADirectoryItMayNotWrite) {
  // Root writes anywhere: run this part as nobody, in a child.
  TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  Write(path, "old");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  // Nobody but root may add a file to the directory (the file itself is
  // writable, but it is not written in place).
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  auto attempt = [&] {
    auto replaced = ReplaceFileAtomically(path, "new");
    return !replaced && replaced.error().code == EACCES &&
           replaced.error().message ==
               path + ": create temporary file: permission denied";
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(attempt());
  } else {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      ::_exit(attempt() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: cannot become nobody";
  }
  EXPECT_EQ(Slurp(path), "old");
  EXPECT_THAT(Entries(dir.path()), ElementsAre("etheripd.conf"));
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);  // for TempDir's cleanup
}

// What happened on a full file system, as seen from the child process that
// mounted it (fields separated by '\0').
struct FullDiskOutcome {
  std::string setup_error;  // non-empty when the file system was not made
  int code = 0;
  std::string message;
  std::string contents;  // of the target afterwards
  std::string entries;   // of its directory afterwards, ' '-separated
};

// In a child with its own mount namespace, so the tmpfs disappears with it
// whatever happens: mounts a 64 KiB tmpfs on `mount_point`, writes
// `old_contents` to FILE in it, fills the rest, then replaces FILE.
FullDiskOutcome ReplaceOnAFullDisk(const std::string& mount_point,
                                   const std::string& old_contents,
                                   const std::string& new_contents) {
  FullDiskOutcome outcome;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    outcome.setup_error = "pipe failed";
    return outcome;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    outcome.setup_error = "fork failed";
    return outcome;
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto send = [&](const std::string& text) {
      size_t sent = 0;
      while (sent < text.size()) {
        const ssize_t n =
            ::write(pipe_fds[1], text.data() + sent, text.size() - sent);
        if (n <= 0) ::_exit(1);
        sent += static_cast<size_t>(n);
      }
      ::_exit(0);
    };
    auto setup_failed = [&](const char* what) {
      send(std::string(what) + ": " + std::strerror(errno));
    };
    if (::unshare(CLONE_NEWNS) != 0) setup_failed("unshare(CLONE_NEWNS)");
    // Nothing mounted here propagates back to the parent's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      setup_failed("mount --make-rprivate /");
    }
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0,
                "size=64k,mode=0700") != 0) {
      setup_failed("mount -t tmpfs");
    }
    const std::string path = mount_point + "/etheripd.conf";
    Write(path, old_contents);
    const int filler =
        ::open((mount_point + "/filler").c_str(), O_WRONLY | O_CREAT, 0600);
    const std::string block(4096, 'f');
    while (::write(filler, block.data(), block.size()) > 0) {
    }
    while (::write(filler, block.data(), 1) > 0) {
    }
    ::close(filler);

    auto replaced = ReplaceFileAtomically(path, new_contents);
    std::string entries;
    for (const std::string& name : Entries(mount_point)) {
      entries += (entries.empty() ? "" : " ") + name;
    }
    send(std::string(1, '\0') +
         std::to_string(replaced ? 0 : replaced.error().code) + '\0' +
         (replaced ? "" : replaced.error().message) + '\0' + Slurp(path) +
         '\0' + entries);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], chunk, sizeof chunk)) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) report.append(chunk, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (report.empty() || report[0] != '\0') {
    outcome.setup_error =
        report.empty() ? "the child reported nothing" : report;
    return outcome;
  }
  std::vector<std::string> fields;
  std::string field;
  std::istringstream stream(report.substr(1));
  while (std::getline(stream, field, '\0')) fields.push_back(field);
  fields.resize(4);
  outcome.code = std::atoi(fields[0].c_str());
  outcome.message = fields[1];
  outcome.contents = fields[2];
  outcome.entries = fields[3];
  return outcome;
}

TEST(ReplaceFileAtomically, LeavesTheFileIntactOnAFullDisk) {
  ETHERIP_REQUIRE_ROOT("mounting a small tmpfs to fill");
  TempDir dir;
  const std::string old_contents = "allow = true\n";
  const FullDiskOutcome outcome =
      ReplaceOnAFullDisk(dir.path(), old_contents, std::string(16384, 'n'));
  if (!outcome.setup_error.empty()) {
    GTEST_SKIP() << "cannot make a full file system here (needs "
                    "CAP_SYS_ADMIN and mount namespaces): "
                 << outcome.setup_error;
  }
  EXPECT_EQ(outcome.code, ENOSPC);
  const std::string path = dir.path() + "/etheripd.conf";
  EXPECT_EQ(outcome.message, path + ": write: no space left");
  EXPECT_EQ(outcome.contents, old_contents);
  // The temporary file is gone: only what was there before is left.
  EXPECT_EQ(outcome.entries, "etheripd.conf filler");
  // The tmpfs went away with the child's mount namespace.
  EXPECT_TRUE(Entries(dir.path()).empty());
}

}  // namespace
}  // namespace etherip
