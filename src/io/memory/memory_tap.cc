#include "io/memory/memory_tap.h"

#include <algorithm>
#include <cerrno>

namespace etherip {

Result<size_t> MemoryTap::ReadFrames(std::span<PacketBuffer> buffers) {
  if (broken_) return Fail(EIO, "memory tap: broken");
  size_t count = 0;
  while (count < buffers.size() && !to_daemon_.empty()) {
    Frame& frame = to_daemon_.front();
    auto room = buffers[count].ResetForRead();
    const size_t n = std::min(frame.size(), room.size());
    std::copy_n(frame.begin(), n, room.begin());
    buffers[count].Commit(n);
    to_daemon_.pop_front();
    ++count;
  }
  return count;
}

Result<size_t> MemoryTap::WriteFrames(
    std::span<const std::span<const uint8_t>> frames) {
  if (broken_) return Fail(EIO, "memory tap: broken");
  for (const auto& frame : frames)
    delivered_.emplace_back(frame.begin(), frame.end());
  return frames.size();
}

std::vector<MemoryTap::Frame> MemoryTap::TakeDelivered() {
  return std::exchange(delivered_, {});
}

}  // namespace etherip
