// The interface side of a tunnel: a TAP-like device that frames are read
// from (to be sent) and written to (when received). Batch-shaped, like
// wireguard-go's tun.Device: many frames per call.
#pragma once

#include <cstddef>
#include <span>

#include "core/error.h"
#include "core/packet_buffer.h"

namespace etherip {

class FrameDevice {
 public:
  virtual ~FrameDevice() = default;

  // Reads up to buffers.size() frames without blocking, each into a buffer
  // (after its headroom). Returns how many were read; 0 when none is ready.
  // An error means the device is gone or broken: stop polling it.
  virtual Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) = 0;

  // Writes frames; returns how many were taken. A frame the device refuses
  // is skipped, not retried.
  virtual Result<size_t> WriteFrames(
      std::span<const std::span<const uint8_t>> frames) = 0;
};

}  // namespace etherip
