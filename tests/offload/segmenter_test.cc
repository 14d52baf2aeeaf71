#include "offload/segmenter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "offload/frame_builder.h"

namespace etherip {
namespace {

using ::testing::HasSubstr;
using testing_support::BuildFrame;
using testing_support::BuiltFrame;
using testing_support::FrameOffsets;
using testing_support::FrameSpec;
using testing_support::GsoHeaderFor;
using testing_support::Ipv4HeaderChecksumVerifies;
using testing_support::kIpv6DestinationOptions;
using testing_support::kIpv6HopByHop;
using testing_support::kTcpAck;
using testing_support::kTcpCwr;
using testing_support::kTcpEce;
using testing_support::kTcpFin;
using testing_support::kTcpPsh;
using testing_support::kTcpRst;
using testing_support::kTcpUrg;
using testing_support::L4Checksum;
using testing_support::L4ChecksumAt;
using testing_support::L4ChecksumSum;
using testing_support::L4ChecksumVerifies;
using testing_support::NaiveSum;
using testing_support::PatternPayload;
using testing_support::ReadBe16;
using testing_support::ReadBe32;
using testing_support::WriteBe16;

constexpr size_t kEthernetMtuFrame = 1514;  // MTU 1500 + 14

// A super-frame as the stack hands it over: the L4 checksum field holds
// the pseudo-header sum.
FrameSpec SuperFrameSpec(uint8_t ip_version, size_t payload_size) {
  FrameSpec spec;
  spec.ip_version = ip_version;
  spec.payload = PatternPayload(payload_size);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  return spec;
}

FrameSpec WithTimestamps(FrameSpec spec) {
  spec.tcp_options = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 7};
  return spec;
}

// Segment `index` of `spec` as the stack would have sent it, built
// independently of the segmenter.
BuiltFrame ExpectedSegment(const FrameSpec& spec, size_t index,
                           size_t payload_size, size_t count) {
  FrameSpec segment = spec;
  const size_t start = std::min(index * payload_size, spec.payload.size());
  const size_t end = std::min(start + payload_size, spec.payload.size());
  segment.payload.assign(spec.payload.begin() + start,
                         spec.payload.begin() + end);
  segment.ipv4_id = static_cast<uint16_t>(spec.ipv4_id + index);
  segment.tcp_sequence =
      static_cast<uint32_t>(spec.tcp_sequence + index * payload_size);
  if (index != 0) segment.tcp_flags &= ~kTcpCwr;
  if (index + 1 != count) {
    segment.tcp_flags &= ~(kTcpFin | kTcpPsh);
  }
  segment.l4_checksum = L4Checksum::kComplete;
  segment.ethernet_padding = 0;
  return BuildFrame(segment);
}

std::vector<std::vector<uint8_t>> WriteAll(const SegmentPlan& plan,
                                           std::span<const uint8_t> frame) {
  std::vector<std::vector<uint8_t>> segments;
  for (size_t i = 0; i < plan.count; ++i) {
    // Exactly the promised room, so that a write past it is caught (ASan).
    std::vector<uint8_t> out(plan.max_segment_size());
    const size_t length = WriteSegment(plan, frame, i, out);
    EXPECT_LE(length, out.size());
    out.resize(length);
    segments.push_back(std::move(out));
  }
  return segments;
}

// Segments `spec`'s frame and checks every segment byte for byte against
// ExpectedSegment, and the invariants: the count, each segment within
// `max_frame_size`, checksums that verify, payloads that add up to the
// original. Returns the segments.
std::vector<std::vector<uint8_t>> ExpectSegmentation(
    const FrameSpec& spec, uint16_t gso_size, size_t max_frame_size,
    size_t expected_count, size_t expected_payload_size) {
  const BuiltFrame frame = BuildFrame(spec);
  const VirtioNetHeader header = GsoHeaderFor(frame, gso_size);
  auto plan = PlanSegments(header, frame.bytes, max_frame_size);
  EXPECT_TRUE(plan.has_value()) << plan.error().message;
  if (!plan) return {};
  EXPECT_EQ(plan->count, expected_count);
  EXPECT_EQ(plan->payload_size, expected_payload_size);
  EXPECT_EQ(plan->total_payload, spec.payload.size());
  EXPECT_EQ(plan->layout.header_length, frame.offsets.payload);
  EXPECT_LE(plan->max_segment_size(), max_frame_size);

  const auto segments = WriteAll(*plan, frame.bytes);
  std::vector<uint8_t> reassembled;
  for (size_t i = 0; i < segments.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    const std::vector<uint8_t>& segment = segments[i];
    const BuiltFrame expected =
        ExpectedSegment(spec, i, plan->payload_size, plan->count);
    EXPECT_EQ(segment, expected.bytes);
    EXPECT_LE(segment.size(), max_frame_size);
    EXPECT_TRUE(L4ChecksumVerifies(segment, expected.offsets));
    if (spec.ip_version == 4) {
      EXPECT_TRUE(Ipv4HeaderChecksumVerifies(segment, expected.offsets));
    }
    if (i + 1 < segments.size()) {
      EXPECT_EQ(segment.size() - frame.offsets.payload, plan->payload_size);
    }
    reassembled.insert(reassembled.end(),
                       segment.begin() + frame.offsets.payload, segment.end());
  }
  EXPECT_EQ(reassembled, spec.payload);
  return segments;
}

void ExpectPlanRefused(const VirtioNetHeader& header,
                       std::span<const uint8_t> frame, size_t max_frame_size,
                       const std::string& reason) {
  auto plan = PlanSegments(header, frame, max_frame_size);
  ASSERT_FALSE(plan.has_value()) << "expected: " << reason;
  EXPECT_EQ(plan.error().code, EINVAL);
  EXPECT_THAT(plan.error().message, HasSubstr("super-frame: "));
  EXPECT_THAT(plan.error().message, HasSubstr(reason));
}

uint8_t TcpFlagsOf(const std::vector<uint8_t>& segment, size_t l4) {
  return segment[l4 + 13];
}

// --- TCP ---

TEST(Segmenter, TcpOverIpv4) {
  // 1460 bytes fit a 1514-byte frame; gso_size asks for 1448.
  const FrameSpec spec = SuperFrameSpec(4, 3000);
  const auto segments =
      ExpectSegmentation(spec, 1448, kEthernetMtuFrame, 3, 1448);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].size(), 54u + 1448);
  EXPECT_EQ(segments[2].size(), 54u + 104);  // the last is shorter
}

