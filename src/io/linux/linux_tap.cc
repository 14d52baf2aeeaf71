#include "io/linux/linux_tap.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/interface_name.h"
#include "io/linux/system_error.h"

namespace etherip {
namespace {

// write() errors meaning the device is gone, not that it refused one frame.
// EBADFD: the link was deleted and tun detached our file; EBADF: the fd
// itself is invalid. Neither gets better by retrying.
bool DeviceGone(int error) { return error == EBADFD || error == EBADF; }

}  // namespace

Result<std::unique_ptr<LinuxTap>> LinuxTap::Create(std::string_view name) {
  // Before any system call: an invalid name, and '%' in particular (the
  // kernel would pick "etherip%d" -> "etherip0" and we would hold a device
  // under a name nobody asked for).
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return Fail(EINVAL, fmt::format("{}: {}", name, valid.error().message));
  }
  const std::string context = fmt::format("{}: create tap", name);

  // O_NONBLOCK: reads and writes never block the event loop.
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    return FailSystem(errno, fmt::format("{}: open /dev/net/tun", context));
  }

  struct ifreq request;
  std::memset(&request, 0, sizeof(request));
  // Fits: ValidateInterfaceName allows at most IFNAMSIZ - 1 bytes, and the
  // memset above leaves the terminating NUL.
  std::memcpy(request.ifr_name, name.data(), name.size());
  // IFF_TAP: Ethernet frames. IFF_NO_PI: no 4-byte packet-information
  // prefix. IFF_TUN_EXCL: fail with EBUSY when a link of that name exists,
  // instead of attaching to an existing (persistent) TAP owned by someone
  // else.
  // ifr_flags is a short; IFF_TUN_EXCL is bit 15.
  request.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    const int error = errno;
    if (error == EBUSY || error == EEXIST) {
      return Fail(EEXIST,
                  fmt::format("{}: an interface of that name exists", context));
    }
    return FailSystem(error, fmt::format("{}: TUNSETIFF", context));
  }
  // Not TUNSETPERSIST: the link disappears when the fd is closed.

  // A new TAP starts with its carrier on; an interface is not running until
  // it has a tunnel (SPEC 2).
  int carrier = 0;
  if (::ioctl(fd.get(), TUNSETCARRIER, &carrier) != 0) {
    return FailSystem(errno, fmt::format("{}: carrier off", context));
  }

  // The kernel keeps the name we asked for (no '%'). if_nametoindex() asks
  // through a socket of the calling thread's namespace, the one the device
  // was just created in.
  const unsigned index = ::if_nametoindex(request.ifr_name);
  if (index == 0) {
    return FailSystem(errno, fmt::format("{}: interface index", context));
  }
  return std::unique_ptr<LinuxTap>(new LinuxTap(
      std::move(fd), std::string(request.ifr_name), static_cast<int>(index)));
}

Status LinuxTap::SetCarrier(bool on) {
  int carrier = on ? 1 : 0;
  if (::ioctl(fd_.get(), TUNSETCARRIER, &carrier) != 0) {
    return FailSystem(errno,
                      fmt::format("{}: carrier {}", name_, on ? "on" : "off"));
  }
  return {};
}

Result<size_t> LinuxTap::ReadFrames(std::span<PacketBuffer> buffers) {
  size_t count = 0;
  while (count < buffers.size()) {
    std::span<uint8_t> room = buffers[count].ResetForRead();
    const ssize_t n = ::read(fd_.get(), room.data(), room.size());
    if (n > 0) {
      buffers[count].Commit(static_cast<size_t>(n));
      ++count;
      continue;
    }
    // tun never returns 0 for a frame; stop rather than loop on it.
    if (n == 0) break;
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) break;
    // Hand over what was read; the error comes back on the next call.
    if (count > 0) break;
    return FailSystem(error, fmt::format("{}: read", name_));
  }
  return count;
}

Result<size_t> LinuxTap::WriteFrames(
    std::span<const std::span<const uint8_t>> frames) {
  size_t written = 0;
  for (const auto& frame : frames) {
    ssize_t n;
    do {
      n = ::write(fd_.get(), frame.data(), frame.size());
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      ++written;
      continue;
    }
    const int error = errno;
    if (DeviceGone(error)) {
      return FailSystem(error, fmt::format("{}: write", name_));
    }
    // Refused (EAGAIN, ENOBUFS, EIO: link down, EINVAL: bad frame, ...):
    // drop this frame, go on with the next.
  }
  return written;
}

}  // namespace etherip
