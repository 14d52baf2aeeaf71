#include "offload/coalescer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>

#include "offload/checksum.h"
#include "offload/frame_layout.h"

namespace etherip {
namespace {

// Flows with an open group at once, TCP and UDP in one table (a batch
// rarely carries more bulk flows of both kinds together than this). A flow
// beyond it closes the oldest group (nothing is lost but some merging),
// and the linear scan stays cheaper than hashing.
constexpr size_t kMaxOpenGroups = 8;

// The merged IP packet, IPv4 or IPv6, stays within what Linux GRO builds
// (an skb of less than 64 KiB from the IP header on), so the IPv4 total
// length and the IPv6 payload length both fit their 16-bit fields.
constexpr size_t kMaxIpPacket = 65535;

constexpr size_t kIpv4HeaderSize = 20;
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kTcpHeaderSize = 20;
constexpr uint16_t kTcpChecksumOffset = 16;
constexpr size_t kUdpLengthOffset = 4;
constexpr uint16_t kUdpChecksumOffset = 6;

// Datagrams in one UDP group at most, as Linux's UDP GRO keeps it
// (UDP_GRO_CNT_MAX): a flood of small datagrams would otherwise make
// groups of hundreds, and the stack above (which cuts a group up again for
// a socket without UDP_GRO) should see no more than Linux's own GRO gives.
constexpr size_t kMaxUdpGroupSegments = 64;

constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;

// A TCP or UDP frame's headers, as far as the coalescer looks at them.
struct Segment {
  PacketBuffer* buffer = nullptr;
  FrameLayout layout;
  // IPv4 without options or IPv6 without extension headers: the only
  // shapes that merge.
  bool simple = false;
  bool udp = false;
  uint8_t flags = 0;              // TCP
  uint32_t seq = 0;               // TCP
  uint16_t udp_checksum = 0;      // UDP: the field as it came
  bool udp_length_agrees = true;  // UDP: its length field is the IP's
  size_t payload = 0;

