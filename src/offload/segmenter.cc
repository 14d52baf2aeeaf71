#include "offload/segmenter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "offload/checksum.h"

namespace etherip {
namespace {

constexpr size_t kIpv6HeaderLength = 40;
constexpr size_t kIpv4TotalLengthAt = 2;
constexpr size_t kIpv4IdentificationAt = 4;
constexpr size_t kIpv4HeaderChecksumAt = 10;
constexpr size_t kIpv4SourceAt = 12;
constexpr size_t kIpv4DestinationAt = 16;
constexpr size_t kIpv6PayloadLengthAt = 4;
constexpr size_t kIpv6SourceAt = 8;
constexpr size_t kIpv6DestinationAt = 24;
constexpr size_t kTcpSequenceAt = 4;
constexpr size_t kTcpFlagsAt = 13;
constexpr size_t kTcpChecksumAt = 16;
constexpr size_t kUdpLengthAt = 4;
constexpr size_t kUdpChecksumAt = 6;

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;

tl::unexpected<Error> BadSuperFrame(std::string_view what) {
  return Fail(EINVAL, fmt::format("super-frame: {}", what));
}

const char* GsoKindName(uint8_t kind) {
  switch (kind) {
    case VirtioNetHeader::kGsoTcpV4:
      return "TCPv4";
    case VirtioNetHeader::kGsoTcpV6:
      return "TCPv6";
    case VirtioNetHeader::kGsoUdpL4:
      return "UDP_L4";
    default:
      return "?";
  }
}

// Whether a GSO kind fits the frame: each kind names exactly one IP
// version (TCP) or any (USO) and one L4 protocol.
bool GsoKindMatches(uint8_t kind, const FrameLayout& layout) {
  switch (kind) {
    case VirtioNetHeader::kGsoTcpV4:
      return layout.ip_version == 4 && layout.l4_protocol == kIpProtocolTcp;
    case VirtioNetHeader::kGsoTcpV6:
      return layout.ip_version == 6 && layout.l4_protocol == kIpProtocolTcp;
    case VirtioNetHeader::kGsoUdpL4:
      return layout.l4_protocol == kIpProtocolUdp;
    default:
      return false;
  }
}

// The pseudo-header sum of a segment whose IP header starts at `l3`, with
// the addresses of that header. (With an IPv6 routing header, RFC 8200
// section 8.1 wants the final destination instead; not handled.)
ChecksumAccumulator SegmentPseudoHeaderSum(const FrameLayout& layout,
                                           const uint8_t* l3,
                                           size_t l4_length) {
  const size_t address_length = layout.ip_version == 4 ? 4 : 16;
  const size_t source_at =
      layout.ip_version == 4 ? kIpv4SourceAt : kIpv6SourceAt;
  const size_t destination_at =
      layout.ip_version == 4 ? kIpv4DestinationAt : kIpv6DestinationAt;
  return PseudoHeaderSum({l3 + source_at, address_length},
                         {l3 + destination_at, address_length},
                         layout.l4_protocol, static_cast<uint32_t>(l4_length));
}

}  // namespace

Result<SegmentPlan> PlanSegments(const VirtioNetHeader& header,
                                 std::span<const uint8_t> frame,
                                 size_t max_frame_size) {
  const uint8_t kind = header.gso_kind();
  if (kind != VirtioNetHeader::kGsoTcpV4 &&
      kind != VirtioNetHeader::kGsoTcpV6 &&
      kind != VirtioNetHeader::kGsoUdpL4) {
    return BadSuperFrame(fmt::format("GSO type {} not supported", kind));
  }
  auto layout = ParseFrameLayout(frame);
  if (!layout) return BadSuperFrame(layout.error().message);
  if (!GsoKindMatches(kind, *layout)) {
    return BadSuperFrame(
        fmt::format("GSO type {} on an IPv{} {} frame", GsoKindName(kind),
                    layout->ip_version,
                    layout->l4_protocol == kIpProtocolTcp ? "TCP" : "UDP"));
  }
  if (header.checksum_start != layout->l4_offset) {
    return BadSuperFrame(
        fmt::format("checksum start {} is not the L4 header's offset {}",
                    header.checksum_start, layout->l4_offset));
  }
  if (header.gso_size == 0) return BadSuperFrame("GSO size 0");
  if (max_frame_size <= layout->header_length) {
    return BadSuperFrame(fmt::format(
        "maximum frame size {} leaves no room for payload after {} bytes of "
        "headers",
        max_frame_size, layout->header_length));
  }
  SegmentPlan plan;
  plan.layout = *layout;
  plan.gso_kind = kind;
  plan.ecn = (header.gso_type & VirtioNetHeader::kGsoEcn) != 0;
  plan.payload_size =
      std::min<size_t>(header.gso_size, max_frame_size - layout->header_length);
  plan.total_payload = layout->ip_end - layout->header_length;
  plan.count = std::max<size_t>(
      1, (plan.total_payload + plan.payload_size - 1) / plan.payload_size);
  return plan;
}

size_t WriteSegment(const SegmentPlan& plan, std::span<const uint8_t> frame,
                    size_t index, std::span<uint8_t> out) {
  const FrameLayout& layout = plan.layout;
  assert(index < plan.count);
  assert(out.size() >= plan.max_segment_size());
  assert(frame.size() >= layout.ip_end);
  const size_t headers_length = layout.header_length;
  const size_t payload_start = headers_length + index * plan.payload_size;
  const size_t payload_end =
      std::min(payload_start + plan.payload_size, layout.ip_end);
  const std::span<const uint8_t> payload =
      frame.subspan(payload_start, payload_end - payload_start);
  const size_t segment_length = headers_length + payload.size();
  const bool first = index == 0;
  const bool last = index + 1 == plan.count;

  uint8_t* const segment = out.data();
  std::memcpy(segment, frame.data(), headers_length);
  std::memcpy(segment + headers_length, payload.data(), payload.size());

  uint8_t* const l3 = segment + layout.l3_offset;
  const size_t ip_length = segment_length - layout.l3_offset;
  if (layout.ip_version == 4) {
    const size_t ipv4_header_length = layout.l4_offset - layout.l3_offset;
    StoreBe16(l3 + kIpv4TotalLengthAt, static_cast<uint16_t>(ip_length));
    StoreBe16(
        l3 + kIpv4IdentificationAt,
        static_cast<uint16_t>(LoadBe16(l3 + kIpv4IdentificationAt) + index));
    StoreBe16(l3 + kIpv4HeaderChecksumAt, 0);
    StoreBe16(l3 + kIpv4HeaderChecksumAt,
              ChecksumFinish(ChecksumAdd(0, {l3, ipv4_header_length})));
  } else {
    // Covers the extension headers too.
    StoreBe16(l3 + kIpv6PayloadLengthAt,
              static_cast<uint16_t>(ip_length - kIpv6HeaderLength));
  }

  uint8_t* const l4 = segment + layout.l4_offset;
  const size_t l4_header_length = headers_length - layout.l4_offset;
  const size_t l4_length = l4_header_length + payload.size();
  size_t checksum_at;
  if (layout.l4_protocol == kIpProtocolTcp) {
    StoreBe32(l4 + kTcpSequenceAt,
              static_cast<uint32_t>(LoadBe32(l4 + kTcpSequenceAt) +
                                    index * plan.payload_size));
    // Whatever the ECN bit says: the stack set CWR for the first segment
    // it would have sent, FIN and PSH for the last.
    uint8_t flags = l4[kTcpFlagsAt];
    if (!first) flags &= static_cast<uint8_t>(~kTcpCwr);
    if (!last) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    l4[kTcpFlagsAt] = flags;
    checksum_at = kTcpChecksumAt;
  } else {
    StoreBe16(l4 + kUdpLengthAt, static_cast<uint16_t>(l4_length));
    checksum_at = kUdpChecksumAt;
  }
  // Computed in full rather than from the field's pseudo-header sum: the
  // field is the sender's word, the addresses and lengths are not.
  StoreBe16(l4 + checksum_at, 0);
  ChecksumAccumulator sum = SegmentPseudoHeaderSum(layout, l3, l4_length);
  sum = ChecksumAdd(sum, {l4, l4_header_length});
  sum = ChecksumAdd(sum, payload);
  uint16_t checksum = ChecksumFinish(sum);
  // UDP sends "no checksum" as 0 (and IPv6 forbids it); 0xffff is the same
  // sum.
  if (checksum == 0 && layout.l4_protocol == kIpProtocolUdp) checksum = 0xffff;
  StoreBe16(l4 + checksum_at, checksum);
  return segment_length;
}

Status SegmentCursor::Start(const VirtioNetHeader& header,
                            std::span<const uint8_t> frame, size_t mtu) {
  auto plan = PlanSegments(header, frame, MaxFrameSize(mtu, frame));
  if (!plan) return tl::unexpected(std::move(plan.error()));
  plan_ = *plan;
  next_ = 0;
  return {};
}

size_t SegmentCursor::Next(std::span<const uint8_t> frame,
                           std::span<PacketBuffer> buffers) {
  size_t count = 0;
  while (plan_ && count < buffers.size()) {
    auto room = buffers[count].ResetForRead();
    buffers[count++].Commit(WriteSegment(*plan_, frame, next_++, room));
    if (next_ == plan_->count) plan_.reset();
  }
  return count;
}

Status CompleteChecksum(const VirtioNetHeader& header,
                        std::span<uint8_t> frame) {
  if ((header.flags & VirtioNetHeader::kNeedsChecksum) == 0) return {};
  const size_t start = header.checksum_start;
  const size_t field_end = start + header.checksum_offset + 2;
  if (field_end > frame.size()) {
    return Fail(EINVAL,
                fmt::format("frame checksum: field at {} + {} beyond the "
                            "{}-byte frame",
                            start, header.checksum_offset, frame.size()));
  }
  // Ethernet padding after the IP packet is not covered.
  size_t end = frame.size();
  if (auto layout = ParseFrameLayout(frame); layout && layout->ip_end < end) {
    end = layout->ip_end;
  }
  if (field_end > end) {
    return Fail(EINVAL,
                fmt::format("frame checksum: field at {} + {} beyond the "
                            "IP packet's end at {}",
                            start, header.checksum_offset, end));
  }
  // The field holds the pseudo-header sum, so it is summed with the rest.
  uint16_t checksum =
      ChecksumFinish(ChecksumAdd(0, frame.subspan(start, end - start)));
  // At offset 6 the field is UDP's (or DCCP's, to which 0xffff is the same
  // sum): 0 would mean "no checksum".
  if (checksum == 0 && header.checksum_offset == kUdpChecksumAt) {
    checksum = 0xffff;
  }
  StoreBe16(&frame[start + header.checksum_offset], checksum);
  return {};
}

}  // namespace etherip
