#include "io/linux/linux_tap.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/interface_name.h"
#include "io/linux/raised_capabilities.h"
#include "io/linux/system_error.h"
#include "offload/coalescer.h"
#include "offload/frame_layout.h"

namespace etherip {
namespace {

// write() errors meaning the device is gone, not that it refused one frame.
// EBADFD: the link was deleted and tun detached our file; EBADF: the fd
// itself is invalid. Neither gets better by retrying.
bool DeviceGone(int error) { return error == EBADFD || error == EBADF; }

// Not in Debian 12's <linux/if_tun.h> yet (Linux 6.2).
constexpr unsigned kTunUso4 = 0x20;
constexpr unsigned kTunUso6 = 0x40;

// Offers the kernel every offload we can undo in software, USO where the
// kernel knows it (it refuses unknown bits with EINVAL); returns what it
// took.
Result<unsigned> NegotiateOffloads(int fd, const std::string& context) {
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  for (unsigned offer : {tcp | kTunUso4 | kTunUso6, tcp}) {
    if (::ioctl(fd, TUNSETOFFLOAD, offer) == 0) return offer;
    if (errno != EINVAL) break;
  }
  return FailSystem(errno, fmt::format("{}: TUNSETOFFLOAD", context));
}

}  // namespace

LinuxTap::LinuxTap(UniqueFd fd, std::string name, int ifindex,
                   unsigned offloads)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      ifindex_(ifindex),
      offloads_(offloads),
      coalesce_{.udp = (offloads & (kTunUso4 | kTunUso6)) ==
                       (kTunUso4 | kTunUso6)} {}

std::string LinuxTap::OffloadNames() const {
  struct Name {
    unsigned flag;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {TUN_F_CSUM, "csum"},       {TUN_F_TSO4, "tso4"}, {TUN_F_TSO6, "tso6"},
      {TUN_F_TSO_ECN, "tso_ecn"}, {kTunUso4, "uso4"},   {kTunUso6, "uso6"}};
  std::string names;
  for (const Name& name : kNames) {
    if ((offloads_ & name.flag) == 0) continue;
    if (!names.empty()) names += ' ';
    names += name.name;
  }
  return names;
}

namespace {

// Every TAP of ours: Ethernet frames (IFF_TAP), no 4-byte
// packet-information prefix (IFF_NO_PI), a virtio-net header before every
// frame, both ways (IFF_VNET_HDR: the offloads).
constexpr unsigned kTapFlags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;

// /dev/net/tun, non-blocking: reads and writes never block the event loop.
// The node is 0666 on most systems but root's only (0600) on some (in
// containers, say): a daemon running as another user opens it with
// CAP_DAC_OVERRIDE, which it keeps permitted for that (daemon/privileges.h).
Result<UniqueFd> OpenTunFile(const std::string& context) {
  int error = 0;
  UniqueFd fd;
  {
    RaisedCapabilities raised({CAP_DAC_OVERRIDE});
    fd = UniqueFd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) error = errno;
  }
  if (!fd.valid()) {
    return FailSystem(error, fmt::format("{}: open /dev/net/tun", context));
  }
  return fd;
}

// TUNSETIFF for link `name` (a valid interface name, so without '%': the
// kernel keeps it as given) with `flags`: 0, or the kernel's errno for the
// caller to translate.
int SetInterface(int fd, std::string_view name, unsigned flags) {
  struct ifreq request;
  std::memset(&request, 0, sizeof(request));
  // Fits: ValidateInterfaceName allows at most IFNAMSIZ - 1 bytes, and the
  // memset above leaves the terminating NUL.
  std::memcpy(request.ifr_name, name.data(), name.size());
  // ifr_flags is a short; IFF_TUN_EXCL is bit 15.
  request.ifr_flags = static_cast<short>(flags);
  return ::ioctl(fd, TUNSETIFF, &request) == 0 ? 0 : errno;
}

// The virtio-net header both ways, then the offloads; returns what the
// kernel granted.
Result<unsigned> SetUpOffloads(int fd, const std::string& context) {
  int header_size = static_cast<int>(VirtioNetHeader::kSize);
  int little_endian = 1;
  if (::ioctl(fd, TUNSETVNETHDRSZ, &header_size) != 0 ||
      ::ioctl(fd, TUNSETVNETLE, &little_endian) != 0) {
    return FailSystem(errno, fmt::format("{}: virtio-net header", context));
  }
  return NegotiateOffloads(fd, context);
}

// A TAP gets its carrier on when it is made and whenever an fd attaches
// to it; an interface is not running until it has a tunnel (SPEC 2).
Status CarrierOff(int fd, std::string_view context) {
  int carrier = 0;
  if (::ioctl(fd, TUNSETCARRIER, &carrier) != 0) {
    return FailSystem(errno, fmt::format("{}: carrier off", context));
  }
  return {};
}

Status SetPersistFlag(int fd, bool on, std::string_view context) {
  if (::ioctl(fd, TUNSETPERSIST, on ? 1ul : 0ul) != 0) {
    return FailSystem(
        errno, fmt::format("{}: persist {}", context, on ? "on" : "off"));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<LinuxTap>> LinuxTap::Make(UniqueFd fd,
                                                 std::string_view name,
                                                 unsigned offloads,
                                                 const std::string& context) {
  // if_nametoindex() asks through a socket of the calling thread's
  // namespace, the one the device was just created or attached in (a tun
  // file looks names up in the namespace it was opened in).
  const std::string terminated(name);
  const unsigned index = ::if_nametoindex(terminated.c_str());
  if (index == 0) {
    return FailSystem(errno, fmt::format("{}: interface index", context));
  }
  return std::unique_ptr<LinuxTap>(new LinuxTap(
      std::move(fd), terminated, static_cast<int>(index), offloads));
}

Result<std::unique_ptr<LinuxTap>> LinuxTap::Create(std::string_view name,
                                                   const TapOptions& options) {
  // Before any system call: an invalid name, and '%' in particular (the
  // kernel would pick "etherip%d" -> "etherip0" and we would hold a device
  // under a name nobody asked for).
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return Fail(EINVAL, fmt::format("{}: {}", name, valid.error().message));
  }
  const std::string context = fmt::format("{}: create tap", name);
  auto fd = OpenTunFile(context);
  if (!fd) return tl::unexpected(std::move(fd.error()));

  // IFF_TUN_EXCL: fail with EBUSY when a link of that name exists, instead
  // of attaching to an existing (persistent) TAP owned by someone else.
  if (const int error = SetInterface(fd->get(), name, kTapFlags | IFF_TUN_EXCL);
      error != 0) {
    if (error == EBUSY || error == EEXIST) {
      return Fail(EEXIST,
                  fmt::format("{}: an interface of that name exists", context));
    }
    return FailSystem(error, fmt::format("{}: TUNSETIFF", context));
  }
  auto offloads = SetUpOffloads(fd->get(), context);
  if (!offloads) return tl::unexpected(std::move(offloads.error()));

  if (auto done = CarrierOff(fd->get(), context); !done) {
    return tl::unexpected(std::move(done.error()));
  }
  auto tap = Make(std::move(*fd), name, *offloads, context);
  if (!tap) return tap;
  // Last: until here, a failure closes the fd and the link goes with it.
  if (options.persist) {
    if (auto done = SetPersistFlag((*tap)->fd(), true, context); !done) {
      return tl::unexpected(std::move(done.error()));
    }
  }
  return tap;
}

Result<std::unique_ptr<LinuxTap>> LinuxTap::Attach(std::string_view name) {
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return Fail(EINVAL, fmt::format("{}: {}", name, valid.error().message));
  }
  const std::string context = fmt::format("{}: attach tap", name);
  // TUNSETIFF without IFF_TUN_EXCL creates the TAP when the name is free:
  // check first, so that a missing link normally costs no link created and
  // removed again (which others would see come and go).
  const std::string terminated(name);
  if (::if_nametoindex(terminated.c_str()) == 0) {
    return FailSystem(errno, context);  // ENODEV: "no such device"
  }
  auto fd = OpenTunFile(context);
  if (!fd) return tl::unexpected(std::move(fd.error()));
  if (const int error = SetInterface(fd->get(), name, kTapFlags); error != 0) {
    // The kernel's EINVAL: the link is not a TAP (tun_set_iff() compares
    // the device's netdev_ops), or its multi-queue flag differs from ours.
    if (error == EINVAL) {
      return Fail(EEXIST,
                  fmt::format("{}: an interface of that name exists and is "
                              "not a TAP",
                              context));
    }
    // tun_attach(): a single-queue TAP has one fd at most.
    if (error == EBUSY) {
      return Fail(EBUSY, fmt::format("{}: in use", context));
    }
    return FailSystem(error, fmt::format("{}: TUNSETIFF", context));
  }
  // The link went away between the check and TUNSETIFF and the kernel made
  // a new TAP: not persistent (so it goes when `fd` is closed on return)
  // and not what was asked for.
  struct ifreq current;
  std::memset(&current, 0, sizeof(current));
  if (::ioctl(fd->get(), TUNGETIFF, &current) != 0) {
    return FailSystem(errno, fmt::format("{}: TUNGETIFF", context));
  }
  if ((current.ifr_flags & IFF_PERSIST) == 0) {
    return FailSystem(ENODEV, context);
  }
  auto offloads = SetUpOffloads(fd->get(), context);
  if (!offloads) return tl::unexpected(std::move(offloads.error()));
  // Attaching turned the carrier on (tun_attach()), whatever it was.
  if (auto done = CarrierOff(fd->get(), context); !done) {
    return tl::unexpected(std::move(done.error()));
  }
  return Make(std::move(*fd), name, *offloads, context);
}

Status LinuxTap::SetPersist(bool on) {
  return SetPersistFlag(fd_.get(), on, name_);
}

Status LinuxTap::SetCarrier(bool on) {
  int carrier = on ? 1 : 0;
  if (::ioctl(fd_.get(), TUNSETCARRIER, &carrier) != 0) {
    return FailSystem(errno,
                      fmt::format("{}: carrier {}", name_, on ? "on" : "off"));
  }
  return {};
}

Result<size_t> LinuxTap::ReadOne(PacketBuffer& buffer,
                                 VirtioNetHeader& header) {
  std::array<uint8_t, VirtioNetHeader::kSize> header_bytes;
  const std::span<uint8_t> room = buffer.ResetForRead();
  std::array<iovec, 2> parts = {iovec{header_bytes.data(), header_bytes.size()},
                                iovec{room.data(), room.size()}};
  for (;;) {
    const ssize_t n = ::readv(fd_.get(), parts.data(), 2);
    if (n >= static_cast<ssize_t>(VirtioNetHeader::kSize)) {
      header = VirtioNetHeader::Decode(header_bytes);
      buffer.Commit(static_cast<size_t>(n) - VirtioNetHeader::kSize);
      return buffer.size();
    }
    // tun never returns less than its header; stop rather than loop on it.
    if (n >= 0) return 0;
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) return 0;
    return FailSystem(error, fmt::format("{}: read", name_));
  }
}

