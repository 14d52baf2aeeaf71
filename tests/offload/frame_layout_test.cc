#include "offload/frame_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "offload/frame_builder.h"

namespace etherip {
namespace {

using ::testing::HasSubstr;
using testing_support::BuildFrame;
using testing_support::BuiltFrame;
using testing_support::FrameSpec;
using testing_support::Ipv6ExtensionHeader;
using testing_support::PatternPayload;
using testing_support::WriteBe16;

// The layout the builder says the frame has.
void ExpectLayoutOf(const BuiltFrame& frame, size_t vlan_tags) {
  auto layout = ParseFrameLayout(frame.bytes);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;
  EXPECT_EQ(layout->vlan_tags, vlan_tags);
  EXPECT_EQ(layout->l3_offset, frame.offsets.l3);
  EXPECT_EQ(layout->ip_version, frame.offsets.ip_version);
  EXPECT_EQ(layout->l4_offset, frame.offsets.l4);
  EXPECT_EQ(layout->l4_protocol, frame.offsets.l4_protocol);
  EXPECT_EQ(layout->header_length, frame.offsets.payload);
  EXPECT_EQ(layout->ip_end, frame.offsets.ip_end);
}

// Refused with EINVAL and a message containing `reason`.
void ExpectRefused(const std::vector<uint8_t>& frame,
                   const std::string& reason) {
  auto layout = ParseFrameLayout(frame);
  ASSERT_FALSE(layout.has_value()) << "expected: " << reason;
  EXPECT_EQ(layout.error().code, EINVAL);
  EXPECT_THAT(layout.error().message, HasSubstr(reason));
}

FrameSpec Ipv6Spec() {
  FrameSpec spec;
  spec.ip_version = 6;
  return spec;
}

TEST(FrameLayout, TcpOverIpv4) {
  FrameSpec spec;
  spec.payload = PatternPayload(100);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.l3, 14u);
  EXPECT_EQ(frame.offsets.l4, 34u);
  EXPECT_EQ(frame.offsets.payload, 54u);
}

TEST(FrameLayout, TcpOverIpv4WithoutPayload) {
  ExpectLayoutOf(BuildFrame(FrameSpec{}), 0);
}

TEST(FrameLayout, TcpOptions) {
  FrameSpec spec;
  // NOP, NOP, timestamps.
  spec.tcp_options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
  spec.payload = PatternPayload(10);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.payload - frame.offsets.l4, 32u);
}

TEST(FrameLayout, OneVlanTag) {
  FrameSpec spec;
  spec.vlan_tags = {{kEtherTypeVlan, 100}};
  spec.payload = PatternPayload(10);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 1);
  EXPECT_EQ(frame.offsets.l3, 18u);
}

TEST(FrameLayout, QinQ) {
  FrameSpec spec;
  spec.vlan_tags = {{kEtherTypeQinQ, 10}, {kEtherTypeVlan, 20}};
  spec.payload = PatternPayload(10);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 2);
  EXPECT_EQ(frame.offsets.l3, 22u);
}

TEST(FrameLayout, TwoCustomerTags) {
  FrameSpec spec = Ipv6Spec();
  spec.vlan_tags = {{kEtherTypeVlan, 10}, {kEtherTypeVlan, 20}};
  ExpectLayoutOf(BuildFrame(spec), 2);
}

TEST(FrameLayout, ThreeTagsRefused) {
  FrameSpec spec;
  spec.vlan_tags = {
      {kEtherTypeQinQ, 1}, {kEtherTypeVlan, 2}, {kEtherTypeVlan, 3}};
  ExpectRefused(BuildFrame(spec).bytes, "too many VLAN tags");
}

TEST(FrameLayout, Ipv4Options) {
  FrameSpec spec;
  spec.ipv4_options = {0x94, 4, 0, 0, 1, 1, 1, 0};  // router alert, NOPs, EOL
  spec.payload = PatternPayload(10);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.l4 - frame.offsets.l3, 28u);
}

