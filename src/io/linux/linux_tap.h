// LinuxTap: an etherip interface as a Linux TAP device (drivers/net/tun.c),
// the FrameDevice the daemon reads frames to send from and writes received
// frames to.
//
// By default the device lives exactly as long as this object: it is not
// made persistent, so closing the fd removes the link. A persistent TAP
// (TapOptions::persist, or SetPersist(true)) outlives the object: the link
// stays, without carrier, until it is deleted (`ip link del`,
// LinkControl::DeleteGroup) or a later owner turns persistence off and
// closes its fd; Attach() opens it again, e.g. after a daemon restart. It is
// created in the network namespace of the calling thread (wrap Create() and
// Attach() in a NetnsEnter to work elsewhere).
//
// Offloads (wireguard-go's tun/offload_linux.go is the model): the TAP is
// opened with IFF_VNET_HDR and offers the kernel checksum offload, TSO for
// IPv4 and IPv6 (with ECN) and, where the kernel has it (6.2+), USO. The
// stack above the interface then hands over super-frames of up to 64 KiB;
// ReadFrames splits them at layer 2 (offload/segmenter.h) into standard
// frames no larger than the interface MTU + 14 (+4 per VLAN tag) and
// completes partial checksums, so callers only ever see standard frames.
// WriteFrames merges runs of TCP segments (and UDP datagrams, where the
// kernel granted USO) into super-frames (offload/coalescer.h) and writes
// each with its virtio-net header. None of this shows outside this class:
// every frame on the wire stays standard.
//
// When the link is deleted behind our back (`ip link del NAME`, or
// LinkControl::DeleteGroup() with the link in the group), the kernel
// detaches the fd from the device (tun_detach_all()) but the fd stays open:
//   - epoll/poll report EPOLLERR, level-triggered, on every wait from then
//     on (tun_chr_poll() answers EPOLLERR for a detached file), so a loop
//     that only watches EPOLLIN still wakes up forever;
//   - read() and write() fail with EBADFD ("file descriptor in bad state").
// ReadFrames() and WriteFrames() return that as an error: the caller must
// remove the fd from its event loop and drop the device. tests/io/
// linux_tap_test.cc (DeletedLink*) and link_control_test.cc (DeleteGroup*)
// pin this behaviour down.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/packet_buffer.h"
#include "io/host.h"
#include "io/linux/unique_fd.h"
#include "offload/coalescer.h"
#include "offload/segmenter.h"
#include "offload/virtio_net_header.h"

namespace etherip {

struct TapOptions {
  // TUNSETPERSIST: the link outlives this object's fd (see above).
  bool persist = false;
};

class LinuxTap : public TapDevice {
 public:
  // Creates TAP device `name` (Ethernet frames, no packet-information
  // prefix) with its carrier off, and opens it non-blocking. Never takes
  // over an existing link of that name, TAP or not (IFF_TUN_EXCL): EEXIST
  // "NAME: create tap: an interface of that name exists". An invalid name
  // (ValidateInterfaceName: empty, > 15 bytes, '/', ':', '%', white space)
  // is refused with EINVAL before any system call; '%' in particular would
  // make the kernel choose a name for us. Other errors carry the errno of
  // the failing call (EPERM without CAP_NET_ADMIN, ENOENT without
  // /dev/net/tun, ...). With `options.persist`, the TAP is made persistent
  // last, so a failed Create() never leaves a link behind.
  static Result<std::unique_ptr<LinuxTap>> Create(
      std::string_view name, const TapOptions& options = {});

  // Opens the existing persistent TAP `name` (one that no fd holds, e.g.
  // left by an earlier daemon) with the same flags and offload setup as
  // Create(), and its carrier off as Create() leaves it (the kernel turns
  // the carrier off when a TAP's last fd closes and on when one attaches;
  // the caller turns it on when the interface runs). It stays persistent
  // (SetPersist(false) before closing to remove it) and keeps its MTU,
  // address, group and up/down state: the caller sets what it wants.
  // Errors:
  //   EINVAL  an invalid name (before any system call);
  //   ENODEV  "NAME: attach tap: no such device": no link of that name;
  //   EEXIST  "NAME: attach tap: an interface of that name exists and is
  //           not a TAP": a veth, a TUN, loopback, ... (the kernel also
  //           refuses a multi-queue TAP this way);
  //   EBUSY   "NAME: attach tap: in use": another fd holds the TAP (a
  //           running daemon, or a TAP that is not persistent).
  // Never creates a link: when the name disappears between the check and
  // the attach, the TAP the kernel makes instead is closed (so removed)
  // and the answer is ENODEV.
  static Result<std::unique_ptr<LinuxTap>> Attach(std::string_view name);

