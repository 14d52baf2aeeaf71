// Fuzzes software segmentation and checksum completion. Input: a 10-byte
// virtio-net header (little-endian, as the TAP writes it), a 2-byte
// big-endian maximum frame size, then the frame. Checks the invariants that
// must hold for every super-frame the plan accepts, against checks written
// here (a naive checksum, not checksum.h's).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "offload/frame_layout.h"
#include "offload/segmenter.h"
#include "offload/virtio_net_header.h"

namespace {

using namespace etherip;
using fuzz::Check;

uint16_t Be16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}
uint32_t Be32(std::span<const uint8_t> bytes, size_t at) {
  return uint32_t{bytes[at]} << 24 | uint32_t{bytes[at + 1]} << 16 |
         uint32_t{bytes[at + 2]} << 8 | bytes[at + 3];
}

// RFC 1071, one byte at a time: folded, not complemented.
uint16_t NaiveSum(std::span<const uint8_t> bytes, uint32_t sum = 0) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    sum += (i % 2 == 0) ? uint32_t{bytes[i]} << 8 : uint32_t{bytes[i]};
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

// The sum of the segment's pseudo-header and L4 bytes: 0xffff when its
// checksum is right.
uint16_t L4Sum(std::span<const uint8_t> segment, const FrameLayout& layout) {
  std::vector<uint8_t> pseudo;
  const size_t l3 = layout.l3_offset;
  const size_t l4_length = segment.size() - layout.l4_offset;
  if (layout.ip_version == 4) {
    pseudo.assign(segment.begin() + l3 + 12, segment.begin() + l3 + 20);
    pseudo.insert(pseudo.end(),
                  {0, layout.l4_protocol, static_cast<uint8_t>(l4_length >> 8),
                   static_cast<uint8_t>(l4_length)});
  } else {
    pseudo.assign(segment.begin() + l3 + 8, segment.begin() + l3 + 40);
    pseudo.insert(pseudo.end(), {0, 0, static_cast<uint8_t>(l4_length >> 8),
                                 static_cast<uint8_t>(l4_length), 0, 0, 0,
                                 layout.l4_protocol});
  }
  return NaiveSum(segment.subspan(layout.l4_offset), NaiveSum(pseudo));
}

void CheckSegments(const SegmentPlan& plan, std::span<const uint8_t> frame,
                   size_t max_frame_size) {
  const FrameLayout& original = plan.layout;
  const size_t headers = original.header_length;
  Check(plan.count >= 1);
  Check(plan.payload_size >= 1);
  Check(plan.max_segment_size() <= max_frame_size);
  Check(plan.total_payload == original.ip_end - headers);
  // Exactly the promised room, so that ASan sees a write past it.
  std::vector<uint8_t> out(plan.max_segment_size());
  size_t payload_at = headers;
  for (size_t i = 0; i < plan.count; ++i) {
    const size_t length = WriteSegment(plan, frame, i, out);
    Check(length <= out.size() && length <= max_frame_size);
    const std::span<const uint8_t> segment(out.data(), length);
    auto layout = ParseFrameLayout(segment);
    Check(layout.has_value());
    Check(layout->l3_offset == original.l3_offset &&
          layout->l4_offset == original.l4_offset &&
          layout->header_length == headers &&
          layout->l4_protocol == original.l4_protocol &&
          layout->ip_end == length);
    // Every segment but the last is full; the last is not empty unless
    // the super-frame had no payload.
    const size_t payload = length - headers;
    if (i + 1 < plan.count) Check(payload == plan.payload_size);
    if (plan.total_payload != 0) Check(payload >= 1);
    Check(std::memcmp(segment.data(), frame.data(), original.l3_offset) == 0);
    Check(std::memcmp(segment.data() + headers, frame.data() + payload_at,
                      payload) == 0);
    payload_at += payload;

    const size_t l3 = original.l3_offset;
    const size_t l4 = original.l4_offset;
    if (original.ip_version == 4) {
      Check(NaiveSum(segment.subspan(l3, l4 - l3)) == 0xffff);
      Check(Be16(segment, l3 + 4) ==
            static_cast<uint16_t>(Be16(frame, l3 + 4) + i));
    }
    Check(L4Sum(segment, original) == 0xffff);
    if (original.l4_protocol == kIpProtocolTcp) {
      Check(Be32(segment, l4 + 4) ==
            static_cast<uint32_t>(Be32(frame, l4 + 4) + i * plan.payload_size));
      const uint8_t flags = frame[l4 + 13];
      uint8_t expected = flags;
      if (i != 0) expected &= static_cast<uint8_t>(~0x80);  // CWR
      if (i + 1 != plan.count) {
        expected &= static_cast<uint8_t>(~0x09);  // FIN, PSH
      }
      Check(segment[l4 + 13] == expected);
    } else {
      Check(Be16(segment, l4 + 4) == length - l4);
      Check(Be16(segment, l4 + 6) != 0);
    }
  }
  Check(payload_at == original.ip_end);
}

// On a NEEDS_CSUM frame whose offsets fit, the field becomes the
// complement of the range's sum as it was (field included), and nothing
// else changes.
void CheckCompletion(const VirtioNetHeader& header,
                     std::span<const uint8_t> frame) {
  std::vector<uint8_t> copy(frame.begin(), frame.end());
  const auto status = CompleteChecksum(header, copy);
  if (!(header.flags & VirtioNetHeader::kNeedsChecksum)) {
    Check(status.has_value());
    Check(std::memcmp(copy.data(), frame.data(), frame.size()) == 0);
    return;
  }
  const size_t start = header.checksum_start;
  const size_t field = start + header.checksum_offset;
  size_t end = frame.size();
  if (auto layout = ParseFrameLayout(frame); layout && layout->ip_end < end) {
    end = layout->ip_end;
  }
  if (field + 2 > end) {
    Check(!status.has_value());
    Check(std::memcmp(copy.data(), frame.data(), frame.size()) == 0);
    return;
  }
  Check(status.has_value());
  uint16_t expected =
      static_cast<uint16_t>(~NaiveSum(frame.subspan(start, end - start)));
  if (expected == 0 && header.checksum_offset == 6) expected = 0xffff;
  Check(Be16(copy, field) == expected);
  Check(std::memcmp(copy.data(), frame.data(), field) == 0);
  Check(std::memcmp(copy.data() + field + 2, frame.data() + field + 2,
                    frame.size() - field - 2) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < VirtioNetHeader::kSize + 2) return 0;
  const VirtioNetHeader header =
      VirtioNetHeader::Decode(std::span<const uint8_t, VirtioNetHeader::kSize>(
          data, VirtioNetHeader::kSize));
  const size_t max_frame_size = static_cast<size_t>(
      data[VirtioNetHeader::kSize] << 8 | data[VirtioNetHeader::kSize + 1]);
  // A copy of exactly the frame's size, so that ASan sees a read past it.
  const std::vector<uint8_t> frame(data + VirtioNetHeader::kSize + 2,
                                   data + size);

  auto plan = PlanSegments(header, frame, max_frame_size);
  if (plan) CheckSegments(*plan, frame, max_frame_size);
  CheckCompletion(header, frame);
  return 0;
}