TEST(Segmenter, TcpOverIpv6WithTimestamps) {
  const FrameSpec spec = WithTimestamps(SuperFrameSpec(6, 10000));
  // Headers 14 + 40 + 32: 1428 bytes of payload fit.
  ExpectSegmentation(spec, 1428, kEthernetMtuFrame, 8, 1428);
}

TEST(Segmenter, TcpOverIpv4WithTimestamps) {
  const FrameSpec spec = WithTimestamps(SuperFrameSpec(4, 4344));
  ExpectSegmentation(spec, 1448, kEthernetMtuFrame, 3, 1448);
}

TEST(Segmenter, OneVlanTag) {
  FrameSpec spec = SuperFrameSpec(4, 5000);
  spec.vlan_tags = {{kEtherTypeVlan, 0x2064}};
  ExpectSegmentation(spec, 1460, kEthernetMtuFrame + 4, 4, 1460);
}

TEST(Segmenter, QinQOverIpv6) {
  FrameSpec spec = SuperFrameSpec(6, 5000);
  spec.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  ExpectSegmentation(spec, 1440, kEthernetMtuFrame + 8, 4, 1440);
}

TEST(Segmenter, Ipv4Options) {
  FrameSpec spec = SuperFrameSpec(4, 3000);
  spec.ipv4_options = {0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0};  // RA, RR
  // Headers 14 + 32 + 20.
  ExpectSegmentation(spec, 1448, kEthernetMtuFrame, 3, 1448);
}

TEST(Segmenter, Ipv6ExtensionHeaders) {
  FrameSpec spec = SuperFrameSpec(6, 3000);
  spec.ipv6_extension_headers = {
      {kIpv6HopByHop, {5, 2, 0, 0, 1, 0}},
      {kIpv6DestinationOptions, std::vector<uint8_t>(14, 0)}};
  // Headers 14 + 40 + 24 + 20: the payload length covers the extensions.
  const auto segments =
      ExpectSegmentation(spec, 1400, kEthernetMtuFrame, 3, 1400);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(ReadBe16(segments[0], 14 + 4), 24u + 20 + 1400);
}