  const uint8_t* bytes() const { return buffer->data().data(); }
  size_t ip_length() const { return layout.ip_end - layout.l3_offset; }
  // Mergeable at all, as a group's first segment or a later one.
  // TCP: only ACK, perhaps PSH. No SYN/FIN/RST/URG; no ECE or CWR either:
  // the merged frame's header leaves the ECN bit clear, and a CWR belongs
  // to one segment (Linux GRO closes a group at CWR too).
  // UDP: a checksum (0 means none for IPv4 and is invalid for IPv6: such a
  // datagram is left to the kernel, as Linux UDP GRO leaves it; a merged
  // frame could not say "no checksum" for some of its datagrams), and a
  // UDP length that says what the IP length says (no trailing bytes to
  // lose, as Linux refuses "padded or malicious" datagrams).
  bool mergeable() const {
    if (!simple || payload == 0) return false;
    if (udp) return udp_checksum != 0 && udp_length_agrees;
    return (flags & ~kTcpPsh) == kTcpAck;
  }
  // Whether it may start a group (it is mergeable): a TCP segment with PSH
  // would be a group of one, not worth a slot.
  bool may_open() const {
    return mergeable() && (udp || (flags & kTcpPsh) == 0);
  }
};

// Rejects without allocating (ParseFrameLayout's error path formats a
// message) what cannot merge for its protocol: other EtherTypes, IP
// protocols other than TCP (and UDP when `udp`), IPv4 fragments. What
// passes is TCP (or UDP) unless malformed, or IPv6 with extension headers,
// whose upper protocol only the parser finds.
bool MayMerge(std::span<const uint8_t> frame, bool udp) {
  size_t at = 12;
  for (size_t tags = 0;; ++tags) {
    if (frame.size() < at + 2) return false;
    const uint16_t type = LoadBe16(&frame[at]);
    if (type == kEtherTypeIpv4) {
      const size_t l3 = at + 2;
      if (frame.size() < l3 + kIpv4HeaderSize) return false;
      const uint8_t protocol = frame[l3 + 9];
      return (protocol == kIpProtocolTcp ||
              (udp && protocol == kIpProtocolUdp)) &&
             (LoadBe16(&frame[l3 + 6]) & 0x3fff) == 0;
    }
    if (type == kEtherTypeIpv6) {
      const size_t l3 = at + 2;
      if (frame.size() < l3 + kIpv6HeaderSize) return false;
      const uint8_t next = frame[l3 + 6];
      // Hop-by-hop, routing, destination options: the parser walks them.
      return next == kIpProtocolTcp || (udp && next == kIpProtocolUdp) ||
             next == 0 || next == 43 || next == 60;
    }
    if ((type != kEtherTypeVlan && type != kEtherTypeQinQ) ||
        tags == kMaxVlanTags) {
      return false;
    }
    at += kVlanTagSize;
  }
}

std::optional<Segment> ParseSegment(PacketBuffer* buffer, bool udp) {
  const std::span<const uint8_t> frame = buffer->data();
  if (!MayMerge(frame, udp)) return std::nullopt;
  auto layout = ParseFrameLayout(frame);
  if (!layout) return std::nullopt;
  Segment s;
  s.udp = layout->l4_protocol == kIpProtocolUdp;
  if (s.udp && !udp) return std::nullopt;
  s.buffer = buffer;
  s.layout = *layout;
  const size_t l3 = layout->l3_offset;
  const size_t l4 = layout->l4_offset;
  s.simple =
      l4 == l3 + (layout->ip_version == 4 ? kIpv4HeaderSize : kIpv6HeaderSize);
  if (s.udp) {
    s.udp_checksum = LoadBe16(&frame[l4 + kUdpChecksumOffset]);
    s.udp_length_agrees =
        LoadBe16(&frame[l4 + kUdpLengthOffset]) == layout->ip_end - l4;
  } else {
    s.flags = frame[l4 + 13];
    s.seq = LoadBe32(&frame[l4 + 4]);
  }
  s.payload = layout->ip_end - layout->header_length;
  return s;
}

// The IP source and destination addresses, back to back, of `frame`.
std::span<const uint8_t> Addresses(const uint8_t* frame,
                                   const FrameLayout& layout) {
  return layout.ip_version == 4
             ? std::span<const uint8_t>(frame + layout.l3_offset + 12, 8)
             : std::span<const uint8_t>(frame + layout.l3_offset + 8, 32);
}

// The IPv4 header checksum (IPv4 only) and the TCP or UDP checksum verify
// (a UDP checksum of 0, none, is not asked about: it never merges).
bool ChecksumsVerify(const uint8_t* frame, const FrameLayout& layout) {
  const size_t l3 = layout.l3_offset;
  const size_t l4 = layout.l4_offset;
  if (layout.ip_version == 4 &&
      ChecksumFold(ChecksumAdd(0, {frame + l3, l4 - l3})) != 0xffff) {
    return false;
  }
  const auto addresses = Addresses(frame, layout);
  const size_t half = addresses.size() / 2;
  const size_t l4_length = layout.ip_end - l4;
  ChecksumAccumulator sum =
      PseudoHeaderSum(addresses.first(half), addresses.subspan(half),
                      layout.l4_protocol, static_cast<uint32_t>(l4_length));
  sum = ChecksumAdd(sum, {frame + l4, l4_length});
  return ChecksumFold(sum) == 0xffff;
}

enum class IdMode : uint8_t { kUnknown, kIncrementing, kFixed };

enum class Outcome : uint8_t {
  kMerged,        // appended; the group stays open
  kMergedClosed,  // appended as the group's last segment
  kRefused,       // the group closes; the segment may start a new one
  kCorrupt,       // the group closes; the segment passes through as it is
};

// An open group: its first frame (the head), which the merged payloads are
// appended to, and what the next segment must match.
struct Group {
  PacketBuffer* head = nullptr;
  size_t out_index = 0;  // the head's entry in `out`
  FrameLayout layout;    // the head's, as it arrived
  size_t gso_size = 0;   // the head's payload
  size_t ip_length = 0;  // of the head with what was appended
  uint32_t next_seq = 0;
  uint16_t last_id = 0;  // IPv4 identification of the last merged segment
  IdMode id_mode = IdMode::kUnknown;
  size_t merged = 0;      // segments appended (the group has one more)
  bool verified = false;  // the head's checksums, checked on first merge
  bool last_psh = false;

  const uint8_t* bytes() const { return head->data().data(); }

  bool udp() const { return layout.l4_protocol == kIpProtocolUdp; }

  // Same L2 header (MACs, VLAN tags, EtherType), IP addresses, L4 protocol
  // and ports.
  bool SameFlow(const Segment& s) const {
    if (s.layout.l3_offset != layout.l3_offset ||
        s.layout.ip_version != layout.ip_version ||
        s.layout.l4_protocol != layout.l4_protocol) {
      return false;
    }
    const uint8_t* h = bytes();
    const uint8_t* f = s.bytes();
    return std::memcmp(h + layout.l4_offset, f + s.layout.l4_offset, 4) == 0 &&
           std::memcmp(h, f, layout.l3_offset) == 0 &&
           std::ranges::equal(Addresses(h, layout), Addresses(f, s.layout));
  }

