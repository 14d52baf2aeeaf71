#include "engine/forwarder.h"

#include <cerrno>
#include <utility>

#include "core/etherip_header.h"

namespace etherip {

Forwarder::Forwarder(GlobalCounters& counters, DropObserver* observer)
    : counters_(counters), observer_(observer), buffers_(kBatch) {}

PumpResult Forwarder::PumpDevice(const DataPlane& plane, InterfaceId id) {
  PumpResult result;
  FrameDevice* device = plane.DeviceOf(id);
  if (device == nullptr) return result;
  auto read = device->ReadFrames(buffers_);
  if (!read) {
    result.source_failed = true;
    return result;
  }
  result.packets = *read;
  // All frames of one device go through one tunnel: one verdict serves the
  // batch, and they go out in one Send.
  size_t ready = 0;
  SendVerdict verdict;
  for (size_t i = 0; i < *read; ++i) {
    SendVerdict one = DecideSend(*plane.table, id, buffers_[i]);
    if (one.interface == nullptr) continue;
    verdict = one;
    outbound_[ready++] =
        OutboundPacket{buffers_[i].data(), one.interface->tunnel.source,
                       one.interface->tunnel.destination};
  }
  if (ready > 0) SendBatch(plane, ready, verdict);
  return result;
}

void Forwarder::SendBatch(const DataPlane& plane, size_t count,
                          const SendVerdict& verdict) {
  const ForwardingEntry& entry = *verdict.interface;
  OuterSocket* socket =
      plane.SocketOf({entry.tunnel.source.family(), entry.domain});
  const std::span<const OutboundPacket> packets(outbound_.data(), count);
  size_t done = 0;
  while (done < count) {
    SendResult sent{0, ENETUNREACH};
    if (socket != nullptr) sent = socket->Send(packets.subspan(done));
    for (size_t i = 0; i < sent.sent; ++i) {
      const size_t frame_size =
          packets[done + i].payload.size() - kEtherIpHeaderSize;
      CountSendResult({&entry, frame_size}, true, counters_);
    }
    done += sent.sent;
    if (done < count && sent.error != 0) {
      CountSendResult({&entry, 0}, false, counters_);
      ++done;
    } else if (sent.sent == 0) {
      // No progress and no error: count the rest as failed, never spin.
      for (; done < count; ++done)
        CountSendResult({&entry, 0}, false, counters_);
    }
  }
}

PumpResult Forwarder::PumpSocket(const DataPlane& plane, Endpoint endpoint,
                                 bool allow) {
  PumpResult result;
  OuterSocket* socket = plane.SocketOf(endpoint);
  if (socket == nullptr) return result;
  auto read = socket->Receive(buffers_, addresses_);
  if (!read) {
    result.source_failed = true;
    return result;
  }
  result.packets = *read;
  const size_t n = *read;
  // Decide the whole batch first (its table lookups overlap), then deliver.
  if (endpoint.family == Family::kIpv4) {
    for (size_t i = 0; i < n; ++i)
      inbound_[i] = std::as_const(buffers_[i]).data();
    DecideReceiveIpv4Batch(*plane.table, allow, endpoint.domain,
                           {inbound_.data(), n}, verdicts_, counters_);
  } else {
    for (size_t i = 0; i < n; ++i) {
      outer_[i] = OuterPacket{addresses_[i].source, addresses_[i].destination,
                              std::as_const(buffers_[i]).data()};
    }
    DecideReceiveBatch(*plane.table, allow, endpoint.domain, {outer_.data(), n},
                       verdicts_, counters_);
  }
  for (size_t i = 0; i < n; ++i) {
    const ReceiveVerdict& verdict = verdicts_[i];
    if (verdict.interface == nullptr) {
      if (observer_ != nullptr)
        observer_->OnReceiveDrop(verdict.drop, plane, endpoint);
      continue;
    }
    FrameDevice* device = plane.DeviceOf(verdict.interface->id);
    if (device == nullptr) continue;
    const std::span<const uint8_t> frame = verdict.frame;
    (void)device->WriteFrames({&frame, 1});
  }
  return result;
}

}  // namespace etherip