TEST(Segmenter, GsoSizeBeyondTheMtuIsCapped) {
  const FrameSpec spec = SuperFrameSpec(4, 20000);
  ExpectSegmentation(spec, 9000, kEthernetMtuFrame, 14, 1460);
}

TEST(Segmenter, OddGsoSize) {
  ExpectSegmentation(SuperFrameSpec(4, 3500), 1000, kEthernetMtuFrame, 4, 1000);
  ExpectSegmentation(SuperFrameSpec(6, 3001), 999, kEthernetMtuFrame, 4, 999);
}

TEST(Segmenter, GsoSizeOne) {
  FrameSpec spec = SuperFrameSpec(4, 37);
  spec.tcp_flags = kTcpAck | kTcpPsh | kTcpFin;
  ExpectSegmentation(spec, 1, kEthernetMtuFrame, 37, 1);
}

TEST(Segmenter, MaxFrameSizeOneByteBeyondTheHeaders) {
  ExpectSegmentation(SuperFrameSpec(6, 5), 1448, 74 + 1, 5, 1);
}

TEST(Segmenter, OneSegment) {
  FrameSpec spec = SuperFrameSpec(4, 500);
  spec.tcp_flags = kTcpAck | kTcpPsh | kTcpFin | kTcpCwr;
  const BuiltFrame frame = BuildFrame(spec);
  const auto segments =
      ExpectSegmentation(spec, 1448, kEthernetMtuFrame, 1, 1448);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(TcpFlagsOf(segments[0], 34), spec.tcp_flags);
  EXPECT_EQ(segments[0].size(), frame.bytes.size());
}

TEST(Segmenter, ExactMultipleOfTheSegmentSize) {
  ExpectSegmentation(SuperFrameSpec(4, 4 * 1448), 1448, kEthernetMtuFrame, 4,
                     1448);
}

TEST(Segmenter, NoPayloadMakesOneSegment) {
  FrameSpec spec = SuperFrameSpec(4, 0);
  spec.tcp_flags = kTcpAck | kTcpFin;
  ExpectSegmentation(spec, 1448, kEthernetMtuFrame, 1, 1448);
}

TEST(Segmenter, FlagsFinAndPshOnTheLastCwrOnTheFirst) {
  FrameSpec spec = SuperFrameSpec(4, 3000);
  spec.tcp_flags = kTcpCwr | kTcpEce | kTcpUrg | kTcpAck | kTcpPsh | kTcpFin;
  spec.tcp_urgent_pointer = 7;
  const auto segments =
      ExpectSegmentation(spec, 1000, kEthernetMtuFrame, 3, 1000);
  ASSERT_EQ(segments.size(), 3u);
  const uint8_t kept = kTcpEce | kTcpUrg | kTcpAck;
  EXPECT_EQ(TcpFlagsOf(segments[0], 34), kept | kTcpCwr);
  EXPECT_EQ(TcpFlagsOf(segments[1], 34), kept);
  EXPECT_EQ(TcpFlagsOf(segments[2], 34), kept | kTcpPsh | kTcpFin);
  for (const auto& segment : segments) EXPECT_EQ(ReadBe16(segment, 34 + 18), 7);
}

TEST(Segmenter, EveryFlagSet) {
  FrameSpec spec = SuperFrameSpec(6, 300);
  spec.tcp_flags = 0xff;  // RST and SYN too: copied as they are
  const auto segments =
      ExpectSegmentation(spec, 100, kEthernetMtuFrame, 3, 100);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(TcpFlagsOf(segments[0], 54), 0xff & ~(kTcpFin | kTcpPsh));
  EXPECT_EQ(TcpFlagsOf(segments[1], 54), 0xff & ~(kTcpFin | kTcpPsh | kTcpCwr));
  EXPECT_EQ(TcpFlagsOf(segments[2], 54), 0xff & ~kTcpCwr);
}