  // TUNSETOFFLOAD flags (TUN_F_*) the kernel granted.
  unsigned offloads() const { return offloads_; }
  // "csum tso4 tso6 tso_ecn uso4 uso6": the granted offloads, for show.
  std::string OffloadNames() const;
  // The interface MTU segments are cut for; the daemon keeps it equal to
  // the link's MTU. Safe to call while another thread reads.
  void SetMtu(unsigned mtu) override {
    mtu_.store(mtu, std::memory_order_relaxed);
  }
  // The TAP's fd, to watch for EPOLLIN (frames to read) and EPOLLERR (the
  // link was deleted). Owned by this object.
  int fd() const override { return fd_.get(); }
  const std::string& name() const { return name_; }
  // The link's index in its namespace, for LinkControl. Fixed at creation.
  int ifindex() const override { return ifindex_; }

  // Turns the link's carrier (LOWER_UP) on or off (TUNSETCARRIER). The
  // daemon keeps it on exactly while the interface is running (SPEC 2).
  // While it is off the stack does not transmit on the link, so nothing
  // arrives for ReadFrames().
  Status SetCarrier(bool on) override;

  // TUNSETPERSIST: whether the link outlives this object (see above). To
  // remove a persistent TAP: SetPersist(false), then destroy the object.
  // EBADFD once the link was deleted.
  Status SetPersist(bool on) override;

  // Reads frames until none is ready (EAGAIN) or the batch is full; 0 when
  // none is ready. A super-frame fills as many buffers as it has segments;
  // when they run out, the rest is handed over by the next call (before
  // anything new is read). A frame whose offload request is malformed is
  // dropped (TakeUnsendable()). An error (EBADFD after the link was
  // deleted, EIO, ...) means: stop polling this fd. When some frames were
  // read before the error they are returned, and the next call reports the
  // error.
  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override;
  bool HasHeldFrames() const override { return segments_.active(); }

  // Merges TCP segments (UDP datagrams too with USO), then writes each
  // resulting frame with write(), its virtio-net header in the buffer's
  // headroom. Returns how many of the given frames were taken (merged ones
  // count each). A frame the device refuses is skipped (EAGAIN or ENOBUFS:
  // no room; EIO: the link is down; EINVAL: not a valid frame, e.g. under
  // 14 bytes). EBADFD (the link was deleted) is returned as an error.
  Result<size_t> WriteFrames(std::span<PacketBuffer* const> frames) override;

  size_t TakeUnsendable() override { return std::exchange(unsendable_, 0); }

 private:
  LinuxTap(UniqueFd fd, std::string name, int ifindex, unsigned offloads);

  // Wraps a TAP fd that is set up (TUNSETIFF, virtio-net header, offloads
  // `offloads`), with the index of link `name` in the calling thread's
  // namespace.
  static Result<std::unique_ptr<LinuxTap>> Make(UniqueFd fd,
                                                std::string_view name,
                                                unsigned offloads,
                                                const std::string& context);

  // Reads one frame and its header into `buffer`; 0 when none is ready.
  Result<size_t> ReadOne(PacketBuffer& buffer, VirtioNetHeader& header);
  // Writes one frame behind `header`; an error only when the device is
  // gone.
  Status WriteOne(PacketBuffer& frame, const VirtioNetHeader& header);

  UniqueFd fd_;
  std::string name_;
  int ifindex_;
  unsigned offloads_;
  // UDP datagrams are merged only where the kernel takes USO super-frames
  // written to a TAP (it granted USO: Linux 6.2+).
  CoalesceOptions coalesce_;
  std::atomic<unsigned> mtu_{1500};
  // The super-frame being split, and where its segments stand.
  PacketBuffer super_frame_;
  SegmentCursor segments_;
  size_t unsendable_ = 0;
};

}  // namespace etherip
