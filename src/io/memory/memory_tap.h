// An in-memory FrameDevice: the "host side" injects frames the daemon will
// read, and collects the frames the daemon wrote.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "io/frame_device.h"

namespace etherip {

class MemoryTap : public FrameDevice {
 public:
  using Frame = std::vector<uint8_t>;

  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override;
  Result<size_t> WriteFrames(
      std::span<const std::span<const uint8_t>> frames) override;

  // As if the host's stack transmitted `frame` on the interface.
  void Inject(Frame frame) { to_daemon_.push_back(std::move(frame)); }
  // Frames the daemon delivered to the interface, oldest first; clears them.
  std::vector<Frame> TakeDelivered();
  size_t pending() const { return to_daemon_.size(); }
  // Makes later reads and writes fail, as a deleted link does.
  void Break() { broken_ = true; }

 private:
  std::deque<Frame> to_daemon_;
  std::vector<Frame> delivered_;
  bool broken_ = false;
};

}  // namespace etherip