TEST(Segmenter, EcnBitIsAcceptedAndCwrStillOnlyFirst) {
  FrameSpec spec = SuperFrameSpec(4, 3000);
  spec.tcp_flags = kTcpAck | kTcpCwr;
  const BuiltFrame frame = BuildFrame(spec);
  VirtioNetHeader header = GsoHeaderFor(frame, 1448);
  header.gso_type |= VirtioNetHeader::kGsoEcn;
  auto plan = PlanSegments(header, frame.bytes, kEthernetMtuFrame);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_TRUE(plan->ecn);
  EXPECT_EQ(plan->gso_kind, VirtioNetHeader::kGsoTcpV4);
  const auto segments = WriteAll(*plan, frame.bytes);
  ASSERT_EQ(segments.size(), 3u);
  for (size_t i = 0; i < segments.size(); ++i) {
    EXPECT_EQ(segments[i],
              ExpectedSegment(spec, i, plan->payload_size, plan->count).bytes);
  }
  EXPECT_EQ(TcpFlagsOf(segments[0], 34), kTcpAck | kTcpCwr);
  EXPECT_EQ(TcpFlagsOf(segments[1], 34), kTcpAck);
}

TEST(Segmenter, RstWithPayloadIsCopied) {
  FrameSpec spec = SuperFrameSpec(4, 200);
  spec.tcp_flags = kTcpRst | kTcpAck;
  ExpectSegmentation(spec, 100, kEthernetMtuFrame, 2, 100);
}

TEST(Segmenter, Ipv4IdentificationWraps) {
  FrameSpec spec = SuperFrameSpec(4, 4000);
  spec.ipv4_id = 0xfffe;
  const auto segments =
      ExpectSegmentation(spec, 1000, kEthernetMtuFrame, 4, 1000);
  ASSERT_EQ(segments.size(), 4u);
  EXPECT_EQ(ReadBe16(segments[0], 14 + 4), 0xfffe);
  EXPECT_EQ(ReadBe16(segments[1], 14 + 4), 0xffff);
  EXPECT_EQ(ReadBe16(segments[2], 14 + 4), 0x0000);
  EXPECT_EQ(ReadBe16(segments[3], 14 + 4), 0x0001);
}

TEST(Segmenter, SequenceNumberWraps) {
  FrameSpec spec = SuperFrameSpec(6, 3000);
  spec.tcp_sequence = 0xfffffc00;
  const auto segments =
      ExpectSegmentation(spec, 1000, kEthernetMtuFrame, 3, 1000);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(ReadBe32(segments[1], 54 + 4), 0xfffffc00u + 1000);
  EXPECT_EQ(ReadBe32(segments[2], 54 + 4), 2000u - 0x400);
}

TEST(Segmenter, LargestSuperFrame) {
  // A 64 KiB IPv4 packet into 9000-byte jumbo frames.
  const FrameSpec spec = WithTimestamps(SuperFrameSpec(4, 65535 - 20 - 32));
  ExpectSegmentation(spec, 8948, 9014, 8, 8948);
  const FrameSpec ipv6 = SuperFrameSpec(6, 65535 - 20);
  ExpectSegmentation(ipv6, 1440, kEthernetMtuFrame, 46, 1440);
}

TEST(Segmenter, EthernetPaddingIsNotCopied) {
  FrameSpec spec = SuperFrameSpec(4, 5);
  spec.ethernet_padding = 7;
  BuiltFrame frame = BuildFrame(spec);
  std::fill(frame.bytes.end() - 7, frame.bytes.end(), 0xee);
  auto plan =
      PlanSegments(GsoHeaderFor(frame, 2), frame.bytes, kEthernetMtuFrame);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(plan->total_payload, 5u);
  const auto segments = WriteAll(*plan, frame.bytes);
  ASSERT_EQ(segments.size(), 3u);
  for (size_t i = 0; i < segments.size(); ++i) {
    EXPECT_EQ(segments[i], ExpectedSegment(spec, i, 2, 3).bytes);
  }
  EXPECT_EQ(segments[2].size(), 54u + 1);
}

