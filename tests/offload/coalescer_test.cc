#include "offload/coalescer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "offload/frame_builder.h"
#include "offload/segmenter.h"

namespace etherip {
namespace {

using namespace testing_support;  // NOLINT(build/namespaces)

constexpr size_t kGso = 1000;

// TCP timestamps (kind 8) behind two NOPs: what Linux sends on every
// segment of a bulk flow.
std::vector<uint8_t> Timestamps(uint32_t value, uint32_t echo) {
  return {1,
          1,
          8,
          10,
          static_cast<uint8_t>(value >> 24),
          static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8),
          static_cast<uint8_t>(value),
          static_cast<uint8_t>(echo >> 24),
          static_cast<uint8_t>(echo >> 16),
          static_cast<uint8_t>(echo >> 8),
          static_cast<uint8_t>(echo)};
}

// Bytes [offset, offset + size) of one recognizable byte stream: a
// retransmission carries the same bytes as the original.
std::vector<uint8_t> StreamSlice(size_t offset, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>((offset + i) * 7 % 251);
  }
  return bytes;
}

// Segments of one flow following on from `base`: sequence numbers and
// IPv4 identifications advance, payloads are consecutive stream slices.
std::vector<FrameSpec> Segments(const FrameSpec& base,
                                const std::vector<size_t>& sizes) {
  std::vector<FrameSpec> specs;
  size_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    FrameSpec spec = base;
    spec.tcp_sequence = base.tcp_sequence + static_cast<uint32_t>(offset);
    spec.ipv4_id = static_cast<uint16_t>(base.ipv4_id + i);
    spec.payload = StreamSlice(offset, sizes[i]);
    specs.push_back(spec);
    offset += sizes[i];
  }
  return specs;
}

FrameSpec Ipv4Flow() {
  FrameSpec spec;
  spec.tcp_options = Timestamps(1000, 2000);
  return spec;
}

FrameSpec Ipv6Flow() {
  FrameSpec spec;
  spec.ip_version = 6;
  spec.traffic_class = 0x28;
  spec.flow_label = 0xabcde;
  spec.tcp_options = Timestamps(1000, 2000);
  return spec;
}

::testing::AssertionResult SameBytes(std::span<const uint8_t> actual,
                                     std::span<const uint8_t> expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size " << actual.size() << ", expected " << expected.size();
  }
  const auto diff =
      std::mismatch(actual.begin(), actual.end(), expected.begin());
  if (diff.first != actual.end()) {
    return ::testing::AssertionFailure()
           << "byte " << (diff.first - actual.begin()) << " is "
           << int{*diff.first} << ", expected " << int{*diff.second};
  }
  return ::testing::AssertionSuccess();
}

// Frames in packet buffers, as a receive batch has them, with what they
// were built from.
class Batch {
 public:
  size_t Add(const BuiltFrame& frame) {
    auto buffer = std::make_unique<PacketBuffer>();
    auto room = buffer->ResetForRead();
    std::copy(frame.bytes.begin(), frame.bytes.end(), room.begin());
    buffer->Commit(frame.bytes.size());
    buffers_.push_back(std::move(buffer));
    built_.push_back(frame);
    return built_.size() - 1;
  }
  size_t Add(const FrameSpec& spec) { return Add(BuildFrame(spec)); }
  void AddAll(const std::vector<FrameSpec>& specs) {
    for (const FrameSpec& spec : specs) Add(spec);
  }

  std::vector<CoalescedFrame> Run(CoalesceOptions options = {}) {
    std::vector<PacketBuffer*> frames;
    for (auto& buffer : buffers_) frames.push_back(buffer.get());
    std::vector<CoalescedFrame> out(frames.size());
    out.resize(CoalesceTcp(frames, out, options));
    return out;
  }

  size_t size() const { return built_.size(); }
  PacketBuffer* buffer(size_t i) { return buffers_[i].get(); }
  const BuiltFrame& built(size_t i) const { return built_[i]; }

 private:
  std::vector<std::unique_ptr<PacketBuffer>> buffers_;
  std::vector<BuiltFrame> built_;
};

::testing::AssertionResult Unchanged(const CoalescedFrame& out, Batch& batch,
                                     size_t i) {
  if (out.buffer != batch.buffer(i)) {
    return ::testing::AssertionFailure() << "not frame " << i;
  }
  if (out.header != VirtioNetHeader{}) {
    return ::testing::AssertionFailure() << "frame " << i << " has a header";
  }
  return SameBytes(out.buffer->data(), batch.built(i).bytes)
         << " (frame " << i << ")";
}

// The super-frame frames `indices` (of one flow, in order) make, computed
// here: the first one's headers, with IP length, IPv4 header checksum, PSH
// from the last, and the pseudo-header sum in the TCP checksum field; then
// every payload; no padding.
std::vector<uint8_t> ExpectedMerge(const Batch& batch,
                                   const std::vector<size_t>& indices) {
  const BuiltFrame& head = batch.built(indices.front());
  const FrameOffsets& o = head.offsets;
  std::vector<uint8_t> bytes(
      head.bytes.begin(),
      head.bytes.begin() + static_cast<ptrdiff_t>(o.payload));
  for (size_t i : indices) {
    const BuiltFrame& part = batch.built(i);
    bytes.insert(
        bytes.end(),
        part.bytes.begin() + static_cast<ptrdiff_t>(part.offsets.payload),
        part.bytes.begin() + static_cast<ptrdiff_t>(part.offsets.ip_end));
  }
  FrameOffsets merged = o;
  merged.ip_end = bytes.size();
  if (o.ip_version == 4) {
    WriteBe16(bytes, o.l3 + 2, static_cast<uint16_t>(bytes.size() - o.l3));
    WriteBe16(bytes, o.l3 + 10, 0);
    WriteBe16(bytes, o.l3 + 10,
              static_cast<uint16_t>(~NaiveSum(
                  std::span<const uint8_t>(bytes).subspan(o.l3, 20))));
  } else {
    WriteBe16(bytes, o.l3 + 4, static_cast<uint16_t>(bytes.size() - o.l3 - 40));
  }
  bytes[o.l4 + 13] |= batch.built(indices.back()).bytes[o.l4 + 13] & kTcpPsh;
  WriteBe16(bytes, o.l4 + 16,
            NaiveSum(PseudoHeader(bytes, merged,
                                  static_cast<uint32_t>(bytes.size() - o.l4))));
  return bytes;
}

// What the kernel does with NEEDS_CSUM: sums from checksum_start to the end
// (the field holds the pseudo-header sum) and stores the complement.
// Returns whether the completed frame's TCP checksum then verifies.
bool CompletedChecksumVerifies(std::span<const uint8_t> frame,
                               const VirtioNetHeader& header,
                               FrameOffsets offsets) {
  std::vector<uint8_t> bytes(frame.begin(), frame.end());
  const size_t start = header.checksum_start;
  const size_t at = start + header.checksum_offset;
  WriteBe16(bytes, at,
            static_cast<uint16_t>(
                ~NaiveSum(std::span<const uint8_t>(bytes).subspan(start))));
  offsets.ip_end = bytes.size();
  return L4ChecksumVerifies(bytes, offsets);
}

::testing::AssertionResult Merged(const CoalescedFrame& out, Batch& batch,
                                  const std::vector<size_t>& indices) {
  const size_t first = indices.front();
  if (out.buffer != batch.buffer(first)) {
    return ::testing::AssertionFailure() << "not frame " << first;
  }
  const FrameOffsets& o = batch.built(first).offsets;
  VirtioNetHeader expected;
  expected.flags = VirtioNetHeader::kNeedsChecksum;
  expected.gso_type = o.ip_version == 4 ? VirtioNetHeader::kGsoTcpV4
                                        : VirtioNetHeader::kGsoTcpV6;
  expected.header_length = static_cast<uint16_t>(o.payload);
  expected.gso_size = static_cast<uint16_t>(o.ip_end - o.payload);
  expected.checksum_start = static_cast<uint16_t>(o.l4);
  expected.checksum_offset = 16;
  if (out.header != expected) {
    return ::testing::AssertionFailure()
           << "header {flags " << int{out.header.flags} << ", gso_type "
           << int{out.header.gso_type} << ", header_length "
           << out.header.header_length << ", gso_size " << out.header.gso_size
           << ", checksum_start " << out.header.checksum_start
           << ", checksum_offset " << out.header.checksum_offset << "}";
  }
  auto same = SameBytes(out.buffer->data(), ExpectedMerge(batch, indices));
  if (!same) return same << " (group from frame " << first << ")";
  if (!CompletedChecksumVerifies(out.buffer->data(), out.header, o)) {
    return ::testing::AssertionFailure() << "completed checksum is wrong";
  }
  return ::testing::AssertionSuccess();
}