TEST(FrameLayout, TcpOverIpv6) {
  FrameSpec spec = Ipv6Spec();
  spec.payload = PatternPayload(100);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.l4, 54u);
}

TEST(FrameLayout, Ipv6HopByHopAndDestinationOptions) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {
      {testing_support::kIpv6HopByHop, {5, 2, 0, 0, 1, 0}},  // router alert
      {testing_support::kIpv6DestinationOptions, std::vector<uint8_t>(14, 0)}};
  spec.payload = PatternPayload(10);
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.l4, 14u + 40 + 8 + 16);
}

TEST(FrameLayout, Ipv6RoutingHeaderIsWalked) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {
      {testing_support::kIpv6Routing, std::vector<uint8_t>(6, 0)}};
  ExpectLayoutOf(BuildFrame(spec), 0);
}

TEST(FrameLayout, UdpOverIpv4AndIpv6) {
  for (uint8_t version : {4, 6}) {
    FrameSpec spec;
    spec.ip_version = version;
    spec.l4_protocol = kIpProtocolUdp;
    spec.payload = PatternPayload(33);
    const BuiltFrame frame = BuildFrame(spec);
    ExpectLayoutOf(frame, 0);
    EXPECT_EQ(frame.offsets.payload - frame.offsets.l4, 8u);
  }
}

TEST(FrameLayout, UdpWithoutPayload) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  ExpectLayoutOf(BuildFrame(spec), 0);
}

TEST(FrameLayout, EthernetPaddingIsNotPartOfTheIpPacket) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  spec.payload = PatternPayload(2);
  spec.ethernet_padding = 16;
  const BuiltFrame frame = BuildFrame(spec);
  ExpectLayoutOf(frame, 0);
  EXPECT_EQ(frame.offsets.ip_end + 16, frame.bytes.size());
}

TEST(FrameLayout, ShorterThanEthernet) {
  ExpectRefused(std::vector<uint8_t>(13, 0), "shorter than Ethernet");
  ExpectRefused({}, "shorter than Ethernet");
}

TEST(FrameLayout, ShortVlanTag) {
  FrameSpec spec;
  spec.vlan_tags = {{kEtherTypeVlan, 100}};
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes.resize(17);  // the tag but not the EtherType after it
  ExpectRefused(bytes, "short VLAN tag");
}

TEST(FrameLayout, NotIpv4OrIpv6) {
  FrameSpec spec;
  spec.ether_type_override = 0x0806;  // ARP
  ExpectRefused(BuildFrame(spec).bytes, "not IPv4 or IPv6");
  spec.vlan_tags = {{kEtherTypeVlan, 100}};
  ExpectRefused(BuildFrame(spec).bytes, "not IPv4 or IPv6");
}

TEST(FrameLayout, ShortIpv4Header) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  bytes.resize(14 + 19);
  ExpectRefused(bytes, "short IPv4 header");
}

TEST(FrameLayout, Ipv4EtherTypeWithVersion6) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  bytes[14] = 0x65;
  ExpectRefused(bytes, "not version 4");
}

TEST(FrameLayout, Ipv4IhlBelowFive) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  bytes[14] = 0x44;
  ExpectRefused(bytes, "IHL < 5");
}

TEST(FrameLayout, ShortIpv4Options) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;  // 42 bytes
  bytes[14] = 0x4f;                                     // 60-byte header
  ExpectRefused(bytes, "short IPv4 options");
}

TEST(FrameLayout, Ipv4TotalLengthBeyondTheFrame) {
  FrameSpec spec;
  spec.payload = PatternPayload(10);
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes.pop_back();
  ExpectRefused(bytes, "IPv4 total length");
}

TEST(FrameLayout, Ipv4TotalLengthBelowTheHeader) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  WriteBe16(bytes, 14 + 2, 19);
  ExpectRefused(bytes, "IPv4 total length");
}

TEST(FrameLayout, Ipv4TotalLengthBelowTheTcpHeader) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  WriteBe16(bytes, 14 + 2, 20 + 19);
  ExpectRefused(bytes, "short TCP header");
}

