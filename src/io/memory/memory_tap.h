// An in-memory FrameDevice: the "host side" injects frames the daemon will
// read, and collects the frames the daemon wrote.
//
// With offloads on, it behaves as a TAP with IFF_VNET_HDR and TSO/USO
// granted does: the host side may inject super-frames (with a virtio-net
// header), which ReadFrames hands over as their segments, no larger than
// the MTU allows; and WriteFrames coalesces TCP segments (and UDP
// datagrams, unless Offloads::uso is off), so the host side sees
// super-frames with their headers. That lets the engine's handling of
// offloads be tested without a kernel.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "io/frame_device.h"
#include "offload/segmenter.h"
#include "offload/virtio_net_header.h"

namespace etherip {

class MemoryTap : public FrameDevice {
 public:
  using Frame = std::vector<uint8_t>;

  struct Offloads {
    size_t mtu = 1500;  // caps segments at mtu + 14 (+4 per VLAN tag)
    bool uso = true;    // writes merge UDP datagrams too
  };
  // What the host side sees of a written frame.
  struct Delivered {
    Frame frame;
    VirtioNetHeader header;  // zero unless coalesced
  };

  MemoryTap() = default;
  explicit MemoryTap(Offloads offloads) : offloads_(offloads) {}

  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override;
  bool HasHeldFrames() const override { return segments_.active(); }
  Result<size_t> WriteFrames(std::span<PacketBuffer* const> frames) override;

  // As if the host's stack transmitted `frame` on the interface.
  void Inject(Frame frame) { to_daemon_.push_back({std::move(frame), {}}); }
  // A super-frame (or a frame needing its checksum completed), with the
  // header the kernel would put in front of it. Needs offloads.
  void InjectWithHeader(Frame frame, const VirtioNetHeader& header) {
    to_daemon_.push_back({std::move(frame), header});
  }
  // Frames the daemon delivered to the interface, oldest first; clears them.
  std::vector<Frame> TakeDelivered();
  // The same with the virtio-net header each was written with.
  std::vector<Delivered> TakeDeliveredWithHeaders();
  size_t pending() const { return to_daemon_.size(); }
  // WriteFrames calls so far.
  size_t write_calls() const { return write_calls_; }
  // Frames (super-frames count once) that could not be handed over: a
  // super-frame that cannot be cut, or injected without offloads.
  size_t TakeUnsendable() override { return std::exchange(unsendable_, 0); }
  // Makes later reads and writes fail, as a deleted link does.
  void Break() { broken_ = true; }

 private:
  struct Injected {
    Frame frame;
    VirtioNetHeader header;
  };

  std::optional<Offloads> offloads_;
  std::deque<Injected> to_daemon_;
  SegmentCursor segments_;  // of the front super-frame
  std::vector<Delivered> delivered_;
  size_t unsendable_ = 0;
  size_t write_calls_ = 0;
  bool broken_ = false;
};

}  // namespace etherip