TEST(Segmenter, HeaderLengthHintIsIgnored) {
  const FrameSpec spec = WithTimestamps(SuperFrameSpec(4, 3000));
  const BuiltFrame frame = BuildFrame(spec);
  for (uint16_t hint : {0, 54, 1000, 0xffff}) {
    VirtioNetHeader header = GsoHeaderFor(frame, 1448);
    header.header_length = hint;
    auto plan = PlanSegments(header, frame.bytes, kEthernetMtuFrame);
    ASSERT_TRUE(plan.has_value()) << plan.error().message;
    EXPECT_EQ(plan->layout.header_length, 66u);
    EXPECT_EQ(plan->count, 3u);
  }
}

TEST(Segmenter, SegmentsCanBeWrittenInAnyOrder) {
  const FrameSpec spec = SuperFrameSpec(4, 5000);
  const BuiltFrame frame = BuildFrame(spec);
  auto plan =
      PlanSegments(GsoHeaderFor(frame, 1448), frame.bytes, kEthernetMtuFrame);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  std::vector<uint8_t> out(plan->max_segment_size());
  for (size_t i = plan->count; i-- > 0;) {
    const size_t length = WriteSegment(*plan, frame.bytes, i, out);
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + length),
              ExpectedSegment(spec, i, plan->payload_size, plan->count).bytes);
  }
}

TEST(Segmenter, IncomingChecksumFieldIsNotTrusted) {
  FrameSpec spec = SuperFrameSpec(6, 3000);
  spec.l4_checksum = L4Checksum::kZero;
  ExpectSegmentation(spec, 1440, kEthernetMtuFrame, 3, 1440);
  spec.l4_checksum = L4Checksum::kComplete;
  ExpectSegmentation(spec, 1440, kEthernetMtuFrame, 3, 1440);
}

// --- UDP (USO) ---

TEST(Segmenter, UdpOverIpv4) {
  FrameSpec spec = SuperFrameSpec(4, 4000);
  spec.l4_protocol = kIpProtocolUdp;
  const auto segments =
      ExpectSegmentation(spec, 1472, kEthernetMtuFrame, 3, 1472);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(ReadBe16(segments[0], 34 + 4), 8u + 1472);
  EXPECT_EQ(ReadBe16(segments[2], 34 + 4), 8u + 4000 - 2 * 1472);
}

TEST(Segmenter, UdpOverIpv6WithVlanAndExtensionHeader) {
  FrameSpec spec = SuperFrameSpec(6, 4000);
  spec.l4_protocol = kIpProtocolUdp;
  spec.vlan_tags = {{kEtherTypeVlan, 7}};
  spec.ipv6_extension_headers = {{kIpv6DestinationOptions}};
  ExpectSegmentation(spec, 1200, kEthernetMtuFrame + 4, 4, 1200);
}

TEST(Segmenter, UdpGsoSizeCapped) {
  FrameSpec spec = SuperFrameSpec(6, 3000);
  spec.l4_protocol = kIpProtocolUdp;
  ExpectSegmentation(spec, 60000, kEthernetMtuFrame, 3, 1452);
}

// The last datagram's payload is tuned so its checksum computes to 0, which
// UDP must send as 0xffff.
void ExpectUdpZeroChecksumSentAsAllOnes(uint8_t ip_version) {
  FrameSpec spec = SuperFrameSpec(ip_version, 300);
  spec.l4_protocol = kIpProtocolUdp;
  const size_t payload_size = 100;
  {
    BuiltFrame last = ExpectedSegment(spec, 2, payload_size, 3);
    const size_t tail = last.bytes.size() - 2;
    last.bytes[tail] = last.bytes[tail + 1] = 0;
    WriteBe16(last.bytes, L4ChecksumAt(last.offsets), 0);
    const uint16_t rest = L4ChecksumSum(last.bytes, last.offsets);
    const uint16_t tuned = static_cast<uint16_t>(~rest);
    spec.payload[298] = static_cast<uint8_t>(tuned >> 8);
    spec.payload[299] = static_cast<uint8_t>(tuned);
  }
  const BuiltFrame frame = BuildFrame(spec);
  auto plan = PlanSegments(GsoHeaderFor(frame, payload_size), frame.bytes,
                           kEthernetMtuFrame);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const auto segments = WriteAll(*plan, frame.bytes);
  ASSERT_EQ(segments.size(), 3u);
  const BuiltFrame expected = ExpectedSegment(spec, 2, payload_size, 3);
  EXPECT_EQ(ReadBe16(segments[2], L4ChecksumAt(expected.offsets)), 0xffff);
  EXPECT_EQ(segments[2], expected.bytes);
  EXPECT_TRUE(L4ChecksumVerifies(segments[2], expected.offsets));
}