TEST(CoalesceTcp, EmptyBatch) {
  Batch batch;
  EXPECT_TRUE(batch.Run().empty());
}

TEST(CoalesceTcp, MergesAnIpv4Flow) {
  Batch batch;
  batch.AddAll(Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2, 3}));
  const auto frame = out[0].buffer->data();
  EXPECT_EQ(ReadBe16(frame, 14 + 2), 20 + 32 + 4 * kGso);  // total length
  EXPECT_EQ(ReadBe16(frame, 14 + 4), 0x1234);              // the head's ID
  EXPECT_EQ(frame[14 + 20 + 13], kTcpAck);
  EXPECT_EQ(out[0].header.header_length, 14 + 20 + 32);
  EXPECT_EQ(out[0].header.gso_size, kGso);
}

TEST(CoalesceTcp, MergesAnIpv6Flow) {
  Batch batch;
  batch.AddAll(Segments(Ipv6Flow(), {kGso, kGso, kGso}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
  EXPECT_EQ(ReadBe16(out[0].buffer->data(), 14 + 4), 32 + 3 * kGso);
  EXPECT_EQ(out[0].header.gso_type, VirtioNetHeader::kGsoTcpV6);
}

TEST(CoalesceTcp, MergesWithoutTcpOptions) {
  FrameSpec base;
  Batch batch;
  batch.AddAll(Segments(base, {1460, 1460}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
}

TEST(CoalesceTcp, MergesVlanTaggedFlows) {
  FrameSpec tagged = Ipv4Flow();
  tagged.vlan_tags = {{kEtherTypeVlan, 100}};
  FrameSpec double_tagged = Ipv6Flow();
  double_tagged.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  Batch batch;
  batch.AddAll(Segments(tagged, {kGso, kGso}));
  batch.AddAll(Segments(double_tagged, {kGso, kGso}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
  EXPECT_TRUE(Merged(out[1], batch, {2, 3}));
  EXPECT_EQ(out[0].header.checksum_start, 18 + 20);
  EXPECT_EQ(out[1].header.checksum_start, 22 + 40);
  EXPECT_EQ(out[1].header.header_length, 22 + 40 + 32);
}

// Two segments that would merge, but for `change` applied to the second.
struct Difference {
  std::string name;
  std::function<void(FrameSpec&)> change;
};

void ExpectNoMerge(const FrameSpec& base,
                   const std::vector<Difference>& differences) {
  for (const Difference& difference : differences) {
    SCOPED_TRACE(difference.name);
    auto specs = Segments(base, {kGso, kGso});
    difference.change(specs[1]);
    Batch batch;
    batch.AddAll(specs);
    const auto out = batch.Run();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(Unchanged(out[0], batch, 0));
    EXPECT_TRUE(Unchanged(out[1], batch, 1));
  }
}

// Differences that keep any two frames of a flow apart, TCP or UDP.
std::vector<Difference> FlowDifferences() {
  return {
      {"destination MAC", [](FrameSpec& s) { s.destination_mac[5] = 9; }},
      {"source MAC", [](FrameSpec& s) { s.source_mac[5] = 9; }},
      {"a VLAN tag",
       [](FrameSpec& s) {
         s.vlan_tags = {{kEtherTypeVlan, 5}};
       }},
      {"source port", [](FrameSpec& s) { ++s.source_port; }},
      {"destination port", [](FrameSpec& s) { ++s.destination_port; }},
      {"hop limit / TTL", [](FrameSpec& s) { --s.ttl; }},
      {"traffic class / TOS", [](FrameSpec& s) { s.traffic_class ^= 1; }},
      {"larger payload", [](FrameSpec& s) { s.payload.push_back(0); }},
  };
}

// The same list plus `more`.
std::vector<Difference> With(std::vector<Difference> list,
                             const std::vector<Difference>& more) {
  list.insert(list.end(), more.begin(), more.end());
  return list;
}

std::vector<Difference> Ipv4Differences() {
  return {
      {"source address", [](FrameSpec& s) { s.ipv4_source[3] = 9; }},
      {"destination address", [](FrameSpec& s) { s.ipv4_destination[0] = 9; }},
      {"DF", [](FrameSpec& s) { s.dont_fragment = false; }},
      {"identification skips", [](FrameSpec& s) { ++s.ipv4_id; }},
      {"identification behind", [](FrameSpec& s) { s.ipv4_id -= 2; }},
      {"IPv6", [](FrameSpec& s) { s.ip_version = 6; }},
  };
}

std::vector<Difference> Ipv6Differences() {
  return {
      {"source address", [](FrameSpec& s) { s.ipv6_source[15] = 9; }},
      {"destination address", [](FrameSpec& s) { s.ipv6_destination[0] = 9; }},
      {"flow label", [](FrameSpec& s) { ++s.flow_label; }},
      {"IPv4", [](FrameSpec& s) { s.ip_version = 4; }},
  };
}

std::vector<Difference> TcpDifferences() {
  return With(
      FlowDifferences(),
      {
          {"acknowledgement", [](FrameSpec& s) { ++s.tcp_acknowledgement; }},
          {"window", [](FrameSpec& s) { --s.tcp_window; }},
          {"urgent pointer", [](FrameSpec& s) { s.tcp_urgent_pointer = 1; }},
          {"timestamp value",
           [](FrameSpec& s) { s.tcp_options = Timestamps(1001, 2000); }},
          {"timestamp echo",
           [](FrameSpec& s) { s.tcp_options = Timestamps(1000, 2001); }},
          {"options length",
           [](FrameSpec& s) {
             s.tcp_options.insert(s.tcp_options.end(), 4, 1);
           }},
          {"no options", [](FrameSpec& s) { s.tcp_options.clear(); }},
          {"sequence gap", [](FrameSpec& s) { s.tcp_sequence += 1; }},
          {"sequence behind", [](FrameSpec& s) { s.tcp_sequence -= 1; }},
      });
}

TEST(CoalesceTcp, Ipv4SegmentsThatDifferDoNotMerge) {
  ExpectNoMerge(Ipv4Flow(), With(TcpDifferences(), Ipv4Differences()));
}

TEST(CoalesceTcp, Ipv6SegmentsThatDifferDoNotMerge) {
  ExpectNoMerge(Ipv6Flow(), With(TcpDifferences(), Ipv6Differences()));
}

TEST(CoalesceTcp, VlanTaggedSegmentsThatDifferDoNotMerge) {
  FrameSpec base = Ipv4Flow();
  base.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  ExpectNoMerge(
      base,
      {
          {"inner VLAN ID", [](FrameSpec& s) { s.vlan_tags[1].tci = 21; }},
          {"outer VLAN ID", [](FrameSpec& s) { s.vlan_tags[0].tci = 11; }},
          {"priority", [](FrameSpec& s) { s.vlan_tags[1].tci |= 0x2000; }},
          {"outer TPID",
           [](FrameSpec& s) { s.vlan_tags[0].tpid = kEtherTypeVlan; }},
          {"one tag", [](FrameSpec& s) { s.vlan_tags.pop_back(); }},
      });
}

TEST(CoalesceTcp, EqualIpv4IdentificationsMergeWithDf) {
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso});
  for (auto& spec : specs) spec.ipv4_id = 7;
  Batch batch;
  batch.AddAll(specs);
  auto out = batch.Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));

  // Without DF the identification tells fragments apart: equal ones do not
  // merge.
  for (auto& spec : specs) spec.dont_fragment = false;
  Batch without_df;
  without_df.AddAll(specs);
  out = without_df.Run();
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], without_df, i));
}

TEST(CoalesceTcp, IdentificationModeIsKeptWithinAGroup) {
  // 7, 8 (incrementing), then 8 again: neither +1 nor the head's.
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso});
  specs[0].ipv4_id = 7;
  specs[1].ipv4_id = 8;
  specs[2].ipv4_id = 8;
  specs[3].ipv4_id = 9;
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
  EXPECT_TRUE(Merged(out[1], batch, {2, 3}));
}