  Outcome TryMerge(const Segment& s);
  void Close(std::span<CoalescedFrame> out);
};

Outcome Group::TryMerge(const Segment& s) {
  // (A UDP group that reached kMaxUdpGroupSegments was closed by the merge
  // that filled it.)
  if (!s.mergeable() || s.layout.header_length != layout.header_length ||
      (!s.udp && s.seq != next_seq) || s.payload > gso_size ||
      ip_length + s.payload > kMaxIpPacket) {
    return Outcome::kRefused;
  }
  // The tail room the head has once its Ethernet padding is cut off.
  const size_t end = layout.l3_offset + ip_length;
  if (head->tailroom() + (head->size() - end) < s.payload) {
    return Outcome::kRefused;
  }
  const uint8_t* h = bytes();
  const uint8_t* f = s.bytes();
  const size_t l3 = layout.l3_offset;
  const size_t l4 = layout.l4_offset;
  uint16_t id = 0;
  IdMode id_mode_after = id_mode;
  if (layout.ip_version == 4) {
    // TOS, flags (DF) and fragment offset (zero), TTL.
    if (h[l3 + 1] != f[l3 + 1] || h[l3 + 6] != f[l3 + 6] ||
        h[l3 + 7] != f[l3 + 7] || h[l3 + 8] != f[l3 + 8]) {
      return Outcome::kRefused;
    }
    // Incrementing identifications, as any sender; equal ones only with
    // DF, where the identification means nothing (RFC 6864).
    id = LoadBe16(f + l3 + 4);
    const uint16_t head_id = LoadBe16(h + l3 + 4);
    const bool incrementing = id == static_cast<uint16_t>(last_id + 1);
    const bool fixed = id == head_id && (h[l3 + 6] & 0x40) != 0;
    switch (id_mode) {
      case IdMode::kUnknown:
        if (incrementing) {
          id_mode_after = IdMode::kIncrementing;
        } else if (fixed) {
          id_mode_after = IdMode::kFixed;
        } else {
          return Outcome::kRefused;
        }
        break;
      case IdMode::kIncrementing:
        if (!incrementing) return Outcome::kRefused;
        break;
      case IdMode::kFixed:
        if (!fixed) return Outcome::kRefused;
        break;
    }
  } else {
    // Version, traffic class, flow label; hop limit.
    if (std::memcmp(h + l3, f + l3, 4) != 0 || h[l3 + 7] != f[l3 + 7]) {
      return Outcome::kRefused;
    }
  }
  // TCP: acknowledgement and data offset (with the reserved bits), window,
  // urgent pointer (meaningless without URG, but kept so that merging
  // loses nothing), options. UDP has nothing more than its ports (SameFlow)
  // and its length and checksum, which are per datagram.
  if (!s.udp &&
      (std::memcmp(h + l4 + 8, f + l4 + 8, 5) != 0 ||
       std::memcmp(h + l4 + 14, f + l4 + 14, 2) != 0 ||
       std::memcmp(h + l4 + 18, f + l4 + 18, 2) != 0 ||
       std::memcmp(h + l4 + kTcpHeaderSize, f + l4 + kTcpHeaderSize,
                   layout.header_length - l4 - kTcpHeaderSize) != 0)) {
    return Outcome::kRefused;
  }
  // Checksums last: they read every byte. The head's are checked only now
  // that something would merge into it (before its headers change).
  if (!verified) {
    if (!ChecksumsVerify(h, layout)) return Outcome::kRefused;
    verified = true;
  }
  if (!ChecksumsVerify(f, s.layout)) return Outcome::kCorrupt;

  if (merged == 0) head->Narrow(head->data().first(end));
  auto room = head->Append(s.payload);
  std::memcpy(room.data(), f + s.layout.header_length, s.payload);
  ip_length += s.payload;
  next_seq += static_cast<uint32_t>(s.payload);
  last_id = id;
  id_mode = id_mode_after;
  ++merged;
  if (s.udp) {
    return s.payload < gso_size || merged + 1 == kMaxUdpGroupSegments
               ? Outcome::kMergedClosed
               : Outcome::kMerged;
  }
  last_psh = (s.flags & kTcpPsh) != 0;
  return last_psh || s.payload < gso_size ? Outcome::kMergedClosed
                                          : Outcome::kMerged;
}

// Fixes the head's headers and writes its virtio-net header; a group that
// merged nothing stays as it came, with the zero header already in `out`.
void Group::Close(std::span<CoalescedFrame> out) {
  if (merged == 0) return;
  uint8_t* p = head->data().data();
  const size_t l3 = layout.l3_offset;
  const size_t l4 = layout.l4_offset;
  const bool is_udp = udp();
  const size_t l4_length = l3 + ip_length - l4;
  VirtioNetHeader header;
  header.flags = VirtioNetHeader::kNeedsChecksum;
  if (layout.ip_version == 4) {
    StoreBe16(p + l3 + 2, static_cast<uint16_t>(ip_length));
    StoreBe16(p + l3 + 10, 0);
    StoreBe16(p + l3 + 10,
              ChecksumFinish(ChecksumAdd(0, {p + l3, kIpv4HeaderSize})));
    header.gso_type = VirtioNetHeader::kGsoTcpV4;
  } else {
    StoreBe16(p + l3 + 4, static_cast<uint16_t>(ip_length - kIpv6HeaderSize));
    header.gso_type = VirtioNetHeader::kGsoTcpV6;
  }
  uint16_t checksum_offset = kTcpChecksumOffset;
  if (is_udp) {
    // USO names no IP version. The UDP length covers the whole merged
    // payload: the segmenter (here or in the kernel) derives each
    // datagram's length and checksum from it.
    header.gso_type = VirtioNetHeader::kGsoUdpL4;
    StoreBe16(p + l4 + kUdpLengthOffset, static_cast<uint16_t>(l4_length));
    checksum_offset = kUdpChecksumOffset;
  } else if (last_psh) {
    p[l4 + 13] |= kTcpPsh;
  }
  // NEEDS_CSUM: the field holds the folded pseudo-header sum, not
  // complemented; whoever completes the checksum adds the rest.
  const auto addresses = Addresses(p, layout);
  const size_t half = addresses.size() / 2;
  StoreBe16(p + l4 + checksum_offset,
            ChecksumFold(PseudoHeaderSum(
                addresses.first(half), addresses.subspan(half),
                layout.l4_protocol, static_cast<uint32_t>(l4_length))));
  header.header_length = static_cast<uint16_t>(layout.header_length);
  header.gso_size = static_cast<uint16_t>(gso_size);
  header.checksum_start = static_cast<uint16_t>(l4);
  header.checksum_offset = checksum_offset;
  out[out_index].header = header;
}

// The open groups, at most kMaxOpenGroups, in no particular order.
class OpenGroups {
 public:
  explicit OpenGroups(std::span<CoalescedFrame> out) : out_(out) {}