TEST(Segmenter, UdpZeroChecksumSentAsAllOnes) {
  ExpectUdpZeroChecksumSentAsAllOnes(4);
  ExpectUdpZeroChecksumSentAsAllOnes(6);
}

// --- refusals ---

TEST(Segmenter, RefusesUnsupportedGsoTypes) {
  const BuiltFrame frame = BuildFrame(SuperFrameSpec(4, 3000));
  for (uint8_t type :
       {VirtioNetHeader::kGsoNone, VirtioNetHeader::kGsoUdp, uint8_t{2},
        uint8_t{6}, uint8_t{0x7f}, uint8_t{VirtioNetHeader::kGsoEcn}}) {
    VirtioNetHeader header = GsoHeaderFor(frame, 1448);
    header.gso_type = type;
    ExpectPlanRefused(header, frame.bytes, kEthernetMtuFrame, "not supported");
  }
}

TEST(Segmenter, RefusesTypeNotMatchingTheFrame) {
  const BuiltFrame tcp4 = BuildFrame(SuperFrameSpec(4, 3000));
  const BuiltFrame tcp6 = BuildFrame(SuperFrameSpec(6, 3000));
  FrameSpec udp_spec = SuperFrameSpec(4, 3000);
  udp_spec.l4_protocol = kIpProtocolUdp;
  const BuiltFrame udp4 = BuildFrame(udp_spec);

  VirtioNetHeader header = GsoHeaderFor(tcp6, 1440);
  header.gso_type = VirtioNetHeader::kGsoTcpV4;
  ExpectPlanRefused(header, tcp6.bytes, kEthernetMtuFrame,
                    "GSO type TCPv4 on an IPv6 TCP frame");

  header = GsoHeaderFor(tcp4, 1448);
  header.gso_type = VirtioNetHeader::kGsoTcpV6;
  ExpectPlanRefused(header, tcp4.bytes, kEthernetMtuFrame,
                    "GSO type TCPv6 on an IPv4 TCP frame");

  header = GsoHeaderFor(tcp4, 1448);
  header.gso_type = VirtioNetHeader::kGsoUdpL4;
  ExpectPlanRefused(header, tcp4.bytes, kEthernetMtuFrame,
                    "GSO type UDP_L4 on an IPv4 TCP frame");

  header = GsoHeaderFor(udp4, 1448);
  header.gso_type = VirtioNetHeader::kGsoTcpV4;
  ExpectPlanRefused(header, udp4.bytes, kEthernetMtuFrame,
                    "GSO type TCPv4 on an IPv4 UDP frame");
}

TEST(Segmenter, RefusesChecksumStartNotAtTheL4Header) {
  const BuiltFrame frame = BuildFrame(SuperFrameSpec(4, 3000));
  for (uint16_t start : {0, 14, 33, 35, 54}) {
    VirtioNetHeader header = GsoHeaderFor(frame, 1448);
    header.checksum_start = start;
    ExpectPlanRefused(header, frame.bytes, kEthernetMtuFrame, "checksum start");
  }
}

TEST(Segmenter, RefusesGsoSizeZero) {
  const BuiltFrame frame = BuildFrame(SuperFrameSpec(6, 3000));
  ExpectPlanRefused(GsoHeaderFor(frame, 0), frame.bytes, kEthernetMtuFrame,
                    "GSO size 0");
}

TEST(Segmenter, RefusesMaxFrameSizeWithoutRoomForPayload) {
  const BuiltFrame frame = BuildFrame(SuperFrameSpec(4, 3000));
  for (size_t max_frame_size : {0, 14, 53, 54}) {
    ExpectPlanRefused(GsoHeaderFor(frame, 1448), frame.bytes, max_frame_size,
                      "no room for payload");
  }
}