TEST(CoalesceTcp, IdentificationAndSequenceWrap) {
  FrameSpec base = Ipv4Flow();
  base.ipv4_id = 0xffff;
  base.tcp_sequence = 0xffffffff - 1500;
  Batch batch;
  batch.AddAll(Segments(base, {kGso, kGso, kGso}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
}

TEST(CoalesceTcp, SequenceGapStartsANewGroup) {
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso, kGso});
  specs.erase(specs.begin() + 2);  // lost
  for (size_t i = 2; i < specs.size(); ++i) --specs[i].ipv4_id;
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
  EXPECT_TRUE(Merged(out[1], batch, {2, 3}));
}

TEST(CoalesceTcp, RetransmissionStartsANewGroup) {
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso});
  FrameSpec again = specs[1];  // sent again, with the next identification
  again.ipv4_id = static_cast<uint16_t>(specs[2].ipv4_id + 1);
  specs.push_back(again);
  FrameSpec after = specs[2];
  after.ipv4_id = static_cast<uint16_t>(again.ipv4_id + 1);
  specs.push_back(after);
  Batch batch;
  batch.AddAll(specs);  // seq 0, 1000, 2000, 1000, 2000
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
  EXPECT_TRUE(Merged(out[1], batch, {3, 4}));
}

TEST(CoalesceTcp, SegmentsWithOtherFlagsPassThrough) {
  const struct {
    const char* name;
    uint8_t flags;
  } cases[] = {
      {"FIN", kTcpAck | kTcpFin},
      {"SYN", kTcpAck | kTcpSyn},
      {"RST", kTcpAck | kTcpRst},
      {"URG", kTcpAck | kTcpUrg},
      {"CWR", kTcpAck | kTcpCwr},
      {"ECE", kTcpAck | kTcpEce},
      {"no ACK", 0},
      {"PSH without ACK", kTcpPsh},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    // A B X C D: X closes A's group and cannot start one; C starts anew.
    auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso, kGso});
    specs[2].tcp_flags = c.flags;
    Batch batch;
    batch.AddAll(specs);
    auto out = batch.Run();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
    EXPECT_TRUE(Unchanged(out[1], batch, 2));
    EXPECT_TRUE(Merged(out[2], batch, {3, 4}));

    // As the first segment: nothing merges into it.
    specs = Segments(Ipv4Flow(), {kGso, kGso});
    specs[0].tcp_flags = c.flags;
    Batch first;
    first.AddAll(specs);
    out = first.Run();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(Unchanged(out[0], first, 0));
    EXPECT_TRUE(Unchanged(out[1], first, 1));
  }
}

TEST(CoalesceTcp, PshClosesTheGroup) {
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso, kGso});
  specs[2].tcp_flags |= kTcpPsh;
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
  EXPECT_TRUE(Merged(out[1], batch, {3, 4}));
  const size_t flags_at = batch.built(0).offsets.l4 + 13;
  EXPECT_EQ(out[0].buffer->data()[flags_at], kTcpAck | kTcpPsh);
  EXPECT_EQ(out[1].buffer->data()[flags_at], kTcpAck);
}

TEST(CoalesceTcp, PshOnTheFirstSegmentMakesAGroupOfOne) {
  auto specs = Segments(Ipv6Flow(), {kGso, kGso, kGso});
  specs[0].tcp_flags |= kTcpPsh;
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Unchanged(out[0], batch, 0));
  EXPECT_TRUE(Merged(out[1], batch, {1, 2}));
}

TEST(CoalesceTcp, ShortSegmentIsTheLastOfItsGroup) {
  Batch batch;
  batch.AddAll(Segments(Ipv4Flow(), {kGso, kGso, 300, kGso, kGso}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
  EXPECT_EQ(out[0].header.gso_size, kGso);
  EXPECT_TRUE(Merged(out[1], batch, {3, 4}));
}

TEST(CoalesceTcp, LargerSegmentDoesNotMergeButStartsAGroup) {
  Batch batch;
  batch.AddAll(Segments(Ipv4Flow(), {kGso, kGso + 200, kGso + 200}));
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Unchanged(out[0], batch, 0));
  EXPECT_TRUE(Merged(out[1], batch, {1, 2}));
  EXPECT_EQ(out[1].header.gso_size, kGso + 200);
}

TEST(CoalesceTcp, PureAcksPassThroughAndCloseTheGroup) {
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, 0, kGso, kGso});
  Batch batch;
  batch.AddAll(specs);
  auto out = batch.Run();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
  EXPECT_TRUE(Unchanged(out[1], batch, 2));
  EXPECT_TRUE(Merged(out[2], batch, {3, 4}));

  Batch acks;
  acks.AddAll(Segments(Ipv4Flow(), {0, 0, 0}));
  out = acks.Run();
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], acks, i));
}

TEST(CoalesceTcp, BadTcpChecksumIsNotMerged) {
  for (size_t bad : {0, 1, 2}) {
    SCOPED_TRACE(bad);
    auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso});
    Batch batch;
    for (size_t i = 0; i < specs.size(); ++i) {
      BuiltFrame frame = BuildFrame(specs[i]);
      if (i == bad) frame.bytes[frame.offsets.payload + 10] ^= 0x40;
      batch.Add(frame);
    }
    const auto out = batch.Run();
    if (bad == 0) {  // the bad head passes as it is; the rest merges
      ASSERT_EQ(out.size(), 2u);
      EXPECT_TRUE(Unchanged(out[0], batch, 0));
      EXPECT_TRUE(Merged(out[1], batch, {1, 2, 3}));
    } else if (bad == 1) {
      ASSERT_EQ(out.size(), 3u);
      EXPECT_TRUE(Unchanged(out[0], batch, 0));
      EXPECT_TRUE(Unchanged(out[1], batch, 1));
      EXPECT_TRUE(Merged(out[2], batch, {2, 3}));
    } else {
      ASSERT_EQ(out.size(), 3u);
      EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
      EXPECT_TRUE(Unchanged(out[1], batch, 2));
      EXPECT_TRUE(Unchanged(out[2], batch, 3));
    }
  }
}

TEST(CoalesceTcp, BadIpv4HeaderChecksumIsNotMerged) {
  for (size_t bad : {0, 1}) {
    SCOPED_TRACE(bad);
    auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso});
    Batch batch;
    for (size_t i = 0; i < specs.size(); ++i) {
      BuiltFrame frame = BuildFrame(specs[i]);
      if (i == bad) frame.bytes[frame.offsets.l3 + 10] ^= 0x01;
      batch.Add(frame);
    }
    const auto out = batch.Run();
    if (bad == 0) {
      ASSERT_EQ(out.size(), 2u);
      EXPECT_TRUE(Unchanged(out[0], batch, 0));
      EXPECT_TRUE(Merged(out[1], batch, {1, 2}));
    } else {
      ASSERT_EQ(out.size(), 3u);
      for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], batch, i));
    }
  }
}

TEST(CoalesceTcp, BadIpv6TcpChecksumIsNotMerged) {
  auto specs = Segments(Ipv6Flow(), {kGso, kGso});
  Batch batch;
  batch.Add(specs[0]);
  BuiltFrame bad = BuildFrame(specs[1]);
  bad.bytes[bad.offsets.l4 + 16] ^= 0x80;
  batch.Add(bad);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Unchanged(out[0], batch, 0));
  EXPECT_TRUE(Unchanged(out[1], batch, 1));
}

TEST(CoalesceTcp, InterleavedFlowsMergeSeparatelyInOrder) {
  FrameSpec b = Ipv4Flow();
  b.source_port = 40001;
  b.ipv4_id = 0x500;
  const auto a_specs = Segments(Ipv4Flow(), {kGso, kGso, kGso});
  const auto b_specs = Segments(b, {kGso, kGso, 10});
  const auto c_specs = Segments(Ipv6Flow(), {kGso, kGso});
  Batch batch;
  batch.Add(a_specs[0]);  // 0
  batch.Add(b_specs[0]);  // 1
  batch.Add(c_specs[0]);  // 2
  batch.Add(a_specs[1]);  // 3
  batch.Add(b_specs[1]);  // 4
  batch.Add(c_specs[1]);  // 5
  batch.Add(b_specs[2]);  // 6
  batch.Add(a_specs[2]);  // 7
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 3, 7}));
  EXPECT_TRUE(Merged(out[1], batch, {1, 4, 6}));
  EXPECT_TRUE(Merged(out[2], batch, {2, 5}));
}

