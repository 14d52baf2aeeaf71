#include "io/memory/memory_tap.h"

#include <algorithm>
#include <cerrno>

#include "offload/coalescer.h"

namespace etherip {

Result<size_t> MemoryTap::ReadFrames(std::span<PacketBuffer> buffers) {
  if (broken_) return Fail(EIO, "memory tap: broken");
  size_t count = 0;
  while (count < buffers.size() && !to_daemon_.empty()) {
    Injected& front = to_daemon_.front();
    const bool needs_offloads =
        front.header.is_gso() ||
        (front.header.flags & VirtioNetHeader::kNeedsChecksum);
    if (needs_offloads && !offloads_) {
      ++unsendable_;
      to_daemon_.pop_front();
      continue;
    }
    if (front.header.is_gso()) {
      if (!segments_.active() &&
          !segments_.Start(front.header, front.frame, offloads_->mtu)) {
        ++unsendable_;
        to_daemon_.pop_front();
        continue;
      }
      count += segments_.Next(front.frame, buffers.subspan(count));
      if (!segments_.active()) to_daemon_.pop_front();
      continue;
    }
    auto room = buffers[count].ResetForRead();
    const size_t n = std::min(front.frame.size(), room.size());
    std::copy_n(front.frame.begin(), n, room.begin());
    buffers[count].Commit(n);
    const bool completed =
        CompleteChecksum(front.header, buffers[count].data()).has_value();
    to_daemon_.pop_front();
    if (!completed) {
      ++unsendable_;
      continue;
    }
    ++count;
  }
  return count;
}

Result<size_t> MemoryTap::WriteFrames(std::span<PacketBuffer* const> frames) {
  if (broken_) return Fail(EIO, "memory tap: broken");
  ++write_calls_;
  if (!offloads_) {
    for (PacketBuffer* buffer : frames) {
      auto bytes = std::as_const(*buffer).data();
      delivered_.push_back({{bytes.begin(), bytes.end()}, {}});
    }
    return frames.size();
  }
  (void)WriteCoalesced(
      frames, CoalesceOptions{.udp = offloads_->uso},
      [this](PacketBuffer& frame, const VirtioNetHeader& h) {
        auto bytes = std::as_const(frame).data();
        delivered_.push_back({{bytes.begin(), bytes.end()}, h});
        return Status{};
      });
  return frames.size();
}

std::vector<MemoryTap::Frame> MemoryTap::TakeDelivered() {
  std::vector<Frame> frames;
  for (Delivered& one : std::exchange(delivered_, {}))
    frames.push_back(std::move(one.frame));
  return frames;
}

std::vector<MemoryTap::Delivered> MemoryTap::TakeDeliveredWithHeaders() {
  return std::exchange(delivered_, {});
}

}  // namespace etherip