TEST(Segmenter, RefusesTruncatedFrames) {
  const BuiltFrame frame = BuildFrame(WithTimestamps(SuperFrameSpec(4, 3000)));
  const VirtioNetHeader header = GsoHeaderFor(frame, 1448);
  for (size_t length : {0, 13, 14, 33, 34, 53, 65, 66, 1000, 3065}) {
    SCOPED_TRACE(length);
    const std::span<const uint8_t> truncated(frame.bytes.data(), length);
    ExpectPlanRefused(header, truncated, kEthernetMtuFrame, "frame: ");
  }
}

TEST(Segmenter, RefusesFramesThatAreNeitherTcpNorUdp) {
  FrameSpec spec = SuperFrameSpec(4, 3000);
  spec.l4_protocol = 1;  // ICMP
  const BuiltFrame frame = BuildFrame(spec);
  VirtioNetHeader header;
  header.gso_type = VirtioNetHeader::kGsoTcpV4;
  header.gso_size = 1448;
  header.checksum_start = 34;
  ExpectPlanRefused(header, frame.bytes, kEthernetMtuFrame, "not TCP or UDP");
}

// --- checksum completion ---

VirtioNetHeader ChecksumHeaderFor(const BuiltFrame& frame) {
  VirtioNetHeader header = GsoHeaderFor(frame, 0);
  header.gso_type = VirtioNetHeader::kGsoNone;
  return header;
}

// `spec` built with the pseudo-header sum in the field becomes `spec` built
// with a complete checksum.
void ExpectChecksumCompleted(FrameSpec spec) {
  spec.l4_checksum = L4Checksum::kComplete;
  const BuiltFrame complete = BuildFrame(spec);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  BuiltFrame frame = BuildFrame(spec);
  ASSERT_TRUE(CompleteChecksum(ChecksumHeaderFor(frame), frame.bytes));
  EXPECT_EQ(frame.bytes, complete.bytes);
  EXPECT_TRUE(L4ChecksumVerifies(frame.bytes, frame.offsets));
}

TEST(CompleteChecksum, Tcp) {
  ExpectChecksumCompleted(SuperFrameSpec(4, 1000));
  ExpectChecksumCompleted(SuperFrameSpec(6, 1001));
  ExpectChecksumCompleted(WithTimestamps(SuperFrameSpec(4, 0)));
}

TEST(CompleteChecksum, Udp) {
  for (uint8_t version : {4, 6}) {
    FrameSpec spec = SuperFrameSpec(version, 777);
    spec.l4_protocol = kIpProtocolUdp;
    ExpectChecksumCompleted(spec);
  }
}

TEST(CompleteChecksum, VlanTagsOptionsAndExtensionHeaders) {
  FrameSpec spec = SuperFrameSpec(4, 500);
  spec.vlan_tags = {{kEtherTypeQinQ, 1}, {kEtherTypeVlan, 2}};
  spec.ipv4_options = {1, 1, 1, 1};
  ExpectChecksumCompleted(spec);
  spec = SuperFrameSpec(6, 501);
  spec.l4_protocol = kIpProtocolUdp;
  spec.vlan_tags = {{kEtherTypeVlan, 2}};
  spec.ipv6_extension_headers = {{kIpv6HopByHop}};
  ExpectChecksumCompleted(spec);
}

TEST(CompleteChecksum, EthernetPaddingIsNotCovered) {
  FrameSpec spec = SuperFrameSpec(4, 3);
  spec.l4_protocol = kIpProtocolUdp;
  spec.ethernet_padding = 15;
  spec.l4_checksum = L4Checksum::kComplete;
  BuiltFrame complete = BuildFrame(spec);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  BuiltFrame frame = BuildFrame(spec);
  std::fill(frame.bytes.end() - 15, frame.bytes.end(), 0x5a);
  std::fill(complete.bytes.end() - 15, complete.bytes.end(), 0x5a);
  ASSERT_TRUE(CompleteChecksum(ChecksumHeaderFor(frame), frame.bytes));
  EXPECT_EQ(frame.bytes, complete.bytes);
}

