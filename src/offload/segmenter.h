// Software segmentation at layer 2 (the send side of the TAP offloads).
//
// With TSO/USO granted, the stack above an etherip interface hands over
// super-frames: one Ethernet header (and VLAN tags), one IP header, one
// TCP (or UDP) header and up to 64 KiB of payload, described by a virtio-net
// header. Peers expect standard frames, so each super-frame is cut into
// segments that are each a frame the stack could have sent itself: IP
// lengths, IPv4 identification (+1 per segment) and header checksum, TCP
// sequence numbers, flags (CWR on the first segment only, FIN and PSH on the
// last only) and checksums, or a UDP length and checksum per datagram.
// Frames that are not super-frames but ask for checksum completion
// (NEEDS_CSUM) get their checksum completed in place.
//
// Segmentation is resumable: WriteSegment(i) needs only the plan, so a
// reader that runs out of buffers continues where it stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/error.h"
#include "core/packet_buffer.h"
#include "offload/frame_layout.h"
#include "offload/virtio_net_header.h"

namespace etherip {

struct SegmentPlan {
  FrameLayout layout;
  uint8_t gso_kind = VirtioNetHeader::kGsoNone;
  bool ecn = false;          // VirtioNetHeader::kGsoEcn
  size_t payload_size = 0;   // L4 payload bytes in every segment but the last
  size_t total_payload = 0;  // L4 payload bytes of the super-frame
  size_t count = 0;          // segments (>= 1)
  // The largest segment: layout.header_length + payload_size.
  size_t max_segment_size() const {
    return layout.header_length + payload_size;
  }
};

// Plans the segmentation of super-frame `frame` described by `header`
// (header.is_gso()). Each segment's frame is at most `max_frame_size`
// bytes (the interface MTU + 14 + 4 per VLAN tag the frame carries, as the
// caller computes it from the frame), whatever gso_size says. Fails with
// EINVAL for: a GSO type other than TCPv4, TCPv6 or UDP_L4, a type that
// does not match the frame's IP version and L4 protocol, a frame whose
// headers do not parse (ParseFrameLayout), checksum_start not at the L4
// header, gso_size 0, or a max_frame_size that leaves no room for payload.
// An IP length shorter than the frame (trailing bytes) is allowed: the
// payload ends where the IP packet ends.
Result<SegmentPlan> PlanSegments(const VirtioNetHeader& header,
                                 std::span<const uint8_t> frame,
                                 size_t max_frame_size);

// Writes segment `index` (< plan.count) of `frame` into `out`, which has at
// least plan.max_segment_size() bytes, and returns the segment's length.
size_t WriteSegment(const SegmentPlan& plan, std::span<const uint8_t> frame,
                    size_t index, std::span<uint8_t> out);

// The segments of one super-frame, handed out over as many reads as the
// reader's buffers need: what both TAP implementations keep between
// ReadFrames calls.
class SegmentCursor {
 public:
  // Plans `frame` for an interface of `mtu` (PlanSegments, capped at
  // MaxFrameSize). `frame` must stay unchanged until !active().
  Status Start(const VirtioNetHeader& header, std::span<const uint8_t> frame,
               size_t mtu);
  // Writes the next segments of `frame` into `buffers`, one each; how many.
  size_t Next(std::span<const uint8_t> frame, std::span<PacketBuffer> buffers);
  // Segments are left to hand out.
  bool active() const { return plan_.has_value(); }

 private:
  std::optional<SegmentPlan> plan_;
  size_t next_ = 0;
};

// For a frame that is not a super-frame: when header.flags has
// kNeedsChecksum, completes the checksum that covers checksum_start to the
// end of the frame and is stored at checksum_start + checksum_offset (the
// field holds the pseudo-header sum, as the kernel leaves it). Fails with
// EINVAL when those offsets do not fit the frame; does nothing otherwise.
Status CompleteChecksum(const VirtioNetHeader& header,
                        std::span<uint8_t> frame);

}  // namespace etherip