TEST(CoalesceTcp, EightFlowsAtOnceAllMerge) {
  Batch batch;
  std::vector<std::vector<size_t>> groups(8);
  std::vector<std::vector<FrameSpec>> flows;
  for (uint16_t f = 0; f < 8; ++f) {
    FrameSpec base = f % 2 == 0 ? Ipv4Flow() : Ipv6Flow();
    base.destination_port = static_cast<uint16_t>(6000 + f);
    flows.push_back(Segments(base, {kGso, kGso, kGso}));
  }
  for (size_t i = 0; i < 3; ++i) {
    for (size_t f = 0; f < 8; ++f) groups[f].push_back(batch.Add(flows[f][i]));
  }
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 8u);
  for (size_t f = 0; f < 8; ++f) EXPECT_TRUE(Merged(out[f], batch, groups[f]));
}

TEST(CoalesceTcp, FramesThatAreNotSimpleTcpPassThrough) {
  std::vector<FrameSpec> others;
  FrameSpec arp;
  arp.ether_type_override = 0x0806;
  arp.l4_protocol = 0;
  arp.payload = std::vector<uint8_t>(28, 1);
  others.push_back(arp);
  FrameSpec udp;
  udp.l4_protocol = kIpProtocolUdp;
  udp.payload = StreamSlice(0, kGso);
  others.push_back(udp);
  FrameSpec icmp;
  icmp.l4_protocol = 1;
  icmp.payload = std::vector<uint8_t>(64, 8);
  others.push_back(icmp);
  FrameSpec icmpv6 = icmp;
  icmpv6.ip_version = 6;
  icmpv6.l4_protocol = 58;
  others.push_back(icmpv6);
  FrameSpec fragment = udp;
  fragment.ipv4_fragment_bits = 0x2000;  // MF
  others.push_back(fragment);
  // TCP of other flows, but in shapes that never merge: their segments
  // pass through one by one.
  FrameSpec options = Ipv4Flow();
  options.source_port = 1;
  options.ipv4_options = {7, 3, 4};  // record route, empty
  for (const auto& spec : Segments(options, {kGso, kGso})) {
    others.push_back(spec);
  }
  FrameSpec extension = Ipv6Flow();
  extension.source_port = 2;
  extension.ipv6_extension_headers = {Ipv6ExtensionHeader{}};
  for (const auto& spec : Segments(extension, {kGso, kGso})) {
    others.push_back(spec);
  }

  // One flow's segments around them merge all the same.
  const auto flow = Segments(Ipv4Flow(), {kGso, kGso, kGso});
  Batch batch;
  std::vector<size_t> flow_indices{batch.Add(flow[0])};
  std::vector<size_t> other_indices;
  for (size_t i = 0; i < others.size(); ++i) {
    other_indices.push_back(batch.Add(others[i]));
    if (i == 2 || i == 5) flow_indices.push_back(batch.Add(flow[i / 3 + 1]));
  }
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 1 + others.size());
  EXPECT_TRUE(Merged(out[0], batch, flow_indices));
  for (size_t i = 0; i < others.size(); ++i) {
    EXPECT_TRUE(Unchanged(out[1 + i], batch, other_indices[i]));
  }
}

TEST(CoalesceTcp, UnmergeableShapeOfTheSameFlowClosesTheGroup) {
  // A segment of the flow with an IPv4 option between two that would
  // merge: merging across it would reorder the flow.
  auto specs = Segments(Ipv4Flow(), {kGso, kGso, kGso, kGso});
  specs[2].ipv4_options = {1, 1, 1, 1};  // NOPs
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1}));
  EXPECT_TRUE(Unchanged(out[1], batch, 2));
  EXPECT_TRUE(Unchanged(out[2], batch, 3));
}

TEST(CoalesceTcp, EthernetPaddingIsTrimmedFromMergedFrames) {
  // Small segments with Ethernet padding after their IP packets (of any
  // length: not every sender pads just up to 60 bytes).
  FrameSpec base;
  base.ethernet_padding = 6;
  auto specs = Segments(base, {6, 6, 4});
  specs[1].ethernet_padding = 10;
  specs[2].ethernet_padding = 0;
  Batch batch;
  batch.AddAll(specs);
  FrameSpec alone = Ipv6Flow();
  alone.destination_port = 1;
  alone.payload = {1, 2};
  alone.ethernet_padding = 4;
  batch.Add(alone);
  const auto out = batch.Run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2}));
  EXPECT_EQ(out[0].buffer->size(), 14 + 20 + 20 + 16u);
  EXPECT_TRUE(Unchanged(out[1], batch, 3));  // padding and all
}

TEST(CoalesceTcp, GroupsStayWithin64KiBOfIpPacket) {
  for (const FrameSpec& base : {Ipv4Flow(), Ipv6Flow()}) {
    SCOPED_TRACE(base.ip_version);
    Batch batch;
    batch.AddAll(Segments(base, std::vector<size_t>(50, 1448)));
    const auto out = batch.Run();
    ASSERT_EQ(out.size(), 2u);
    // 20 or 40 + 32 + 45 * 1448 <= 65535 < ... + 46 * 1448.
    std::vector<size_t> first(45), second(5);
    for (size_t i = 0; i < 45; ++i) first[i] = i;
    for (size_t i = 0; i < 5; ++i) second[i] = 45 + i;
    EXPECT_TRUE(Merged(out[0], batch, first));
    EXPECT_TRUE(Merged(out[1], batch, second));
    for (const auto& frame : out) {
      EXPECT_LE(frame.buffer->size() - 14, 65535u);
    }
  }
}

TEST(CoalesceTcp, GroupsFillUpTo65535BytesOfIpPacketExactly) {
  // IPv4: 20 + 20 + 5 * 13099 = 65535, then one byte more does not fit.
  // IPv6: 40 + 20 + 5 * 13095 = 65535 (the IP packet, not just the payload
  // length field, stays within 64 KiB, as Linux GRO keeps it).
  FrameSpec ipv6;
  ipv6.ip_version = 6;
  for (const auto& [base, size] : {std::pair{FrameSpec{}, size_t{13099}},
                                   std::pair{ipv6, size_t{13095}}}) {
    SCOPED_TRACE(base.ip_version);
    std::vector<size_t> sizes(5, size);
    sizes.push_back(1);
    Batch batch;
    batch.AddAll(Segments(base, sizes));
    const auto out = batch.Run();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(Merged(out[0], batch, {0, 1, 2, 3, 4}));
    EXPECT_EQ(out[0].buffer->size(), 14 + 65535u);
    EXPECT_TRUE(Unchanged(out[1], batch, 5));
  }
}

TEST(CoalesceTcp, HeadWithoutTailRoomDoesNotGrow) {
  // A frame at the very end of its buffer (as after Consume): nothing can
  // be appended to it.
  const auto specs = Segments(Ipv4Flow(), {kGso, kGso});
  const BuiltFrame head = BuildFrame(specs[0]);
  PacketBuffer cramped;
  cramped.ResetForRead();
  cramped.Commit(PacketBuffer::kMaxData);
  cramped.Consume(PacketBuffer::kMaxData - head.bytes.size());
  std::copy(head.bytes.begin(), head.bytes.end(), cramped.data().begin());
  ASSERT_EQ(cramped.tailroom(), 0u);
  Batch batch;
  batch.Add(specs[1]);
  PacketBuffer* frames[] = {&cramped, batch.buffer(0)};
  CoalescedFrame out[2];
  ASSERT_EQ(CoalesceTcp(frames, out), 2u);
  EXPECT_EQ(out[0].buffer, &cramped);
  EXPECT_EQ(out[0].header, VirtioNetHeader{});
  EXPECT_TRUE(SameBytes(cramped.data(), head.bytes));
  EXPECT_TRUE(Unchanged(out[1], batch, 0));
}

// --- Round trip: the merged frames, cut up again, are the segments.

