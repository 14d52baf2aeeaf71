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
  // Room for an outer IPv6 header plus the EtherIP header, or a
  // virtio-net header, rounded up.
  static constexpr size_t kHeadroom = 64;
  // A whole 64 KiB IP packet (an IPv6 one: 40 + 65535 bytes) behind an
  // Ethernet header and two VLAN tags, rounded up: offloaded super-frames
  // (TSO, and coalesced ones) and reassembled outer packets fit.
  static constexpr size_t kMaxData = 65536 + 128;

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
  // Grows the packet at the end by n bytes (must fit in tailroom()) and
  // returns them.
  std::span<uint8_t> Append(size_t n) {
    assert(n <= tailroom());
    const size_t end = offset_ + size_;
    size_ += n;
    return {storage_.get() + end, n};
  }
  // Makes `inside`, a part of data(), the whole packet.
  void Narrow(std::span<const uint8_t> inside) {
    assert(inside.data() >= storage_.get() + offset_ &&
           inside.data() + inside.size() <= storage_.get() + offset_ + size_);
    offset_ = static_cast<size_t>(inside.data() - storage_.get());
    size_ = inside.size();
  }
  size_t headroom() const { return offset_; }
  size_t tailroom() const { return kHeadroom + kMaxData - offset_ - size_; }

 private:
  std::unique_ptr<uint8_t[]> storage_;
  size_t offset_;
  size_t size_ = 0;
};

}  // namespace etherip
