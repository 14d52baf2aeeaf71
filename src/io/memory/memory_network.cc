#include "io/memory/memory_network.h"

#include <algorithm>
#include <cerrno>

#include "core/outer_header.h"

namespace etherip {

MemorySocket::~MemorySocket() { network_.Detach(this); }

Result<size_t> MemorySocket::Receive(std::span<PacketBuffer> buffers,
                                     std::span<InboundAddresses> addresses) {
  size_t count = 0;
  while (count < buffers.size() && !inbox_.empty()) {
    std::vector<uint8_t> packet = std::move(inbox_.front());
    inbox_.pop_front();
    auto room = buffers[count].ResetForRead();
    const size_t n = std::min(packet.size(), room.size());
    std::copy_n(packet.begin(), n, room.begin());
    buffers[count].Commit(n);
    const InboundAddresses where = TakeOuterHeader(family_, buffers[count]);
    // Like a raw IPv6 socket: the kernel delivers only what parses. IPv4
    // packets reach the socket whole; one that does not parse is handed
    // over with unset addresses (a fake or future backend's adrops).
    if (family_ == Family::kIpv6 && where.source.family() == Family::kNone)
      continue;
    addresses[count] = where;
    ++count;
  }
  return count;
}

SendResult MemorySocket::Send(std::span<const OutboundPacket> packets) {
  SendResult result;
  for (const auto& packet : packets) {
    if (packet.source.family() != family_ ||
        packet.destination.family() != family_) {
      result.error = EAFNOSUPPORT;
      return result;
    }
    const size_t header =
        family_ == Family::kIpv4 ? kIpv4HeaderSize : kIpv6HeaderSize;
    if (packet.outer.df && header + packet.payload.size() > path_mtu_) {
      result.error = EMSGSIZE;
      return result;
    }
    std::vector<uint8_t> wire(header + packet.payload.size());
    if (family_ == Family::kIpv4) {
      BuildIpv4Header(std::span<uint8_t, kIpv4HeaderSize>(wire.data(), header),
                      packet.source, packet.destination, packet.payload.size(),
                      network_.NextIdentification(), packet.outer);
    } else {
      BuildIpv6Header(std::span<uint8_t, kIpv6HeaderSize>(wire.data(), header),
                      packet.source, packet.destination, packet.payload.size(),
                      packet.outer);
    }
    sent_fields_.push_back(packet.outer);
    std::copy(packet.payload.begin(), packet.payload.end(),
              wire.begin() + static_cast<ptrdiff_t>(header));
    // Like the kernel: a packet to an address nobody owns is sent and lost.
    network_.Carry(std::move(wire));
    ++result.sent;
  }
  return result;
}

MemoryNetwork::Key MemoryNetwork::KeyOf(const IpAddress& address) {
  Key key{};
  key[0] = static_cast<uint8_t>(address.family());
  auto bytes = address.bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin() + 1);
  return key;
}

void MemoryNetwork::Attach(const IpAddress& address, MemorySocket* socket) {
  owners_[KeyOf(address)] = socket;
}

void MemoryNetwork::Detach(MemorySocket* socket) {
  std::erase_if(owners_,
                [&](const auto& entry) { return entry.second == socket; });
}

bool MemoryNetwork::Carry(std::vector<uint8_t> packet) {
  wire_.push_back(packet);
  auto outer = ParseIpPacket(packet);
  if (!outer) return false;
  auto it = owners_.find(KeyOf(outer->destination));
  if (it == owners_.end()) return false;
  it->second->Arrive(std::move(packet), queue_limit_);
  return true;
}

}  // namespace etherip
