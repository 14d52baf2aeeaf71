#include "io/memory/memory_tap.h"

#include <algorithm>
#include <array>
#include <cerrno>

#include "offload/coalescer.h"
#include "offload/frame_layout.h"

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
      if (!splitting_) {
        auto plan = PlanSegments(front.header, front.frame,
                                 MaxFrameSize(offloads_->mtu, front.frame));
        if (!plan) {
          ++unsendable_;
          to_daemon_.pop_front();
          continue;
        }
        splitting_ = Splitting{*plan, 0};
      }
      while (count < buffers.size() &&
             splitting_->next < splitting_->plan.count) {
        auto room = buffers[count].ResetForRead();
        buffers[count].Commit(WriteSegment(splitting_->plan, front.frame,
                                           splitting_->next++, room));
        ++count;
      }
      if (splitting_->next == splitting_->plan.count) {
        splitting_.reset();
        to_daemon_.pop_front();
      }
      continue;
    }
    auto room = buffers[count].ResetForRead();
    const size_t n = std::min(front.frame.size(), room.size());
    std::copy_n(front.frame.begin(), n, room.begin());
    buffers[count].Commit(n);
    if (!CompleteChecksum(front.header, buffers[count].data())) {
      ++unsendable_;
      to_daemon_.pop_front();
      continue;
    }
    to_daemon_.pop_front();
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
  std::array<CoalescedFrame, 64> merged;
  size_t done = 0;
  while (done < frames.size()) {
    const auto chunk =
        frames.subspan(done, std::min(merged.size(), frames.size() - done));
    const size_t n =
        CoalesceTcp(chunk, merged, CoalesceOptions{.udp = offloads_->uso});
    for (size_t i = 0; i < n; ++i) {
      auto bytes = std::as_const(*merged[i].buffer).data();
      delivered_.push_back({{bytes.begin(), bytes.end()}, merged[i].header});
    }
    done += chunk.size();
  }
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
