// The interface side of a tunnel: a TAP-like device that frames are read
// from (to be sent) and written to (when received). Batch-shaped, like
// wireguard-go's tun.Device: many frames per call, in mutable buffers with
// headroom, so that an implementation with offloads can split what it reads
// and merge what it writes (and put its own header in front) in place.
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
  // (after its headroom). Every frame is a standard Ethernet frame, as it
  // goes on the wire: a device that is handed super-frames (TSO/USO)
  // returns their segments, and may keep the rest of one for the next call
  // when the buffers run out. Returns how many were read; 0 when none is
  // ready. An error means the device is gone or broken: stop polling it.
  virtual Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) = 0;

  // True while the device holds frames read from the kernel but not yet
  // handed over (the rest of a super-frame): the caller must call
  // ReadFrames again even though the device's fd may not be readable.
  virtual bool HasHeldFrames() const { return false; }

  // Frames read from the kernel since the last call that could not be
  // handed over (a super-frame that cannot be cut, a checksum request that
  // does not fit the frame): the caller counts them as send failures.
  virtual size_t TakeUnsendable() { return 0; }

  // Writes frames: each buffer's data() is one Ethernet frame. The device
  // may change the buffers (merge frames, write a header in the headroom).
  // Returns how many of the given frames it took. A frame the device
  // refuses is skipped, not retried; an error means the device is gone.
  virtual Result<size_t> WriteFrames(std::span<PacketBuffer* const> frames) = 0;
};

}  // namespace etherip
