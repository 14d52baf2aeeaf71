// Moves packets between devices and sockets through the core decisions.
// Owns its packet buffers (allocated once): one set for frames read from
// devices (they wait there while a socket has no room), one for packets
// read from sockets (they are written to devices from there). One
// Forwarder per forwarding thread.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "core/counters.h"
#include "core/packet_buffer.h"
#include "core/receive_decision.h"
#include "core/send_decision.h"
#include "engine/data_plane.h"

namespace etherip {

// Called for each receive drop, e.g. to log the reason (rate-limited).
class DropObserver {
 public:
  virtual ~DropObserver() = default;
  virtual void OnReceiveDrop(ReceiveDrop reason, const DataPlane& plane,
                             Endpoint where) = 0;
};

struct PumpResult {
  size_t packets = 0;          // read from the source
  bool source_failed = false;  // the source reported an error: stop polling
};

class Forwarder {
 public:
  static constexpr size_t kBatch = 64;

  explicit Forwarder(GlobalCounters& counters,
                     DropObserver* observer = nullptr);

  // Reads a batch of frames from interface `id`'s device and sends them
  // through its tunnel, in one Send. When the socket has no room (EAGAIN)
  // the unsent rest is held and blocked() tells where: nothing more is read
  // from any device (PumpDevice reads nothing) until ResumeSend() has sent
  // it. Other send errors count oerrors, one packet each.
  PumpResult PumpDevice(const DataPlane& plane, InterfaceId id);

  // The socket a held send waits for, if any.
  std::optional<Endpoint> blocked() const;
  // Sends what is held, through `plane` (the interface's tunnel as the
  // plane has it now; an interface that is gone drops it, one without a
  // tunnel counts oerrors). True when nothing is held any more.
  bool ResumeSend(const DataPlane& plane);
  // Forgets what is held (the data plane is being torn down).
  void DropHeld() { held_.reset(); }

  // Reads a batch of outer packets from the socket at `endpoint`, decides
  // them together and writes each device's frames in one WriteFrames, in
  // arrival order.
  PumpResult PumpSocket(const DataPlane& plane, Endpoint endpoint, bool allow);

  // Sends one EoIP keepalive (the tunnel's header, nothing after it) on
  // interface `id`'s tunnel when it is an EoIP tunnel that is up and its
  // socket is there. True when sent. A keepalive is not a frame: nothing
  // is counted, and one the socket has no room for (or refuses) is not
  // sent again; the next one comes at its time.
  bool SendKeepalive(const DataPlane& plane, InterfaceId id);

 private:
  // Sends outbound_[begin, end) through `entry`'s socket; holds the rest on
  // EAGAIN.
  void SendFrom(const DataPlane& plane, const ForwardingEntry& entry,
                size_t begin, size_t end);
  void DeliverGrouped(const DataPlane& plane, size_t deliveries);

  GlobalCounters& counters_;
  DropObserver* observer_;
  std::vector<PacketBuffer> device_buffers_;
  std::vector<PacketBuffer> socket_buffers_;
  std::array<InboundAddresses, kBatch> addresses_;
  std::array<OuterPacket, kBatch> outer_;
  std::array<ReceiveVerdict, kBatch> verdicts_;
  std::array<OutboundPacket, kBatch> outbound_;
  struct Delivery {
    InterfaceId interface;
    PacketBuffer* buffer;
  };
  std::array<Delivery, kBatch> deliveries_;
  std::array<PacketBuffer*, kBatch> writes_;
  // A send held for lack of room: outbound_[begin, end) of `interface`.
  // Ids are reused: `counters` tells the same interface from a new one with
  // its id (the snapshot that held it is alive while a new one is adopted).
  struct Held {
    InterfaceId interface;
    const InterfaceCounters* counters;
    Endpoint endpoint;
    size_t begin;
    size_t end;
  };
  std::optional<Held> held_;
};

}  // namespace etherip
