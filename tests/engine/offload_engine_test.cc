// The engine with offloading devices, without a kernel: super-frames read
// from a TAP leave as standard frames, one per outer packet, counted as on
// the wire; TCP segments received are written to the TAP merged; frames of
// one receive batch reach each device in one write; a socket without room
// holds packets instead of dropping them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/core_fixtures.h"
#include "core/etherip_header.h"
#include "core/outer_header.h"
#include "engine/memory_host.h"
#include "offload/frame_builder.h"
#include "offload/frame_layout.h"

namespace etherip {
namespace {

using testing_support::BuildFrame;
using testing_support::BuiltFrame;
using testing_support::FrameSpec;
using testing_support::GsoHeaderFor;
using testing_support::L4Checksum;
using testing_support::L4ChecksumVerifies;
using testing_support::MemoryHost;
using testing_support::PatternPayload;
using testing_support::PumpUntilQuiet;

struct Underlay {
  const char* name;
  const char* a;
  const char* b;
};
void PrintTo(const Underlay& underlay, std::ostream* os) {
  *os << underlay.name;
}

// A TCP super-frame of `payload` bytes as the stack above a TAP with TSO
// hands it over: checksum left to complete, one header for all.
BuiltFrame TcpSuperFrame(size_t payload, uint8_t ip_version = 4,
                         size_t vlan_tags = 0) {
  FrameSpec spec;
  spec.ip_version = ip_version;
  spec.payload = PatternPayload(payload);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  spec.tcp_flags = testing_support::kTcpAck | testing_support::kTcpPsh;
  for (size_t i = 0; i < vlan_tags; ++i) spec.vlan_tags.push_back({});
  return BuildFrame(spec);
}

// A plain frame of `size` bytes (no offload request).
std::vector<uint8_t> MakeFrameOf(size_t size) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  spec.payload = PatternPayload(size - 14 - 20 - 8);
  return BuildFrame(spec).bytes;
}

std::vector<uint8_t> PayloadOf(std::span<const uint8_t> frame) {
  auto layout = ParseFrameLayout(frame);
  EXPECT_TRUE(layout) << layout.error().message;
  if (!layout) return {};
  return {frame.begin() + static_cast<ptrdiff_t>(layout->header_length),
          frame.begin() + static_cast<ptrdiff_t>(layout->ip_end)};
}

class OffloadingHosts : public ::testing::TestWithParam<Underlay> {
 protected:
  OffloadingHosts() {
    a_.tap_offloads = MemoryTap::Offloads{1500};
    b_.tap_offloads = MemoryTap::Offloads{1500};
    a_.Create("etherip0", {"tunnel", GetParam().a, GetParam().b, "up"});
    b_.Create("etherip0", {"tunnel", GetParam().b, GetParam().a, "up"});
  }
  // The inner frames of every outer packet that crossed the underlay.
  std::vector<std::vector<uint8_t>> WireFrames() const {
    std::vector<std::vector<uint8_t>> frames;
    for (const auto& packet : network_.wire()) {
      auto outer = ParseIpPacket(packet);
      EXPECT_TRUE(outer);
      if (!outer) continue;
      auto frame = outer->payload.subspan(kEtherIpHeaderSize);
      frames.emplace_back(frame.begin(), frame.end());
    }
    return frames;
  }