// Cuts `out` back into segments as a TSO sender would from its virtio-net
// header (naively, here): the head's headers with the sequence number,
// IPv4 identification (+1 each), IP length, PSH (last only) and checksums
// of each segment.
std::vector<std::vector<uint8_t>> Resegment(const CoalescedFrame& out) {
  const auto frame = out.buffer->data();
  if (!out.header.is_gso()) return {{frame.begin(), frame.end()}};
  FrameOffsets o;
  o.ip_version = out.header.gso_type == VirtioNetHeader::kGsoTcpV4 ? 4 : 6;
  o.l4 = out.header.checksum_start;
  o.l3 = o.l4 - (o.ip_version == 4 ? 20 : 40);
  o.l4_protocol = kIpProtocolTcp;
  o.payload = out.header.header_length;
  const size_t total = frame.size() - o.payload;
  const size_t gso = out.header.gso_size;
  std::vector<std::vector<uint8_t>> segments;
  for (size_t at = 0, i = 0; at < total; at += gso, ++i) {
    const size_t size = std::min(gso, total - at);
    std::vector<uint8_t> s(frame.begin(), frame.begin() + o.payload);
    s.insert(s.end(), frame.begin() + o.payload + at,
             frame.begin() + o.payload + at + size);
    if (o.ip_version == 4) {
      WriteBe16(s, o.l3 + 2, static_cast<uint16_t>(s.size() - o.l3));
      WriteBe16(s, o.l3 + 4, static_cast<uint16_t>(ReadBe16(s, o.l3 + 4) + i));
      WriteBe16(s, o.l3 + 10, 0);
      WriteBe16(s, o.l3 + 10,
                static_cast<uint16_t>(
                    ~NaiveSum(std::span<const uint8_t>(s).subspan(o.l3, 20))));
    } else {
      WriteBe16(s, o.l3 + 4, static_cast<uint16_t>(s.size() - o.l3 - 40));
    }
    const uint32_t seq = ReadBe32(s, o.l4 + 4) + static_cast<uint32_t>(at);
    for (int b = 0; b < 4; ++b) {
      s[o.l4 + 4 + b] = static_cast<uint8_t>(seq >> (24 - 8 * b));
    }
    if (at + size < total) s[o.l4 + 13] &= static_cast<uint8_t>(~kTcpPsh);
    o.ip_end = s.size();
    WriteBe16(s, o.l4 + 16, 0);
    WriteBe16(s, o.l4 + 16, static_cast<uint16_t>(~L4ChecksumSum(s, o)));
    segments.push_back(std::move(s));
  }
  return segments;
}

// The same, by the segmenter (the send side's GSO in software).
std::vector<std::vector<uint8_t>> SegmenterCuts(const CoalescedFrame& out) {
  const auto frame = out.buffer->data();
  auto plan = PlanSegments(out.header, frame, PacketBuffer::kMaxData);
  if (!plan) {
    ADD_FAILURE() << plan.error().message;
    return {};
  }
  std::vector<std::vector<uint8_t>> segments;
  for (size_t i = 0; i < plan->count; ++i) {
    std::vector<uint8_t> segment(plan->max_segment_size());
    segment.resize(WriteSegment(*plan, frame, i, segment));
    segments.push_back(std::move(segment));
  }
  return segments;
}

TEST(CoalesceTcp, SegmenterCutsMergedFramesBackIntoTheSegments) {
  FrameSpec tagged = Ipv6Flow();
  tagged.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  FrameSpec push = Ipv4Flow();
  push.vlan_tags = {{kEtherTypeVlan, 30}};
  for (const auto& [base, sizes, psh] :
       {std::tuple{Ipv4Flow(), std::vector<size_t>(7, 1448), false},
        std::tuple{tagged, std::vector<size_t>{kGso, kGso, kGso, 17}, false},
        std::tuple{push, std::vector<size_t>{kGso, kGso, 999}, true}}) {
    auto specs = Segments(base, sizes);
    if (psh) specs.back().tcp_flags |= kTcpPsh;
    Batch batch;
    batch.AddAll(specs);
    const auto out = batch.Run();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(out[0].header.is_gso());
    const auto segments = SegmenterCuts(out[0]);
    ASSERT_EQ(segments.size(), specs.size());
    for (size_t i = 0; i < segments.size(); ++i) {
      EXPECT_TRUE(SameBytes(segments[i], batch.built(i).bytes))
          << " (segment " << i << ")";
    }
  }
}

// Random batches of a few flows, with gaps, retransmissions, PSH, short,
// long and empty segments, bad checksums, padding and UDP in between: cut
// up again, the output is the input, each flow in its order (a merged
// segment without its padding).
TEST(CoalesceTcp, RandomBatchesRoundTrip) {
  FrameSpec tagged = Ipv4Flow();
  tagged.vlan_tags = {{kEtherTypeVlan, 7}};
  FrameSpec other_port = Ipv4Flow();
  other_port.source_port = 40001;
  FrameSpec no_options;
  no_options.ip_version = 6;
  const std::vector<FrameSpec> bases = {Ipv4Flow(), Ipv6Flow(), tagged,
                                        other_port, no_options};
  size_t merged_groups = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 random(seed);
    auto uniform = [&](size_t n) {
      return std::uniform_int_distribution<size_t>(0, n - 1)(random);
    };
    const size_t flow_count = 1 + uniform(bases.size());
    struct FlowState {
      uint32_t offset = 0;
      uint16_t id = 0;
    };
    std::vector<FlowState> states(flow_count);
    Batch batch;
    std::vector<size_t> flow_of;  // per frame; flow_count for non-TCP
    const size_t frames = 1 + uniform(64);
    for (size_t n = 0; n < frames; ++n) {
      const size_t f = uniform(flow_count + 1);
      if (f == flow_count) {
        FrameSpec udp;
        udp.l4_protocol = kIpProtocolUdp;
        udp.payload = StreamSlice(n, 100);
        batch.Add(udp);
        flow_of.push_back(flow_count);
        continue;
      }
      FlowState& state = states[f];
      FrameSpec spec = bases[f];
      size_t size = kGso;
      bool corrupt = false;
      switch (uniform(20)) {
        case 0:
          spec.tcp_flags |= kTcpPsh;
          break;
        case 1:
          size = 1 + uniform(kGso);
          break;
        case 2:
          size = kGso + 1 + uniform(500);
          break;
        case 3:
          state.offset += 500;  // a gap
          break;
        case 4:
          state.offset -= std::min<uint32_t>(state.offset, 2 * kGso);
          break;
        case 5:
          size = 0;
          break;
        case 6:
          corrupt = true;
          break;
        case 7:
          size = 1 + uniform(10);
          spec.ethernet_padding = 1 + uniform(10);
          break;
        case 8:
          spec.tcp_flags |= kTcpFin;
          break;
        default:
          break;
      }
      spec.tcp_sequence += state.offset;
      spec.ipv4_id = state.id++;
      spec.payload = StreamSlice(state.offset, size);
      state.offset += static_cast<uint32_t>(size);
      BuiltFrame frame = BuildFrame(spec);
      if (corrupt) frame.bytes[frame.offsets.l4 + 4] ^= 1;
      batch.Add(frame);
      flow_of.push_back(f);
    }
    const auto out = batch.Run();

    // Match the cut-up output against the input, flow by flow in order.
    std::vector<size_t> next(flow_count + 1, 0);
    auto pending = [&](size_t f) -> std::optional<size_t> {
      for (size_t i = next[f]; i < flow_of.size(); ++i) {
        if (flow_of[i] == f) return i;
      }
      return std::nullopt;
    };
    for (const CoalescedFrame& frame : out) {
      if (frame.header.is_gso()) {
        ++merged_groups;
        const size_t l3 =
            frame.header.checksum_start -
            (frame.header.gso_type == VirtioNetHeader::kGsoTcpV4 ? 20 : 40);
        ASSERT_LE(frame.buffer->size() - l3, 65535u);
      }
      const auto segments = Resegment(frame);
      if (frame.header.is_gso()) {
        const auto cut = SegmenterCuts(frame);
        ASSERT_EQ(cut.size(), segments.size());
        for (size_t i = 0; i < cut.size(); ++i) {
          ASSERT_TRUE(SameBytes(cut[i], segments[i]));
        }
      }
      for (const auto& segment : segments) {
        bool found = false;
        for (size_t f = 0; f <= flow_count && !found; ++f) {
          const auto i = pending(f);
          if (!i) continue;
          const BuiltFrame& original = batch.built(*i);
          const std::span<const uint8_t> expected =
              frame.header.is_gso() ? std::span<const uint8_t>(original.bytes)
                                          .first(original.offsets.ip_end)
                                    : std::span<const uint8_t>(original.bytes);
          if (SameBytes(segment, expected)) {
            found = true;
            next[f] = *i + 1;
          }
        }
        ASSERT_TRUE(found) << "a segment out of order or changed";
      }
    }
    for (size_t f = 0; f <= flow_count; ++f) {
      EXPECT_FALSE(pending(f)) << "flow " << f << " lost a segment";
    }
  }
  EXPECT_GT(merged_groups, 300u);
}

// --- UDP (USO super-frames, CoalesceOptions::udp).

constexpr CoalesceOptions kWithUdp{.udp = true};

FrameSpec UdpIpv4Flow() {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  spec.source_port = 4500;
  spec.destination_port = 4433;
  return spec;
}

