#include "io/linux/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>

#include "io/linux/system_error.h"
#include "io/linux/unique_fd.h"

namespace etherip {
namespace {

namespace fs = std::filesystem;

// As Linux's own lookups (MAXSYMLINKS): more links than this is a loop.
constexpr int kMaxSymlinks = 40;

// The file a path ends at once its symbolic links are followed.
struct Target {
  fs::path path;                        // no symbolic link at its end
  std::optional<struct stat> existing;  // its metadata when it exists
};

// Every step's error reads "PATH: STEP: reason", PATH as the caller gave it.
tl::unexpected<Error> StepFailed(const std::string& path, std::string_view step,
                                 int code) {
  return FailSystem(code, fmt::format("{}: {}", path, step));
}

// Follows symbolic links by hand rather than with realpath(3), which fails
// on a link to a file that does not exist yet: that file is then created.
Result<Target> Resolve(const std::string& path) {
  fs::path current = path;
  for (int links = 0;; ++links) {
    struct stat info {};
    if (::lstat(current.c_str(), &info) != 0) {
      if (errno == ENOENT) return Target{current, std::nullopt};
      return StepFailed(path, "resolve", errno);
    }
    if (S_ISDIR(info.st_mode)) return FailSystem(EISDIR, path);
    if (!S_ISLNK(info.st_mode)) {
      // A device or a FIFO is not replaced by a regular file behind the
      // user's back.
      if (!S_ISREG(info.st_mode)) {
        return Fail(EINVAL, fmt::format("{}: not a regular file", path));
      }
      return Target{current, info};
    }
    if (links == kMaxSymlinks) return StepFailed(path, "resolve", ELOOP);
    std::error_code error;
    const fs::path next = fs::read_symlink(current, error);
    if (error) return StepFailed(path, "resolve", error.value());
    // A relative link is relative to the directory holding the link.
    current = next.is_absolute() ? next : current.parent_path() / next;
  }
}

// Writes all of `contents` to `fd`, through short writes and signals.
Status WriteAll(int fd, std::string_view contents) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n =
        ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(errno, "write");
    }
    // write(2) returns 0 only for a count of 0; never loop forever on it.
    if (n == 0) return Fail(EIO, "write");
    written += static_cast<size_t>(n);
  }
  return {};
}

// Fills the temporary file `fd` and gives it the target's owner and mode,
// then closes it. The error's message is the step that failed.
Status PrepareTemporary(UniqueFd fd, const Target& target,
                        std::string_view contents) {
  // The mode first, whatever the umask (mkostemp's 0600 is masked by it),
  // while the file is still the caller's own: a daemon that is not root
  // could not chmod it once it is given to root (that takes CAP_FOWNER).
  const mode_t mode = target.existing ? target.existing->st_mode & 07777 : 0600;
  if (::fchmod(fd.get(), mode) != 0) return Fail(errno, "chmod");
  if (target.existing) {
    struct stat own {};
    if (::fstat(fd.get(), &own) != 0) return Fail(errno, "stat");
    // Only when it differs: chown to another user takes CAP_CHOWN.
    if ((own.st_uid != target.existing->st_uid ||
         own.st_gid != target.existing->st_gid) &&
        ::fchown(fd.get(), target.existing->st_uid, target.existing->st_gid) !=
            0) {
      return Fail(errno, "chown");
    }
    // fchown clears the set-user-ID and set-group-ID bits: set them again
    // (only then is CAP_FOWNER needed; a configuration file has neither).
    if ((mode & (S_ISUID | S_ISGID)) != 0 && ::fchmod(fd.get(), mode) != 0) {
      return Fail(errno, "chmod");
    }
  }
  if (auto written = WriteAll(fd.get(), contents); !written) return written;
  if (::fsync(fd.get()) != 0) return Fail(errno, "fsync");
  // close(2) may report a deferred write error (NFS); EINTR still closes.
  if (::close(fd.release()) != 0 && errno != EINTR) {
    return Fail(errno, "close");
  }
  return {};
}

}  // namespace

Status ReplaceFileAtomically(const std::string& path,
                             std::string_view contents) {
  auto target = Resolve(path);
  if (!target) return tl::unexpected(target.error());
  const fs::path directory = target->path.has_parent_path()
                                 ? target->path.parent_path()
                                 : fs::path(".");

  // Opened first so that a missing directory is reported as such, and kept
  // to fsync the rename.
  UniqueFd directory_fd(
      ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory_fd.valid()) return StepFailed(path, "open directory", errno);

  // In the target's directory, so that rename(2) replaces it atomically.
  std::string temporary =
      (directory /
       fmt::format(".{}.tmp.XXXXXX", target->path.filename().string()))
          .string();
  // mkostemp adds O_RDWR | O_CREAT | O_EXCL.
  UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return StepFailed(path, "create temporary file", errno);

  if (auto prepared = PrepareTemporary(std::move(fd), *target, contents);
      !prepared) {
    ::unlink(temporary.c_str());
    return StepFailed(path, prepared.error().message, prepared.error().code);
  }
  if (::rename(temporary.c_str(), target->path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return StepFailed(path, "rename", error);
  }
  if (::fsync(directory_fd.get()) != 0) {
    return StepFailed(path, "fsync directory", errno);
  }
  return {};
}

}  // namespace etherip
