// Fuzzes receive coalescing with batches of TCP segments built from the
// input (so that many of them do merge): each 8-byte record picks a flow,
// an IP version, VLAN tagging, TCP flags, how the sequence number and IPv4
// identification move on, a payload size, and maybe one corrupted byte.
// Invariant: cutting every merged frame back with the segmenter, and
// taking the other frames as they are, gives back exactly the input
// frames, in order within each flow, checksum fields and IPv4
// identifications aside (the segmenter rewrites those: equal IDs come back
// incrementing, a checksum of 0xffff comes back as 0x0000).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "core/packet_buffer.h"
#include "fuzz_check.h"
#include "offload/checksum.h"
#include "offload/coalescer.h"
#include "offload/frame_layout.h"
#include "offload/segmenter.h"

namespace {

using namespace etherip;
using fuzz::Check;
using Frame = std::vector<uint8_t>;

struct Flow {
  uint32_t seq = 1000;
  uint16_t id = 1;
};

Frame BuildSegment(const uint8_t* r, std::array<Flow, 4>& flows) {
  const size_t flow_index = r[0] & 3;
  const bool ipv6 = r[0] & 4;
  const bool vlan = r[0] & 8;
  Flow& flow = flows[flow_index];
  const size_t payload = size_t{r[3]} * 8 % 1500;
  Frame frame(14);
  frame[5] = 2;
  frame[11] = static_cast<uint8_t>(1 + flow_index % 2);  // MACs: 2 flows
  size_t at = 12;
  if (vlan) {
    frame.insert(frame.end(), 4, 0);
    StoreBe16(&frame[at], kEtherTypeVlan);
    StoreBe16(&frame[at + 2], 100);
    at += 4;
  }
  StoreBe16(&frame[at], ipv6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
  const size_t l3 = frame.size();
  const size_t ip_header = ipv6 ? 40 : 20;
  frame.resize(l3 + ip_header + 20 + payload);
  uint8_t* ip = &frame[l3];
  if (ipv6) {
    ip[0] = 0x60;
    StoreBe16(ip + 4, static_cast<uint16_t>(20 + payload));
    ip[6] = kIpProtocolTcp;
    ip[7] = 64;
    ip[8] = 0x20;
    ip[23] = 1;
    ip[24] = 0x20;
    ip[39] = static_cast<uint8_t>(2 + flow_index);
  } else {
    ip[0] = 0x45;
    StoreBe16(ip + 2, static_cast<uint16_t>(20 + 20 + payload));
    StoreBe16(ip + 4, flow.id);
    ip[6] = (r[4] & 1) ? 0x40 : 0;  // DF
    ip[8] = 64;
    ip[9] = kIpProtocolTcp;
    ip[12] = 192;
    ip[15] = 1;
    ip[16] = 198;
    ip[19] = static_cast<uint8_t>(2 + flow_index);
    StoreBe16(ip + 10, ChecksumFinish(ChecksumAdd(0, {ip, 20})));
  }
  uint8_t* tcp = ip + ip_header;
  StoreBe16(tcp, 40000);
  StoreBe16(tcp + 2, static_cast<uint16_t>(5001 + flow_index));
  StoreBe32(tcp + 4, flow.seq);
  StoreBe32(tcp + 8, 77);
  tcp[12] = 0x50;
  // Mostly ACK, sometimes PSH or another flag.
  static constexpr uint8_t kFlags[] = {0x10, 0x10, 0x10, 0x18,
                                       0x11, 0x12, 0x14, 0x30};
  tcp[13] = kFlags[r[1] & 7];
  StoreBe16(tcp + 14, 1000);
  for (size_t i = 0; i < payload; ++i)
    tcp[20 + i] = static_cast<uint8_t>(r[5] + i);
  const auto source = ipv6 ? std::span<const uint8_t>(ip + 8, 16)
                           : std::span<const uint8_t>(ip + 12, 4);
  const auto destination = ipv6 ? std::span<const uint8_t>(ip + 24, 16)
                                : std::span<const uint8_t>(ip + 16, 4);
  const uint32_t l4_length = static_cast<uint32_t>(20 + payload);
  StoreBe16(tcp + 16,
            ChecksumFinish(ChecksumAdd(
                PseudoHeaderSum(source, destination, kIpProtocolTcp, l4_length),
                {tcp, l4_length})));
  // How the flow moves on: in order (mostly), a gap, or a repeat.
  const uint8_t step = r[2] & 7;
  if (step < 6) {
    flow.seq += static_cast<uint32_t>(payload);
  } else if (step == 6) {
    flow.seq += 1;
  }
  flow.id = static_cast<uint16_t>(flow.id + ((r[4] & 2) ? 0 : 1));
  if (r[6] & 0x80) {  // corrupt one byte
    frame[r[7] % frame.size()] ^= static_cast<uint8_t>(1 + (r[6] & 0x7f));
  }
  return frame;
}

// The frame as it is compared: up to the IP packet's end, without the
// IPv4 identification, IPv4 header checksum and TCP checksum.
Frame Normalized(std::span<const uint8_t> frame) {
  Frame copy(frame.begin(), frame.end());
  auto layout = ParseFrameLayout(copy);
  if (!layout || layout->l4_protocol != kIpProtocolTcp) return copy;
  copy.resize(layout->ip_end);
  if (layout->ip_version == 4) {
    StoreBe16(&copy[layout->l3_offset + 4], 0);
    StoreBe16(&copy[layout->l3_offset + 10], 0);
  }
  StoreBe16(&copy[layout->l4_offset + 16], 0);
  return copy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kRecord = 8;
  const size_t count = std::min<size_t>(size / kRecord, 64);
  std::array<Flow, 4> flows;
  std::vector<Frame> inputs;
  for (size_t i = 0; i < count; ++i)
    inputs.push_back(BuildSegment(data + i * kRecord, flows));

  static std::vector<PacketBuffer> buffers(64);
  std::vector<PacketBuffer*> frames;
  for (size_t i = 0; i < count; ++i) {
    auto room = buffers[i].ResetForRead();
    std::copy(inputs[i].begin(), inputs[i].end(), room.begin());
    buffers[i].Commit(inputs[i].size());
    frames.push_back(&buffers[i]);
  }
  std::vector<CoalescedFrame> out(count);
  const size_t n = CoalesceTcp(frames, out);
  Check(n <= count);

  std::vector<Frame> regenerated;
  std::vector<uint8_t> segment(PacketBuffer::kMaxData);
  for (size_t i = 0; i < n; ++i) {
    const auto bytes = std::as_const(*out[i].buffer).data();
    if (!out[i].header.is_gso()) {
      regenerated.emplace_back(bytes.begin(), bytes.end());
      continue;
    }
    auto plan = PlanSegments(out[i].header, bytes, PacketBuffer::kMaxData);
    Check(plan.has_value());
    Check(plan->count >= 2);
    for (size_t s = 0; s < plan->count; ++s) {
      const size_t length = WriteSegment(*plan, bytes, s, segment);
      regenerated.emplace_back(segment.begin(), segment.begin() + length);
    }
  }
  // Every input comes back exactly once; within a flow (same normalized
  // headers up to the ports) in the same order. Compare as multisets, and
  // order by checking that each input's position among equal-flow frames
  // is kept: simplest, the sorted lists agree and the per-flow sequences
  // agree.
  Check(regenerated.size() == count);
  std::map<Frame, std::vector<Frame>> by_flow_in, by_flow_out;
  auto flow_key = [](const Frame& frame) {
    auto layout = ParseFrameLayout(frame);
    if (!layout || layout->l4_protocol != kIpProtocolTcp) return frame;
    Frame key(frame.begin(), frame.begin() + layout->l3_offset);
    const auto addresses =
        layout->ip_version == 4
            ? std::span(frame).subspan(layout->l3_offset + 12, 8)
            : std::span(frame).subspan(layout->l3_offset + 8, 32);
    key.insert(key.end(), addresses.begin(), addresses.end());
    key.insert(key.end(), frame.begin() + layout->l4_offset,
               frame.begin() + layout->l4_offset + 4);
    return key;
  };
  for (const Frame& frame : inputs)
    by_flow_in[flow_key(frame)].push_back(Normalized(frame));
  for (const Frame& frame : regenerated)
    by_flow_out[flow_key(frame)].push_back(Normalized(frame));
  Check(by_flow_in == by_flow_out);
  return 0;
}