  Group* Find(const Segment& s) {
    for (size_t i = 0; i < count_; ++i) {
      if (groups_[i].SameFlow(s)) return &groups_[i];
    }
    return nullptr;
  }

  // Starts a group with `s` as its head, written at out[out_index]; closes
  // the oldest group when all slots are taken.
  void Open(const Segment& s, size_t out_index) {
    if (count_ == kMaxOpenGroups) {
      Group* oldest = &groups_[0];
      for (size_t i = 1; i < count_; ++i) {
        if (groups_[i].out_index < oldest->out_index) oldest = &groups_[i];
      }
      CloseAndRemove(oldest);
    }
    Group& g = groups_[count_++];
    g = Group{};
    g.head = s.buffer;
    g.out_index = out_index;
    g.layout = s.layout;
    g.gso_size = s.payload;
    g.ip_length = s.ip_length();
    g.next_seq = s.seq + static_cast<uint32_t>(s.payload);  // TCP only
    if (s.layout.ip_version == 4) {
      g.last_id = LoadBe16(s.bytes() + s.layout.l3_offset + 4);
    }
  }

  void CloseAndRemove(Group* g) {
    g->Close(out_);
    *g = groups_[--count_];
  }

  void CloseAll() {
    while (count_ > 0) CloseAndRemove(&groups_[count_ - 1]);
  }

 private:
  std::span<CoalescedFrame> out_;
  std::array<Group, kMaxOpenGroups> groups_;
  size_t count_ = 0;
};

}  // namespace

size_t CoalesceTcp(std::span<PacketBuffer* const> frames,
                   std::span<CoalescedFrame> out, CoalesceOptions options) {
  assert(out.size() >= frames.size());
  OpenGroups groups(out);
  size_t written = 0;
  for (PacketBuffer* buffer : frames) {
    if (written == out.size()) break;  // contract broken; stay in bounds
    const std::optional<Segment> s = ParseSegment(buffer, options.udp);
    if (s) {
      if (Group* g = groups.Find(*s)) {
        switch (g->TryMerge(*s)) {
          case Outcome::kMerged:
            continue;
          case Outcome::kMergedClosed:
            groups.CloseAndRemove(g);
            continue;
          case Outcome::kRefused:
            groups.CloseAndRemove(g);
            break;
          case Outcome::kCorrupt:
            groups.CloseAndRemove(g);
            out[written++] = {buffer, {}};
            continue;
        }
      }
      if (s->may_open()) groups.Open(*s, written);
    }
    out[written++] = {buffer, {}};
  }
  groups.CloseAll();
  return written;
}

}  // namespace etherip