FrameSpec UdpIpv6Flow() {
  FrameSpec spec = UdpIpv4Flow();
  spec.ip_version = 6;
  spec.traffic_class = 0x28;
  spec.flow_label = 0xabcde;
  return spec;
}

// Datagrams of one flow: IPv4 identifications advance, payloads are
// consecutive stream slices (so a misplaced one shows).
std::vector<FrameSpec> Datagrams(const FrameSpec& base,
                                 const std::vector<size_t>& sizes) {
  return Segments(base, sizes);  // the TCP sequence number is unused
}

std::vector<size_t> Range(size_t first, size_t count) {
  std::vector<size_t> indices(count);
  for (size_t i = 0; i < count; ++i) indices[i] = first + i;
  return indices;
}

// The USO super-frame datagrams `indices` (of one flow, in order) make,
// computed here: the first one's headers with IP length, IPv4 header
// checksum, UDP length over everything and the folded pseudo-header sum
// (not complemented) in the UDP checksum field; then every payload.
std::vector<uint8_t> ExpectedUdpMerge(const Batch& batch,
                                      const std::vector<size_t>& indices) {
  const BuiltFrame& head = batch.built(indices.front());
  const FrameOffsets& o = head.offsets;
  std::vector<uint8_t> bytes(
      head.bytes.begin(),
      head.bytes.begin() + static_cast<ptrdiff_t>(o.payload));
  for (size_t i : indices) {
    const BuiltFrame& part = batch.built(i);
    bytes.insert(
        bytes.end(),
        part.bytes.begin() + static_cast<ptrdiff_t>(part.offsets.payload),
        part.bytes.begin() + static_cast<ptrdiff_t>(part.offsets.ip_end));
  }
  FrameOffsets merged = o;
  merged.ip_end = bytes.size();
  if (o.ip_version == 4) {
    WriteBe16(bytes, o.l3 + 2, static_cast<uint16_t>(bytes.size() - o.l3));
    WriteBe16(bytes, o.l3 + 10, 0);
    WriteBe16(bytes, o.l3 + 10,
              static_cast<uint16_t>(~NaiveSum(
                  std::span<const uint8_t>(bytes).subspan(o.l3, 20))));
  } else {
    WriteBe16(bytes, o.l3 + 4, static_cast<uint16_t>(bytes.size() - o.l3 - 40));
  }
  const auto udp_length = static_cast<uint32_t>(bytes.size() - o.l4);
  WriteBe16(bytes, o.l4 + 4, static_cast<uint16_t>(udp_length));
  WriteBe16(bytes, o.l4 + 6, NaiveSum(PseudoHeader(bytes, merged, udp_length)));
  return bytes;
}

::testing::AssertionResult MergedUdp(const CoalescedFrame& out, Batch& batch,
                                     const std::vector<size_t>& indices) {
  const size_t first = indices.front();
  if (out.buffer != batch.buffer(first)) {
    return ::testing::AssertionFailure() << "not frame " << first;
  }
  const FrameOffsets& o = batch.built(first).offsets;
  VirtioNetHeader expected;
  expected.flags = VirtioNetHeader::kNeedsChecksum;
  expected.gso_type = VirtioNetHeader::kGsoUdpL4;
  expected.header_length = static_cast<uint16_t>(o.payload);
  expected.gso_size = static_cast<uint16_t>(o.ip_end - o.payload);
  expected.checksum_start = static_cast<uint16_t>(o.l4);
  expected.checksum_offset = 6;
  if (out.header != expected) {
    return ::testing::AssertionFailure()
           << "header {flags " << int{out.header.flags} << ", gso_type "
           << int{out.header.gso_type} << ", header_length "
           << out.header.header_length << ", gso_size " << out.header.gso_size
           << ", checksum_start " << out.header.checksum_start
           << ", checksum_offset " << out.header.checksum_offset << "}";
  }
  auto same = SameBytes(out.buffer->data(), ExpectedUdpMerge(batch, indices));
  if (!same) return same << " (group from frame " << first << ")";
  if (!CompletedChecksumVerifies(out.buffer->data(), out.header, o)) {
    return ::testing::AssertionFailure() << "completed checksum is wrong";
  }
  return ::testing::AssertionSuccess();
}

TEST(CoalesceUdp, MergesAnIpv4FlowWhenAsked) {
  Batch batch;
  batch.AddAll(Datagrams(UdpIpv4Flow(), {kGso, kGso, kGso, kGso}));
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1, 2, 3}));
  const auto frame = out[0].buffer->data();
  EXPECT_EQ(frame.size(), 14 + 20 + 8 + 4 * kGso);
  EXPECT_EQ(ReadBe16(frame, 14 + 2), 20 + 8 + 4 * kGso);  // total length
  EXPECT_EQ(ReadBe16(frame, 14 + 4), 0x1234);             // the head's ID
  EXPECT_EQ(ReadBe16(frame, 14 + 20 + 4), 8 + 4 * kGso);  // UDP length
  // The checksum field: the pseudo-header sum over the merged length, by
  // hand (198.51.100.2 <- 192.0.2.1, protocol 17).
  const uint32_t pseudo = 0xc000 + 0x0201 + 0xc633 + 0x6402 + 17 + 8 + 4 * kGso;
  EXPECT_EQ(ReadBe16(frame, 14 + 20 + 6),
            static_cast<uint16_t>((pseudo & 0xffff) + (pseudo >> 16)));
  EXPECT_EQ(out[0].header.header_length, 14 + 20 + 8);
  EXPECT_EQ(out[0].header.gso_size, kGso);
}

TEST(CoalesceUdp, MergesAnIpv6FlowWhenAsked) {
  Batch batch;
  batch.AddAll(Datagrams(UdpIpv6Flow(), {kGso, kGso, kGso}));
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1, 2}));
  const auto frame = out[0].buffer->data();
  EXPECT_EQ(ReadBe16(frame, 14 + 4), 8 + 3 * kGso);       // payload length
  EXPECT_EQ(ReadBe16(frame, 14 + 40 + 4), 8 + 3 * kGso);  // UDP length
  EXPECT_EQ(out[0].header.gso_type, VirtioNetHeader::kGsoUdpL4);
  EXPECT_EQ(out[0].header.checksum_start, 14 + 40);
}

TEST(CoalesceUdp, NotMergedByDefault) {
  for (const FrameSpec& base : {UdpIpv4Flow(), UdpIpv6Flow()}) {
    SCOPED_TRACE(int{base.ip_version});
    Batch batch;
    batch.AddAll(Datagrams(base, {kGso, kGso, kGso}));
    const auto out = batch.Run();
    ASSERT_EQ(out.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], batch, i));
  }
}

TEST(CoalesceUdp, MergesVlanTaggedFlows) {
  FrameSpec tagged = UdpIpv4Flow();
  tagged.vlan_tags = {{kEtherTypeVlan, 100}};
  FrameSpec double_tagged = UdpIpv6Flow();
  double_tagged.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  Batch batch;
  batch.AddAll(Datagrams(tagged, {kGso, kGso}));
  batch.AddAll(Datagrams(double_tagged, {kGso, kGso}));
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
  EXPECT_TRUE(MergedUdp(out[1], batch, {2, 3}));
  EXPECT_EQ(out[1].header.checksum_start, 22 + 40);
  EXPECT_EQ(out[1].header.header_length, 22 + 40 + 8);
}

TEST(CoalesceUdp, SegmenterCutsMergedFramesBackIntoTheDatagrams) {
  FrameSpec tagged = UdpIpv6Flow();
  tagged.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  FrameSpec fixed_id = UdpIpv4Flow();
  fixed_id.vlan_tags = {{kEtherTypeVlan, 30}};
  for (const auto& [base, sizes] :
       {std::pair{UdpIpv4Flow(), std::vector<size_t>(7, 1472)},
        std::pair{UdpIpv6Flow(), std::vector<size_t>(5, 1452)},
        std::pair{tagged, std::vector<size_t>{kGso, kGso, kGso, 17}},
        std::pair{fixed_id, std::vector<size_t>{kGso, kGso, 999}},
        std::pair{UdpIpv4Flow(), std::vector<size_t>{1, 1, 1}}}) {
    const auto specs = Datagrams(base, sizes);
    Batch batch;
    batch.AddAll(specs);
    const auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(out[0].header.is_gso());
    const auto datagrams = SegmenterCuts(out[0]);
    ASSERT_EQ(datagrams.size(), specs.size());
    for (size_t i = 0; i < datagrams.size(); ++i) {
      EXPECT_TRUE(SameBytes(datagrams[i], batch.built(i).bytes))
          << " (datagram " << i << ")";
    }
  }
}