TEST(FrameLayout, Ipv4Fragments) {
  FrameSpec spec;
  spec.ipv4_fragment_bits = 0x2000;  // more fragments
  ExpectRefused(BuildFrame(spec).bytes, "IPv4 fragment");
  spec.ipv4_fragment_bits = 0x0001;  // offset 8
  ExpectRefused(BuildFrame(spec).bytes, "IPv4 fragment");
}

TEST(FrameLayout, ShortIpv6Header) {
  std::vector<uint8_t> bytes = BuildFrame(Ipv6Spec()).bytes;
  bytes.resize(14 + 39);
  ExpectRefused(bytes, "short IPv6 header");
}

TEST(FrameLayout, Ipv6EtherTypeWithVersion4) {
  std::vector<uint8_t> bytes = BuildFrame(Ipv6Spec()).bytes;
  bytes[14] = 0x40;
  ExpectRefused(bytes, "not version 6");
}

TEST(FrameLayout, Ipv6PayloadLengthBeyondTheFrame) {
  FrameSpec spec = Ipv6Spec();
  spec.payload = PatternPayload(10);
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes.pop_back();
  ExpectRefused(bytes, "IPv6 payload length");
}

TEST(FrameLayout, ShortIpv6ExtensionHeader) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {{}};
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  WriteBe16(bytes, 14 + 4, 7);  // less than the extension header's 8
  ExpectRefused(bytes, "short IPv6 extension header");
}

TEST(FrameLayout, Ipv6ExtensionHeaderLongerThanThePacket) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {{}};
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes[14 + 40 + 1] = 200;  // 1608 bytes, past the end
  ExpectRefused(bytes, "short TCP header");
}

TEST(FrameLayout, Ipv6Fragment) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {{testing_support::kIpv6Fragment}};
  ExpectRefused(BuildFrame(spec).bytes, "IPv6 fragment");
  spec.ipv6_extension_headers = {{testing_support::kIpv6HopByHop},
                                 {testing_support::kIpv6Fragment}};
  ExpectRefused(BuildFrame(spec).bytes, "IPv6 fragment");
}

TEST(FrameLayout, UnknownIpv6ExtensionHeader) {
  FrameSpec spec = Ipv6Spec();
  spec.ipv6_extension_headers = {{51}};  // AH
  ExpectRefused(BuildFrame(spec).bytes, "not TCP or UDP");
}

TEST(FrameLayout, NeitherTcpNorUdp) {
  FrameSpec spec;
  spec.l4_protocol = 1;  // ICMP
  spec.payload = PatternPayload(30);
  ExpectRefused(BuildFrame(spec).bytes, "not TCP or UDP");
  spec.ip_version = 6;
  spec.l4_protocol = 58;  // ICMPv6
  ExpectRefused(BuildFrame(spec).bytes, "not TCP or UDP");
}

TEST(FrameLayout, ShortTcpHeader) {
  std::vector<uint8_t> bytes = BuildFrame(Ipv6Spec()).bytes;
  bytes.resize(bytes.size() - 1);
  WriteBe16(bytes, 14 + 4, 19);
  ExpectRefused(bytes, "short TCP header");
}

TEST(FrameLayout, TcpDataOffsetBelowFive) {
  std::vector<uint8_t> bytes = BuildFrame(FrameSpec{}).bytes;
  bytes[34 + 12] = 0x40;
  ExpectRefused(bytes, "TCP data offset < 5");
}

TEST(FrameLayout, ShortTcpOptions) {
  FrameSpec spec;
  spec.payload = PatternPayload(4);
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes[34 + 12] = 0xf0;  // 60-byte header in a 24-byte segment
  ExpectRefused(bytes, "short TCP options");
}

TEST(FrameLayout, ShortUdpHeader) {
  FrameSpec spec;
  spec.l4_protocol = kIpProtocolUdp;
  std::vector<uint8_t> bytes = BuildFrame(spec).bytes;
  bytes.pop_back();
  WriteBe16(bytes, 14 + 2, 20 + 7);
  ExpectRefused(bytes, "short UDP header");
}

}  // namespace
}  // namespace etherip