  // A 20000-byte TCP super-frame of inner IP `version` crosses from A to B.
  void ExpectSuperFrameCrosses(uint8_t version) {
    const BuiltFrame super = TcpSuperFrame(20000, version);
    a_.Tap("etherip0").InjectWithHeader(super.bytes, GsoHeaderFor(super, 1448));
    PumpUntilQuiet({&a_, &b_});

    // On the wire: standard segments, each whole and checksummed, one per
    // outer packet, none over MTU + 14: 1448 bytes of payload per segment
    // fit in IPv4 (1500 - 20 - 20), 1440 in IPv6 (1500 - 40 - 20).
    const size_t per_segment = version == 4 ? 1448 : 1440;
    const size_t segments = (20000 + per_segment - 1) / per_segment;
    const auto wire = WireFrames();
    ASSERT_EQ(wire.size(), segments);
    std::vector<uint8_t> carried;
    for (const auto& frame : wire) {
      EXPECT_LE(frame.size(), 1514u);
      auto layout = ParseFrameLayout(frame);
      ASSERT_TRUE(layout);
      EXPECT_TRUE(L4ChecksumVerifies(
          frame, {layout->l3_offset, layout->ip_version, layout->l4_offset,
                  layout->l4_protocol, layout->header_length, layout->ip_end}));
      const auto payload = PayloadOf(frame);
      carried.insert(carried.end(), payload.begin(), payload.end());
    }
    EXPECT_EQ(carried, PatternPayload(20000));

    // Counted as on the wire (SPEC 5).
    EXPECT_EQ(a_.CountersOf("etherip0").opackets, segments);
    EXPECT_EQ(b_.CountersOf("etherip0").ipackets, segments);

    // B's TAP gets them merged back: one super-frame of the same payload,
    // marked for the kernel as GSO with the first segment's size.
    const auto delivered = b_.Tap("etherip0").TakeDeliveredWithHeaders();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(PayloadOf(delivered[0].frame), PatternPayload(20000));
    EXPECT_EQ(delivered[0].header.gso_kind(), version == 4
                                                  ? VirtioNetHeader::kGsoTcpV4
                                                  : VirtioNetHeader::kGsoTcpV6);
    EXPECT_EQ(delivered[0].header.gso_size, per_segment);
    EXPECT_EQ(delivered[0].header.flags, VirtioNetHeader::kNeedsChecksum);
    EXPECT_EQ(a_.CountersOf("etherip0").oerrors, 0u);
  }

  MemoryNetwork network_;
  MemoryHost a_{network_, 0xa0};
  MemoryHost b_{network_, 0xb0};
};

TEST_P(OffloadingHosts, Ipv4SuperFrameLeavesAsStandardFramesArrivesMerged) {
  ExpectSuperFrameCrosses(4);
}

TEST_P(OffloadingHosts, Ipv6SuperFrameLeavesAsStandardFramesArrivesMerged) {
  ExpectSuperFrameCrosses(6);
}

TEST_P(OffloadingHosts, SegmentsNeverExceedTheMtuWhateverGsoSizeSays) {
  const BuiltFrame super = TcpSuperFrame(30000, 4, /*vlan_tags=*/1);
  // gso_size 9000 on an interface of MTU 1500: cut at 1500 + 14 + 4.
  a_.Tap("etherip0").InjectWithHeader(super.bytes, GsoHeaderFor(super, 9000));
  PumpUntilQuiet({&a_, &b_});
  const auto wire = WireFrames();
  ASSERT_FALSE(wire.empty());
  for (const auto& frame : wire) EXPECT_LE(frame.size(), 1518u);
  const auto delivered = b_.Tap("etherip0").TakeDeliveredWithHeaders();
  std::vector<uint8_t> payload;
  for (const auto& one : delivered) {
    const auto part = PayloadOf(one.frame);
    payload.insert(payload.end(), part.begin(), part.end());
  }
  EXPECT_EQ(payload, PatternPayload(30000));
}

TEST_P(OffloadingHosts, PartialChecksumIsCompletedBeforeSending) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  spec.payload = PatternPayload(300);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  const BuiltFrame frame = BuildFrame(spec);
  VirtioNetHeader header = GsoHeaderFor(frame, 0);
  header.gso_type = VirtioNetHeader::kGsoNone;
  a_.Tap("etherip0").InjectWithHeader(frame.bytes, header);
  PumpUntilQuiet({&a_, &b_});
  const auto delivered = b_.Tap("etherip0").TakeDelivered();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(L4ChecksumVerifies(delivered[0], frame.offsets));
  spec.l4_checksum = L4Checksum::kComplete;
  EXPECT_EQ(delivered[0], BuildFrame(spec).bytes);
}

TEST_P(OffloadingHosts, ReceiverWithoutOffloadsGetsTheStandardSegments) {
  MemoryHost plain{network_, 0xc0};
  b_.Destroy("etherip0");
  plain.Create("etherip0", {"tunnel", GetParam().b, GetParam().a, "up"});
  const BuiltFrame super = TcpSuperFrame(5000);
  a_.Tap("etherip0").InjectWithHeader(super.bytes, GsoHeaderFor(super, 1000));
  PumpUntilQuiet({&a_, &plain});
  const auto delivered = plain.Tap("etherip0").TakeDelivered();
  ASSERT_EQ(delivered.size(), 5u);
  EXPECT_EQ(plain.CountersOf("etherip0").ipackets, 5u);
  for (const auto& frame : delivered) EXPECT_EQ(frame.size(), 14u + 40 + 1000);
}