TEST(CoalesceUdp, SmallerDatagramIsTheLastOfItsGroup) {
  Batch batch;
  batch.AddAll(Datagrams(UdpIpv4Flow(), {kGso, kGso, 300, kGso, kGso}));
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1, 2}));
  EXPECT_EQ(out[0].header.gso_size, kGso);
  EXPECT_TRUE(MergedUdp(out[1], batch, {3, 4}));
}

TEST(CoalesceUdp, LargerDatagramStartsANewGroup) {
  Batch batch;
  batch.AddAll(
      Datagrams(UdpIpv6Flow(), {kGso, kGso, kGso + 1, kGso + 1, kGso + 2}));
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
  EXPECT_TRUE(MergedUdp(out[1], batch, {2, 3}));
  EXPECT_EQ(out[1].header.gso_size, kGso + 1);
  EXPECT_TRUE(Unchanged(out[2], batch, 4));
}

TEST(CoalesceUdp, EmptyDatagramsNeverMerge) {
  Batch batch;
  batch.AddAll(Datagrams(UdpIpv4Flow(), {kGso, kGso, 0, kGso, kGso}));
  auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
  EXPECT_TRUE(Unchanged(out[1], batch, 2));
  EXPECT_TRUE(MergedUdp(out[2], batch, {3, 4}));

  Batch empty;
  empty.AddAll(Datagrams(UdpIpv6Flow(), {0, 0, 0}));
  out = empty.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], empty, i));
}

TEST(CoalesceUdp, DatagramsWithoutChecksumAreNotMerged) {
  // IPv4: 0 means "no checksum"; IPv6: 0 is invalid. Either way the
  // datagram passes through as it came and closes its flow's group.
  for (const FrameSpec& base : {UdpIpv4Flow(), UdpIpv6Flow()}) {
    SCOPED_TRACE(int{base.ip_version});
    auto specs = Datagrams(base, {kGso, kGso, kGso, kGso, kGso});
    specs[2].l4_checksum = L4Checksum::kZero;
    Batch batch;
    batch.AddAll(specs);
    auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
    EXPECT_TRUE(Unchanged(out[1], batch, 2));
    EXPECT_TRUE(MergedUdp(out[2], batch, {3, 4}));

    for (auto& spec : specs) spec.l4_checksum = L4Checksum::kZero;
    Batch none;
    none.AddAll(specs);
    out = none.Run(kWithUdp);
    ASSERT_EQ(out.size(), specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      EXPECT_TRUE(Unchanged(out[i], none, i));
    }
  }
}

TEST(CoalesceUdp, BadChecksumsAreNotMerged) {
  for (const FrameSpec& base : {UdpIpv4Flow(), UdpIpv6Flow()}) {
    for (size_t bad : {0, 1, 2}) {
      SCOPED_TRACE(::testing::Message() << "IPv" << int{base.ip_version}
                                        << ", bad datagram " << bad);
      auto specs = Datagrams(base, {kGso, kGso, kGso, kGso});
      Batch batch;
      for (size_t i = 0; i < specs.size(); ++i) {
        BuiltFrame frame = BuildFrame(specs[i]);
        if (i == bad) frame.bytes[frame.offsets.payload + 10] ^= 0x40;
        batch.Add(frame);
      }
      const auto out = batch.Run(kWithUdp);
      if (bad == 0) {  // the bad head passes as it is; the rest merges
        ASSERT_EQ(out.size(), 2u);
        EXPECT_TRUE(Unchanged(out[0], batch, 0));
        EXPECT_TRUE(MergedUdp(out[1], batch, {1, 2, 3}));
      } else if (bad == 1) {
        ASSERT_EQ(out.size(), 3u);
        EXPECT_TRUE(Unchanged(out[0], batch, 0));
        EXPECT_TRUE(Unchanged(out[1], batch, 1));
        EXPECT_TRUE(MergedUdp(out[2], batch, {2, 3}));
      } else {
        ASSERT_EQ(out.size(), 3u);
        EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
        EXPECT_TRUE(Unchanged(out[1], batch, 2));
        EXPECT_TRUE(Unchanged(out[2], batch, 3));
      }
    }
  }
  // A bad IPv4 header checksum on the second datagram.
  auto specs = Datagrams(UdpIpv4Flow(), {kGso, kGso});
  Batch batch;
  batch.Add(specs[0]);
  BuiltFrame frame = BuildFrame(specs[1]);
  frame.bytes[frame.offsets.l3 + 10] ^= 0x01;
  batch.Add(frame);
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Unchanged(out[0], batch, 0));
  EXPECT_TRUE(Unchanged(out[1], batch, 1));
}

TEST(CoalesceUdp, UdpLengthThatDisagreesWithTheIpLengthIsNotMerged) {
  // A UDP length shorter than the IP packet's (trailing bytes inside the
  // IP packet): Linux UDP GRO refuses it, and so does the coalescer.
  auto specs = Datagrams(UdpIpv4Flow(), {kGso, kGso, kGso});
  Batch batch;
  for (size_t i = 0; i < specs.size(); ++i) {
    BuiltFrame frame = BuildFrame(specs[i]);
    if (i == 1) {
      const size_t l4 = frame.offsets.l4;
      WriteBe16(frame.bytes, l4 + 4, static_cast<uint16_t>(8 + kGso - 2));
    }
    batch.Add(frame);
  }
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], batch, i));
}

// Two datagrams that would merge, but for `change` applied to the second.
void ExpectNoUdpMerge(const FrameSpec& base,
                      const std::vector<Difference>& differences) {
  for (const Difference& difference : differences) {
    SCOPED_TRACE(difference.name);
    auto specs = Datagrams(base, {kGso, kGso});
    difference.change(specs[1]);
    Batch batch;
    batch.AddAll(specs);
    const auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(Unchanged(out[0], batch, 0));
    EXPECT_TRUE(Unchanged(out[1], batch, 1));
  }
}

std::vector<Difference> UdpDifferences() {
  return With(FlowDifferences(),
              {{"TCP", [](FrameSpec& s) { s.l4_protocol = kIpProtocolTcp; }}});
}

TEST(CoalesceUdp, Ipv4DatagramsThatDifferDoNotMerge) {
  ExpectNoUdpMerge(UdpIpv4Flow(), With(UdpDifferences(), Ipv4Differences()));
}

TEST(CoalesceUdp, Ipv6DatagramsThatDifferDoNotMerge) {
  ExpectNoUdpMerge(UdpIpv6Flow(), With(UdpDifferences(), Ipv6Differences()));
}

TEST(CoalesceUdp, VlanTaggedDatagramsThatDifferDoNotMerge) {
  FrameSpec base = UdpIpv4Flow();
  base.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  ExpectNoUdpMerge(
      base,
      {
          {"inner VLAN ID", [](FrameSpec& s) { s.vlan_tags[1].tci = 21; }},
          {"outer VLAN ID", [](FrameSpec& s) { s.vlan_tags[0].tci = 11; }},
          {"outer TPID",
           [](FrameSpec& s) { s.vlan_tags[0].tpid = kEtherTypeVlan; }},
          {"one tag", [](FrameSpec& s) { s.vlan_tags.pop_back(); }},
      });
}

TEST(CoalesceUdp, EqualIpv4IdentificationsMergeOnlyWithDf) {
  auto specs = Datagrams(UdpIpv4Flow(), {kGso, kGso, kGso});
  for (auto& spec : specs) spec.ipv4_id = 7;
  Batch batch;
  batch.AddAll(specs);
  auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1, 2}));

  for (auto& spec : specs) spec.dont_fragment = false;
  Batch without_df;
  without_df.AddAll(specs);
  out = without_df.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], without_df, i));

  // Incrementing without DF merges (DF equal, clear on all).
  Batch incrementing;
  incrementing.AddAll(Datagrams(
      [] {
        FrameSpec spec = UdpIpv4Flow();
        spec.dont_fragment = false;
        return spec;
      }(),
      {kGso, kGso}));
  out = incrementing.Run(kWithUdp);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(MergedUdp(out[0], incrementing, {0, 1}));
}

