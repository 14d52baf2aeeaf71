// A packet buffer with headroom: encapsulation prepends the EtherIP header
// (and, in the in-memory backend, the outer IP header) in place, without
// copying the frame. Allocated once and reused; nothing here allocates per
// packet.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace etherip {

class PacketBuffer {
 public:
  // Room for an outer IPv6 header plus the EtherIP header, rounded up.
  static constexpr size_t kHeadroom = 64;
  // Frames up to 64 KiB: offloaded super-frames (TSO/GRO) included.
  static constexpr size_t kMaxData = 65536;

  PacketBuffer()
      : storage_(new uint8_t[kHeadroom + kMaxData]), offset_(kHeadroom) {}

  // The bytes of the packet.
  std::span<uint8_t> data() { return {storage_.get() + offset_, size_}; }
  std::span<const uint8_t> data() const {
    return {storage_.get() + offset_, size_};
  }
  size_t size() const { return size_; }

  // Where a reader writes a new packet: kMaxData bytes after the headroom.
  // Follow with Commit(n).
  std::span<uint8_t> ResetForRead() {
    offset_ = kHeadroom;
    size_ = 0;
    return {storage_.get() + kHeadroom, kMaxData};
  }
  // Marks the first n bytes after the headroom as the packet.
  void Commit(size_t n) {
    assert(n <= kMaxData);
    offset_ = kHeadroom;
    size_ = n;
  }
  // Grows the packet at the front by n bytes (must fit in the headroom) and
  // returns them.
  std::span<uint8_t> Prepend(size_t n) {
    assert(n <= offset_);
    offset_ -= n;
    size_ += n;
    return {storage_.get() + offset_, n};
  }
  // Drops n bytes from the front.
  void Consume(size_t n) {
    assert(n <= size_);
    offset_ += n;
    size_ -= n;
  }
  size_t headroom() const { return offset_; }

 private:
  std::unique_ptr<uint8_t[]> storage_;
  size_t offset_;
  size_t size_ = 0;
};

}  // namespace etherip
