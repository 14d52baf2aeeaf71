// LinuxTap: an etherip interface as a Linux TAP device (drivers/net/tun.c),
// the FrameDevice the daemon reads frames to send from and writes received
// frames to.
//
// The device lives exactly as long as this object: it is not made
// persistent, so closing the fd removes the link. It is created in the
// network namespace of the calling thread (wrap Create() in a NetnsEnter to
// put it elsewhere).
//
// When the link is deleted behind our back (`ip link del NAME`), the kernel
// detaches the fd from the device (tun_detach_all()) but the fd stays open:
//   - epoll/poll report EPOLLERR, level-triggered, on every wait from then
//     on (tun_chr_poll() answers EPOLLERR for a detached file), so a loop
//     that only watches EPOLLIN still wakes up forever;
//   - read() and write() fail with EBADFD ("file descriptor in bad state").
// ReadFrames() and WriteFrames() return that as an error: the caller must
// remove the fd from its event loop and drop the device. tests/io/
// linux_tap_test.cc (DeletedLink*) pins this behaviour down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/packet_buffer.h"
#include "io/frame_device.h"
#include "io/linux/unique_fd.h"

namespace etherip {

class LinuxTap : public FrameDevice {
 public:
  // Creates TAP device `name` (Ethernet frames, no packet-information
  // prefix) with its carrier off, and opens it non-blocking. Never takes
  // over an existing link of that name, TAP or not (IFF_TUN_EXCL): EEXIST
  // "NAME: create tap: an interface of that name exists". An invalid name
  // (ValidateInterfaceName: empty, > 15 bytes, '/', ':', '%', white space)
  // is refused with EINVAL before any system call; '%' in particular would
  // make the kernel choose a name for us. Other errors carry the errno of
  // the failing call (EPERM without CAP_NET_ADMIN, ENOENT without
  // /dev/net/tun, ...).
  static Result<std::unique_ptr<LinuxTap>> Create(std::string_view name);

  // The TAP's fd, to watch for EPOLLIN (frames to read) and EPOLLERR (the
  // link was deleted). Owned by this object.
  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  // The link's index in its namespace, for LinkControl. Fixed at creation.
  int ifindex() const { return ifindex_; }

  // Turns the link's carrier (LOWER_UP) on or off (TUNSETCARRIER). The
  // daemon keeps it on exactly while the interface is running (SPEC 2).
  // While it is off the stack does not transmit on the link, so nothing
  // arrives for ReadFrames().
  Status SetCarrier(bool on);

  // Reads frames with read(), one per buffer, until none is ready (EAGAIN)
  // or the batch is full; 0 when none is ready. An error (EBADFD after the
  // link was deleted, EIO, ...) means: stop polling this fd. When some
  // frames were read before the error they are returned, and the next call
  // reports the error. Frames longer than PacketBuffer::kMaxData are
  // truncated by the kernel.
  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override;

  // Writes each frame with write(). Returns how many the device accepted.
  // A frame the device refuses is skipped (EAGAIN or ENOBUFS: no room; EIO:
  // the link is down; EINVAL: not a valid frame, e.g. under 14 bytes).
  // EBADFD (the link was deleted) is returned as an error.
  Result<size_t> WriteFrames(
      std::span<const std::span<const uint8_t>> frames) override;

 private:
  LinuxTap(UniqueFd fd, std::string name, int ifindex)
      : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

  UniqueFd fd_;
  std::string name_;
  int ifindex_;
};

}  // namespace etherip