TEST(CompleteChecksum, UdpZeroSentAsAllOnes) {
  for (uint8_t version : {4, 6}) {
    FrameSpec spec = SuperFrameSpec(version, 100);
    spec.l4_protocol = kIpProtocolUdp;
    spec.payload[98] = spec.payload[99] = 0;
    spec.l4_checksum = L4Checksum::kZero;
    const BuiltFrame zeroed = BuildFrame(spec);
    const uint16_t tuned =
        static_cast<uint16_t>(~L4ChecksumSum(zeroed.bytes, zeroed.offsets));
    spec.payload[98] = static_cast<uint8_t>(tuned >> 8);
    spec.payload[99] = static_cast<uint8_t>(tuned);
    spec.l4_checksum = L4Checksum::kPseudoHeader;
    BuiltFrame frame = BuildFrame(spec);
    ASSERT_TRUE(CompleteChecksum(ChecksumHeaderFor(frame), frame.bytes));
    EXPECT_EQ(ReadBe16(frame.bytes, L4ChecksumAt(frame.offsets)), 0xffff);
    EXPECT_TRUE(L4ChecksumVerifies(frame.bytes, frame.offsets));
  }
}

TEST(CompleteChecksum, FrameThatDoesNotParseIsCoveredToItsEnd) {
  // ICMP: no pseudo-header, the field starts at 0.
  FrameSpec spec;
  spec.l4_protocol = 1;
  spec.payload = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g', '!'};
  BuiltFrame frame = BuildFrame(spec);
  VirtioNetHeader header;
  header.flags = VirtioNetHeader::kNeedsChecksum;
  header.checksum_start = 34;
  header.checksum_offset = 2;
  ASSERT_TRUE(CompleteChecksum(header, frame.bytes));
  EXPECT_NE(ReadBe16(frame.bytes, 36), 0);
  EXPECT_EQ(NaiveSum(std::span<const uint8_t>(frame.bytes).subspan(34)),
            0xffff);
}

TEST(CompleteChecksum, NothingToDoWithoutNeedsChecksum) {
  FrameSpec spec = SuperFrameSpec(4, 100);
  const BuiltFrame original = BuildFrame(spec);
  BuiltFrame frame = original;
  VirtioNetHeader header = ChecksumHeaderFor(frame);
  header.flags = VirtioNetHeader::kDataValid;
  header.checksum_start = 0xffff;  // not even looked at
  EXPECT_TRUE(CompleteChecksum(header, frame.bytes));
  EXPECT_EQ(frame.bytes, original.bytes);
}

TEST(CompleteChecksum, RefusesOffsetsBeyondTheFrame) {
  std::vector<uint8_t> frame(60, 0x11);  // does not parse: covered to its end
  VirtioNetHeader header;
  header.flags = VirtioNetHeader::kNeedsChecksum;
  header.checksum_start = 40;
  header.checksum_offset = 18;  // the field is the last 2 bytes: fine
  EXPECT_TRUE(CompleteChecksum(header, frame));
  for (auto [start, offset] : {std::pair<uint16_t, uint16_t>{40, 19},
                               {59, 0},
                               {60, 0},
                               {0, 0xffff},
                               {0xffff, 0xffff}}) {
    header.checksum_start = start;
    header.checksum_offset = offset;
    const std::vector<uint8_t> before = frame;
    auto status = CompleteChecksum(header, frame);
    ASSERT_FALSE(status.has_value()) << start << "+" << offset;
    EXPECT_EQ(status.error().code, EINVAL);
    EXPECT_THAT(status.error().message, HasSubstr("beyond the 60-byte frame"));
    EXPECT_EQ(frame, before);
  }
}

TEST(CompleteChecksum, RefusesAFieldInTheEthernetPadding) {
  FrameSpec spec = SuperFrameSpec(4, 2);
  spec.l4_protocol = kIpProtocolUdp;
  spec.ethernet_padding = 16;
  BuiltFrame frame = BuildFrame(spec);
  VirtioNetHeader header = ChecksumHeaderFor(frame);
  header.checksum_offset = 10;  // within the frame, after the IP packet's end
  auto status = CompleteChecksum(header, frame.bytes);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, EINVAL);
  EXPECT_THAT(status.error().message, HasSubstr("IP packet's end"));
}

}  // namespace
}  // namespace etherip
