// An in-memory IP underlay: sockets attach with the addresses they own and
// the network carries outer packets between them, building the outer IP
// header as the kernel would. Lets whole hosts talk in a unit test.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/ip_address.h"
#include "io/outer_socket.h"

namespace etherip {

class MemoryNetwork;

class MemorySocket : public OuterSocket {
 public:
  MemorySocket(MemoryNetwork& network, Family family)
      : network_(network), family_(family) {}
  ~MemorySocket() override;

  Family family() const override { return family_; }
  Result<size_t> Receive(std::span<PacketBuffer> buffers,
                         std::span<InboundAddresses> addresses) override;
  SendResult Send(std::span<const OutboundPacket> packets) override;

  uint64_t TakeQueueDrops() override { return std::exchange(queue_drops_, 0); }

  // Queues a whole outer IP packet as if it arrived from the wire; with
  // `limit` packets already queued it is dropped and counted, as a full
  // kernel receive queue does.
  void Arrive(std::vector<uint8_t> packet,
              size_t limit = std::numeric_limits<size_t>::max()) {
    if (inbox_.size() >= limit) {
      ++queue_drops_;
      return;
    }
    inbox_.push_back(std::move(packet));
  }
  size_t pending() const { return inbox_.size(); }

  // The outer fields of every packet sent, in order (the fwmark, which no
  // header shows, included).
  const std::vector<OuterFields>& sent_fields() const { return sent_fields_; }
  // Packets with `df` larger than this fail with EMSGSIZE, as a kernel
  // refuses them over the path MTU. Unlimited by default.
  void set_path_mtu(size_t mtu) { path_mtu_ = mtu; }

 private:
  MemoryNetwork& network_;
  Family family_;
  std::vector<OuterFields> sent_fields_;
  size_t path_mtu_ = std::numeric_limits<size_t>::max();
  std::deque<std::vector<uint8_t>> inbox_;
  uint64_t queue_drops_ = 0;
};

class MemoryNetwork {
 public:
  // `socket` receives packets for `address` (of the socket's family).
  void Attach(const IpAddress& address, MemorySocket* socket);
  void Detach(MemorySocket* socket);
  // Carries a whole outer packet to the socket owning its destination;
  // false when no socket owns it. Every packet is also kept in `wire()`.
  bool Carry(std::vector<uint8_t> packet);
  const std::vector<std::vector<uint8_t>>& wire() const { return wire_; }
  // At most `limit` packets wait in each socket's queue; more are dropped
  // (and reported by TakeQueueDrops()). Unlimited by default.
  void set_queue_limit(size_t limit) { queue_limit_ = limit; }
  uint16_t NextIdentification() { return next_id_++; }

 private:
  using Key = std::array<uint8_t, 17>;  // family, then address bytes
  static Key KeyOf(const IpAddress& address);
  std::map<Key, MemorySocket*> owners_;
  std::vector<std::vector<uint8_t>> wire_;
  uint16_t next_id_ = 1;
  size_t queue_limit_ = std::numeric_limits<size_t>::max();
};

}  // namespace etherip