TEST(CoalesceUdp, TcpAndUdpFlowsInterleavedEachMerge) {
  // The UDP flow has the TCP flow's addresses and ports: only the
  // protocol tells them apart.
  FrameSpec udp = UdpIpv4Flow();
  udp.source_port = Ipv4Flow().source_port;
  udp.destination_port = Ipv4Flow().destination_port;
  udp.ipv4_id = 0x700;
  const auto tcp_specs = Segments(Ipv4Flow(), {kGso, kGso, kGso});
  const auto udp_specs = Datagrams(udp, {1200, 1200, 1200});
  const auto udp6_specs = Datagrams(UdpIpv6Flow(), {kGso, kGso, 5});
  Batch batch;
  for (size_t i = 0; i < 3; ++i) {
    batch.Add(tcp_specs[i]);   // 0 3 6
    batch.Add(udp_specs[i]);   // 1 4 7
    batch.Add(udp6_specs[i]);  // 2 5 8
  }
  auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(Merged(out[0], batch, {0, 3, 6}));
  EXPECT_TRUE(MergedUdp(out[1], batch, {1, 4, 7}));
  EXPECT_TRUE(MergedUdp(out[2], batch, {2, 5, 8}));

  // Without UDP merging, TCP merges the same around untouched datagrams.
  Batch tcp_only;
  for (size_t i = 0; i < 3; ++i) {
    tcp_only.Add(tcp_specs[i]);
    tcp_only.Add(udp_specs[i]);
    tcp_only.Add(udp6_specs[i]);
  }
  out = tcp_only.Run();
  ASSERT_EQ(out.size(), 7u);
  EXPECT_TRUE(Merged(out[0], tcp_only, {0, 3, 6}));
  const size_t udp_indices[] = {1, 2, 4, 5, 7, 8};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(Unchanged(out[1 + i], tcp_only, udp_indices[i]));
  }
}

TEST(CoalesceUdp, GroupsHoldAtMost64Datagrams) {
  for (const FrameSpec& base : {UdpIpv4Flow(), UdpIpv6Flow()}) {
    SCOPED_TRACE(int{base.ip_version});
    Batch batch;
    batch.AddAll(Datagrams(base, std::vector<size_t>(100, 100)));
    const auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(MergedUdp(out[0], batch, Range(0, 64)));
    EXPECT_TRUE(MergedUdp(out[1], batch, Range(64, 36)));
  }
}

TEST(CoalesceUdp, GroupsStayWithin65535BytesOfIpPacket) {
  // IPv4: 20 + 8 + 4 * 16376 = 65532 fits, 4 * 16377 = 65536 does not.
  // IPv6: 40 + 8 + 3 * 21829 = 65535 exactly, 3 * 21830 does not.
  for (const auto& [base, size, fitting] :
       {std::tuple{UdpIpv4Flow(), size_t{16376}, size_t{4}},
        std::tuple{UdpIpv4Flow(), size_t{16377}, size_t{3}},
        std::tuple{UdpIpv6Flow(), size_t{21829}, size_t{3}},
        std::tuple{UdpIpv6Flow(), size_t{21830}, size_t{2}}}) {
    SCOPED_TRACE(::testing::Message()
                 << "IPv" << int{base.ip_version} << ", " << size);
    Batch batch;
    batch.AddAll(Datagrams(base, std::vector<size_t>(2 * fitting, size)));
    const auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(MergedUdp(out[0], batch, Range(0, fitting)));
    EXPECT_TRUE(MergedUdp(out[1], batch, Range(fitting, fitting)));
    for (const auto& frame : out) {
      EXPECT_LE(frame.buffer->size() - 14, 65535u);
    }
  }
}

TEST(CoalesceUdp, DatagramsWithIpOptionsOrExtensionHeadersPassThrough) {
  FrameSpec options = UdpIpv4Flow();
  options.ipv4_options = {7, 3, 4};  // record route, empty
  FrameSpec extension = UdpIpv6Flow();
  extension.ipv6_extension_headers = {Ipv6ExtensionHeader{}};
  FrameSpec fragment = UdpIpv4Flow();
  fragment.ipv4_fragment_bits = 0x2000;  // MF
  for (const FrameSpec& base : {options, extension, fragment}) {
    Batch batch;
    batch.AddAll(Datagrams(base, {kGso, kGso, kGso}));
    const auto out = batch.Run(kWithUdp);
    ASSERT_EQ(out.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Unchanged(out[i], batch, i));
  }
  // One such datagram of a flow closes the flow's group.
  auto specs = Datagrams(UdpIpv4Flow(), {kGso, kGso, kGso, kGso, kGso});
  specs[2].ipv4_options = {1, 1, 1, 1};  // NOPs
  Batch batch;
  batch.AddAll(specs);
  const auto out = batch.Run(kWithUdp);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(MergedUdp(out[0], batch, {0, 1}));
  EXPECT_TRUE(Unchanged(out[1], batch, 2));
  EXPECT_TRUE(MergedUdp(out[2], batch, {3, 4}));
}

// Random batches of UDP and TCP flows, with short, long, empty,
// checksum-less and corrupt datagrams: cut up again by the segmenter, the
// output is the input, each flow in its order.
TEST(CoalesceUdp, RandomBatchesRoundTrip) {
  FrameSpec tagged = UdpIpv4Flow();
  tagged.vlan_tags = {{kEtherTypeVlan, 7}};
  FrameSpec other_port = UdpIpv4Flow();
  other_port.source_port = 4501;
  const std::vector<FrameSpec> bases = {UdpIpv4Flow(), UdpIpv6Flow(), tagged,
                                        other_port, Ipv4Flow()};
  size_t merged_groups = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 random(seed);
    auto uniform = [&](size_t n) {
      return std::uniform_int_distribution<size_t>(0, n - 1)(random);
    };
    const size_t flow_count = 1 + uniform(bases.size());
    std::vector<size_t> offsets(flow_count, 0);
    std::vector<uint16_t> ids(flow_count, 0);
    Batch batch;
    std::vector<size_t> flow_of;
    const size_t frames = 1 + uniform(128);
    for (size_t n = 0; n < frames; ++n) {
      const size_t f = uniform(flow_count);
      FrameSpec spec = bases[f];
      size_t size = kGso;
      bool corrupt = false;
      switch (uniform(16)) {
        case 0:
          size = 1 + uniform(kGso);
          break;
        case 1:
          size = kGso + 1 + uniform(500);
          break;
        case 2:
          size = 0;
          break;
        case 3:
          corrupt = true;
          break;
        case 4:
          if (spec.ip_version == 4 && spec.l4_protocol == kIpProtocolUdp) {
            spec.l4_checksum = L4Checksum::kZero;
          }
          break;
        default:
          break;
      }
      spec.tcp_sequence += static_cast<uint32_t>(offsets[f]);
      spec.ipv4_id = ids[f]++;
      spec.payload = StreamSlice(offsets[f], size);
      offsets[f] += size;
      BuiltFrame frame = BuildFrame(spec);
      // The UDP checksum field, or within the TCP sequence number: the
      // frame stays in its flow.
      if (corrupt) frame.bytes[frame.offsets.l4 + 6] ^= 1;
      batch.Add(frame);
      flow_of.push_back(f);
    }
    const auto out = batch.Run(kWithUdp);

    std::vector<size_t> next(flow_count, 0);
    auto pending = [&](size_t f) -> std::optional<size_t> {
      for (size_t i = next[f]; i < flow_of.size(); ++i) {
        if (flow_of[i] == f) return i;
      }
      return std::nullopt;
    };
    for (const CoalescedFrame& frame : out) {
      std::vector<std::vector<uint8_t>> pieces;
      if (frame.header.is_gso()) {
        ++merged_groups;
        pieces = SegmenterCuts(frame);
        if (frame.header.gso_type == VirtioNetHeader::kGsoUdpL4) {
          ASSERT_LE(pieces.size(), 64u);
        }
      } else {
        const auto bytes = frame.buffer->data();
        pieces.emplace_back(bytes.begin(), bytes.end());
      }
      for (const auto& piece : pieces) {
        bool found = false;
        for (size_t f = 0; f < flow_count && !found; ++f) {
          const auto i = pending(f);
          if (i && SameBytes(piece, batch.built(*i).bytes)) {
            found = true;
            next[f] = *i + 1;
          }
        }
        ASSERT_TRUE(found) << "a datagram out of order or changed";
      }
    }
    for (size_t f = 0; f < flow_count; ++f) {
      EXPECT_FALSE(pending(f)) << "flow " << f << " lost a datagram";
    }
  }
  EXPECT_GT(merged_groups, 200u);
}

}  // namespace
}  // namespace etherip