TEST_P(OffloadingHosts, SuperFrameThatCannotBeCutCountsOerrors) {
  const BuiltFrame super = TcpSuperFrame(5000);
  VirtioNetHeader header = GsoHeaderFor(super, 1000);
  header.checksum_start = 3;  // not at the TCP header
  a_.Tap("etherip0").InjectWithHeader(super.bytes, header);
  a_.Tap("etherip0").Inject(MakeFrameOf(60));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(a_.CountersOf("etherip0").oerrors, 1u);
  EXPECT_EQ(a_.CountersOf("etherip0").opackets, 1u);
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered().size(), 1u);
}

// A super-frame with more segments than the reader has buffers: the rest
// is held inside the device, which says so (its fd would not), and comes
// out, in order, on the next reads.
TEST(MemoryTapOffloads, SegmentsBeyondTheBuffersAreHeldAndSaidSo) {
  MemoryTap tap(MemoryTap::Offloads{1500});
  const BuiltFrame super = TcpSuperFrame(45 * 1448);
  tap.InjectWithHeader(super.bytes, GsoHeaderFor(super, 1448));
  std::vector<PacketBuffer> buffers(16);
  std::vector<uint8_t> payload;
  std::vector<size_t> reads;
  while (true) {
    auto read = tap.ReadFrames(buffers);
    ASSERT_TRUE(read);
    if (*read == 0) break;
    reads.push_back(*read);
    for (size_t i = 0; i < *read; ++i) {
      const auto part = PayloadOf(std::as_const(buffers[i]).data());
      payload.insert(payload.end(), part.begin(), part.end());
    }
    EXPECT_EQ(tap.HasHeldFrames(), payload.size() < 45 * 1448);
  }
  EXPECT_EQ(reads, (std::vector<size_t>{16, 16, 13}));
  EXPECT_EQ(payload, PatternPayload(45 * 1448));
  EXPECT_FALSE(tap.HasHeldFrames());
}

INSTANTIATE_TEST_SUITE_P(
    Underlays, OffloadingHosts,
    ::testing::Values(Underlay{"ipv4", "192.0.2.1", "192.0.2.2"},
                      Underlay{"ipv6", "2001:db8::1", "2001:db8::2"}),
    [](const auto& info) { return std::string(info.param.name); });

// A receive batch carrying frames for two interfaces, interleaved: each
// device is written once, with its own frames in arrival order.
TEST(ReceiveGrouping, EachDeviceIsWrittenOncePerBatchInOrder) {
  MemoryNetwork network;
  MemoryHost a{network, 0xa0};
  MemoryHost b{network, 0xb0};
  a.Create("one", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  a.Create("two", {"tunnel", "192.0.2.3", "192.0.2.2", "up"});
  b.Create("one", {"tunnel", "192.0.2.2", "192.0.2.1", "up"});
  b.Create("two", {"tunnel", "192.0.2.2", "192.0.2.3", "up"});
  std::vector<std::vector<uint8_t>> sent_one, sent_two;
  for (uint8_t i = 0; i < 10; ++i) {
    FrameSpec spec;
    spec.l4_protocol = kIpProtocolUdp;
    spec.payload = std::vector<uint8_t>(40 + i, i);
    auto frame = BuildFrame(spec).bytes;
    (i % 2 ? sent_two : sent_one).push_back(frame);
    a.Tap(i % 2 ? "two" : "one").Inject(frame);
  }
  // A's devices one after the other, so B's socket then holds one
  // interleaved batch... the memory network delivers in send order: all of
  // "one", then all of "two"; interleave by pumping A's taps alternately.
  for (int round = 0; round < 10; ++round) {
    a.forwarder().PumpDevice(a.plane(), a.Id(round % 2 ? "two" : "one"));
  }
  (void)b.PumpOnce();
  EXPECT_EQ(b.Tap("one").write_calls(), 1u);
  EXPECT_EQ(b.Tap("two").write_calls(), 1u);
  EXPECT_EQ(b.Tap("one").TakeDelivered(), sent_one);
  EXPECT_EQ(b.Tap("two").TakeDelivered(), sent_two);
}

}  // namespace
}  // namespace etherip
