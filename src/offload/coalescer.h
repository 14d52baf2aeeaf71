// Receive coalescing (software GRO) for one TAP: consecutive in-order TCP
// segments of one flow, and when asked consecutive UDP datagrams of one
// flow, among the frames a receive batch delivers to one interface, are
// merged into one super-frame written with a virtio-net header, so the
// stack above the interface handles one large packet instead of dozens.
//
// Nothing vouches for an EtherIP payload (unlike an authenticated tunnel),
// so a segment is merged only after its IPv4 header checksum and its TCP
// or UDP checksum verify; the merged frame is then marked NEEDS_CSUM (the
// kernel trusts it) with the pseudo-header sum in the L4 checksum field, as
// a local TSO/USO sender leaves it. A frame that is not merged is written
// as it came, with a zero header: the kernel checks it as usual.
//
// TCP segments merge when they have the same layer-2 header (MACs and VLAN
// tags), the same IP addresses and ports, IPv4 without options with equal
// TOS, TTL and DF, consecutive identification (or equal), IPv6 without
// extension headers with equal traffic class, flow label and hop limit,
// the same TCP options and acknowledgement and window, only ACK set (PSH
// allowed on the last merged segment), sequence numbers following on,
// every merged segment but the last carrying exactly the first segment's
// payload size, and a result within 64 KiB of IP packet.
//
// UDP datagrams (CoalesceOptions::udp) merge into a UDP_L4 (USO)
// super-frame under the same layer-2 and IP rules, as Linux's UDP GRO
// does without fraglists: same ports, a non-zero UDP checksum that
// verifies (a datagram without one passes through), a UDP length that
// matches the IP length, every datagram but the last of exactly the first
// one's (non-zero) payload size (a smaller one is merged and ends the
// group, a larger one starts a new group), at most 64 datagrams and 64 KiB
// of IP packet per group.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

#include "core/error.h"
#include "core/packet_buffer.h"
#include "offload/virtio_net_header.h"

namespace etherip {

struct CoalescedFrame {
  PacketBuffer* buffer = nullptr;  // data() is the whole Ethernet frame
  VirtioNetHeader header;          // all zero when not merged
};

struct CoalesceOptions {
  // Merge UDP datagrams too, into GSO_UDP_L4 super-frames. Only for a TAP
  // whose kernel granted USO (TUN_F_USO4/6, Linux 6.2+): older kernels
  // reject a UDP_L4 header written to a TAP.
  bool udp = false;
};

// Merges what can be merged among `frames` (each buffer's data() is one
// Ethernet frame; buffers must not repeat), in place: TCP segments, and
// UDP datagrams when options.udp. A merged group's first buffer gets the
// others' payloads appended (it has the tail room: PacketBuffer holds a
// 64 KiB IP packet) and its headers fixed (IP length, IPv4 header
// checksum, PSH from the last segment, UDP length). Writes one entry per
// frame to write into `out` (out.size() >= frames.size()) and returns how
// many. Within one flow the order is kept; a group is written where its
// first frame was. Does not allocate, throw or do I/O.
size_t CoalesceTcp(std::span<PacketBuffer* const> frames,
                   std::span<CoalescedFrame> out, CoalesceOptions options = {});

// CoalesceTcp over any number of frames, a batch at a time, calling
// write(frame, header) for each frame to write: the loop both TAP
// implementations write with. Stops at the first error write returns.
template <typename Write>
Status WriteCoalesced(std::span<PacketBuffer* const> frames,
                      CoalesceOptions options, Write&& write) {
  constexpr size_t kBatch = 64;
  std::array<CoalescedFrame, kBatch> merged;
  for (size_t done = 0; done < frames.size();) {
    const auto chunk =
        frames.subspan(done, std::min(kBatch, frames.size() - done));
    const size_t n = CoalesceTcp(chunk, merged, options);
    for (size_t i = 0; i < n; ++i) {
      if (Status written = write(*merged[i].buffer, merged[i].header);
          !written) {
        return written;
      }
    }
    done += chunk.size();
  }
  return {};
}

}  // namespace etherip