Result<size_t> LinuxTap::ReadFrames(std::span<PacketBuffer> buffers) {
  size_t count = segments_.Next(std::as_const(super_frame_).data(), buffers);
  while (count < buffers.size()) {
    VirtioNetHeader header;
    auto read = ReadOne(buffers[count], header);
    if (!read) {
      // Hand over what was read; the error comes back on the next call.
      if (count > 0) break;
      return tl::unexpected(std::move(read.error()));
    }
    if (*read == 0) break;
    PacketBuffer& frame = buffers[count];
    if (header.is_gso()) {
      // Split from a buffer of our own into the caller's, from this one on.
      std::swap(frame, super_frame_);
      const auto bytes = std::as_const(super_frame_).data();
      if (!segments_.Start(header, bytes,
                           mtu_.load(std::memory_order_relaxed))) {
        ++unsendable_;
        continue;
      }
      count += segments_.Next(bytes, buffers.subspan(count));
      continue;
    }
    if (!CompleteChecksum(header, frame.data())) {
      ++unsendable_;
      continue;
    }
    ++count;
  }
  return count;
}

Status LinuxTap::WriteOne(PacketBuffer& frame, const VirtioNetHeader& header) {
  header.Encode(
      frame.Prepend(VirtioNetHeader::kSize).first<VirtioNetHeader::kSize>());
  const auto bytes = std::as_const(frame).data();
  ssize_t n;
  do {
    n = ::write(fd_.get(), bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  frame.Consume(VirtioNetHeader::kSize);
  if (n < 0 && DeviceGone(errno)) {
    return FailSystem(errno, fmt::format("{}: write", name_));
  }
  // Otherwise written, or refused (EAGAIN, ENOBUFS, EIO: link down,
  // EINVAL: bad frame, ...): either way go on with the next.
  return {};
}

Result<size_t> LinuxTap::WriteFrames(std::span<PacketBuffer* const> frames) {
  auto written = WriteCoalesced(
      frames, coalesce_, [this](PacketBuffer& frame, const VirtioNetHeader& h) {
        return WriteOne(frame, h);
      });
  if (!written) return tl::unexpected(std::move(written.error()));
  return frames.size();
}

}  // namespace etherip
