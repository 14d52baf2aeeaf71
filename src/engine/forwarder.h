// Moves packets between devices and sockets through the core decisions.
// Owns its packet buffers (allocated once); one Forwarder per forwarding
// thread.
#pragma once

#include <array>
#include <cstddef>
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
  // through its tunnel.
  PumpResult PumpDevice(const DataPlane& plane, InterfaceId id);

  // Reads a batch of outer packets from the socket at `endpoint` and
  // delivers their frames.
  PumpResult PumpSocket(const DataPlane& plane, Endpoint endpoint, bool allow);

 private:
  void SendBatch(const DataPlane& plane, size_t count,
                 const SendVerdict& verdict);

  GlobalCounters& counters_;
  DropObserver* observer_;
  std::vector<PacketBuffer> buffers_;
  std::array<InboundAddresses, kBatch> addresses_;
  std::array<std::span<const uint8_t>, kBatch> inbound_;
  std::array<OuterPacket, kBatch> outer_;
  std::array<ReceiveVerdict, kBatch> verdicts_;
  std::array<OutboundPacket, kBatch> outbound_;
};

}  // namespace etherip
