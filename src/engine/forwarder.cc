#include "engine/forwarder.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/etherip_header.h"

namespace etherip {

Forwarder::Forwarder(GlobalCounters& counters, DropObserver* observer)
    : counters_(counters),
      observer_(observer),
      device_buffers_(kBatch),
      socket_buffers_(kBatch) {
  // Touched once, here: the pool's memory is then resident from the start,
  // as it will be under traffic anyway, instead of being faulted in page
  // by page as bigger batches and super-frames arrive (which scripts/soak
  // saw as RSS growing for minutes).
  for (auto* pool : {&device_buffers_, &socket_buffers_}) {
    for (PacketBuffer& buffer : *pool)
      std::ranges::fill(buffer.ResetForRead(), 0);
  }
}

PumpResult Forwarder::PumpDevice(const DataPlane& plane, InterfaceId id) {
  PumpResult result;
  FrameDevice* device = plane.DeviceOf(id);
  if (device == nullptr || held_) return result;
  auto read = device->ReadFrames(device_buffers_);
  if (!read) {
    result.source_failed = true;
    return result;
  }
  result.packets = *read;
  if (const size_t unsendable = device->TakeUnsendable(); unsendable > 0) {
    if (const ForwardingEntry* entry = plane.table.FindById(id)) {
      entry->counters->oerrors.Add(unsendable);
    }
  }
  // All frames of one device go through one tunnel: one entry serves the
  // batch, and they go out in one Send.
  size_t ready = 0;
  const ForwardingEntry* entry = nullptr;
  for (size_t i = 0; i < *read; ++i) {
    const SendVerdict verdict =
        DecideSend(plane.table, id, device_buffers_[i], counters_);
    if (verdict.interface == nullptr) continue;
    entry = verdict.interface;
    outbound_[ready++] = OutboundPacket{
        device_buffers_[i].data(), entry->tunnel.source,
        entry->tunnel.destination, entry->tunnel.scope, verdict.outer};
  }
  if (ready > 0) SendFrom(plane, *entry, 0, ready);
  return result;
}

void Forwarder::SendFrom(const DataPlane& plane, const ForwardingEntry& entry,
                         size_t begin, size_t end) {
  const Endpoint endpoint{entry.tunnel.source.family(), entry.domain};
  OuterSocket* socket = plane.SocketOf(endpoint);
  size_t done = begin;
  while (done < end) {
    SendResult sent{0, ENETUNREACH};
    if (socket != nullptr) {
      sent = socket->Send({outbound_.data() + done, end - done});
    }
    for (size_t i = 0; i < sent.sent; ++i) {
      const size_t frame_size =
          outbound_[done + i].payload.size() - kEtherIpHeaderSize;
      CountSendResult({&entry, frame_size, {}}, true, counters_);
    }
    done += sent.sent;
    if (done == end) break;
    if (sent.error == EAGAIN || sent.error == EWOULDBLOCK) {
      // No room: wait for the socket instead of dropping.
      held_ = Held{entry.id, entry.counters, endpoint, done, end};
      return;
    }
    // One packet failed (or no progress without an error): count it and go
    // on with the next, never spinning on the same one.
    CountSendResult({&entry, 0, {}}, false, counters_);
    ++done;
  }
  held_.reset();
}

std::optional<Endpoint> Forwarder::blocked() const {
  if (!held_) return std::nullopt;
  return held_->endpoint;
}

bool Forwarder::ResumeSend(const DataPlane& plane) {
  if (!held_) return true;
  const Held held = *held_;
  held_.reset();
  const ForwardingEntry* entry = plane.table.FindById(held.interface);
  // The interface is gone (or its id now names another one): drop.
  if (entry == nullptr || entry->counters != held.counters) return true;
  if (!entry->has_tunnel) {
    for (size_t i = held.begin; i < held.end; ++i)
      CountSendResult({entry, 0, {}}, false, counters_);
    return true;
  }
  // The tunnel and its outer header options may have changed while the
  // packets waited.
  for (size_t i = held.begin; i < held.end; ++i) {
    OutboundPacket& packet = outbound_[i];
    packet.source = entry->tunnel.source;
    packet.destination = entry->tunnel.destination;
    packet.scope = entry->tunnel.scope;
    packet.outer =
        OuterFieldsFor(*entry, packet.payload.subspan(kEtherIpHeaderSize));
  }
  SendFrom(plane, *entry, held.begin, held.end);
  return !held_.has_value();
}

PumpResult Forwarder::PumpSocket(const DataPlane& plane, Endpoint endpoint,
                                 bool allow) {
  PumpResult result;
  OuterSocket* socket = plane.SocketOf(endpoint);
  if (socket == nullptr) return result;
  auto read = socket->Receive(socket_buffers_, addresses_);
  if (!read) {
    result.source_failed = true;
    return result;
  }
  // Losses the socket learnt of with this batch: counted at once, whatever
  // the batch holds (SPEC 5: every packet that reached the host lands in
  // exactly one counter).
  counters_.qdrops.Add(socket->TakeQueueDrops());
  result.packets = *read;
  const size_t n = *read;
  // Decide the whole batch first (its table lookups overlap), then deliver.
  for (size_t i = 0; i < n; ++i) {
    outer_[i] = OuterPacket{addresses_[i].source, addresses_[i].destination,
                            std::as_const(socket_buffers_[i]).data(),
                            addresses_[i].ingress};
  }
  DecideReceiveBatch(plane.table, allow, endpoint.domain, {outer_.data(), n},
                     verdicts_, counters_);
  size_t deliveries = 0;
  for (size_t i = 0; i < n; ++i) {
    const ReceiveVerdict& verdict = verdicts_[i];
    if (verdict.interface == nullptr) {
      if (observer_ != nullptr && verdict.drop != ReceiveDrop::kKeepalive)
        observer_->OnReceiveDrop(verdict.drop, plane, endpoint);
      continue;
    }
    socket_buffers_[i].Narrow(verdict.frame);
    deliveries_[deliveries++] = {verdict.interface->id, &socket_buffers_[i]};
  }
  DeliverGrouped(plane, deliveries);
  return result;
}

bool Forwarder::SendKeepalive(const DataPlane& plane, InterfaceId id) {
  const ForwardingEntry* entry = plane.table.FindById(id);
  if (entry == nullptr || !entry->eoip || !entry->has_tunnel || !entry->up) {
    return false;
  }
  OuterSocket* socket =
      plane.SocketOf({entry->tunnel.source.family(), entry->domain});
  if (socket == nullptr) return false;  // its domain is gone
  std::array<uint8_t, kEtherIpHeaderSize> header;
  EncodeEoipHeader(header, *entry->eoip);
  // Through the tunnel's zone and with its outer header options, as its
  // frames (a keepalive has no frame to inherit a TOS from).
  const OutboundPacket packet{header, entry->tunnel.source,
                              entry->tunnel.destination, entry->tunnel.scope,
                              entry->outer};
  return socket->Send({&packet, 1}).sent == 1;
}

void Forwarder::DeliverGrouped(const DataPlane& plane, size_t deliveries) {
  // Group by interface, keeping arrival order within each (insertion sort:
  // at most one batch, usually one interface, and no allocation).
  for (size_t i = 1; i < deliveries; ++i) {
    const Delivery moving = deliveries_[i];
    size_t j = i;
    for (; j > 0 && deliveries_[j - 1].interface > moving.interface; --j)
      deliveries_[j] = deliveries_[j - 1];
    deliveries_[j] = moving;
  }
  size_t start = 0;
  while (start < deliveries) {
    const InterfaceId id = deliveries_[start].interface;
    size_t end = start;
    for (; end < deliveries && deliveries_[end].interface == id; ++end)
      writes_[end - start] = deliveries_[end].buffer;
    // A device that is gone reports it through its own fd (EPOLLERR); the
    // forwarding loop removes it.
    if (FrameDevice* device = plane.DeviceOf(id); device != nullptr)
      (void)device->WriteFrames({writes_.data(), end - start});
    start = end;
  }
}

}  // namespace etherip
