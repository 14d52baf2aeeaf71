// Shared helpers for the core tests: address and option shorthands, a fake
// domain catalog, deterministic MACs, packet builders, and comparable views
// of the tunnel table and the forwarding snapshot.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "core/etherip_header.h"
#include "core/forwarding_table.h"
#include "core/interface_options.h"
#include "core/ip_address.h"
#include "core/mac_address.h"
#include "core/outer_header.h"
#include "core/tunnel_table.h"

namespace etherip {

// gtest prints these on failure instead of raw bytes.
inline void PrintTo(const GlobalCounterValues& v, std::ostream* os) {
  *os << "{ipackets=" << v.ipackets << " ibytes=" << v.ibytes
      << " opackets=" << v.opackets << " obytes=" << v.obytes
      << " adrops=" << v.adrops << " pdrops=" << v.pdrops
      << " noifdrops=" << v.noifdrops << " idrops=" << v.idrops
      << " qdrops=" << v.qdrops << " keepalives=" << v.keepalives
      << " loopdrops=" << v.loopdrops << "}";
}
inline void PrintTo(const InterfaceCounterValues& v, std::ostream* os) {
  *os << "{ipackets=" << v.ipackets << " ibytes=" << v.ibytes
      << " opackets=" << v.opackets << " obytes=" << v.obytes
      << " oerrors=" << v.oerrors << " idrops=" << v.idrops
      << " keepalives=" << v.keepalives << " loopdrops=" << v.loopdrops << "}";
}
inline void PrintTo(const IpAddress& address, std::ostream* os) {
  *os << (address.family() == Family::kNone ? "<none>" : address.ToString());
}
inline void PrintTo(const MacAddress& mac, std::ostream* os) {
  *os << mac.ToString();
}
inline void PrintTo(const Tunnel& tunnel, std::ostream* os) {
  *os << tunnel.ToString();
  if (tunnel.scope != 0) *os << " scope " << tunnel.scope;
}
inline void PrintTo(const TunnelConfig& tunnel, std::ostream* os) {
  *os << tunnel.ToString();
}

namespace testing_support {

// An IP literal the test knows to be valid (throws, failing the test, if not).
inline IpAddress Ip(std::string_view text) {
  return IpAddress::Parse(text).value();
}

inline Tunnel MakeTunnel(std::string_view source,
                         std::string_view destination) {
  return Tunnel{Ip(source), Ip(destination)};
}

// Control words as the CLI would pass them; they must parse.
inline std::vector<InterfaceOption> Options(
    std::initializer_list<std::string> words) {
  const std::vector<std::string> list(words);
  return ParseInterfaceOptions(list).value();
}

// Which domains exist; "" always does (the DomainCatalog contract).
class FakeDomains : public DomainCatalog {
 public:
  FakeDomains(std::initializer_list<std::string> names) : names_(names) {}
  bool Exists(std::string_view name) const override {
    return name.empty() || names_.contains(name);
  }
  void Add(std::string name) { names_.insert(std::move(name)); }
  void Remove(std::string_view name) { names_.erase(std::string(name)); }

 private:
  std::set<std::string, std::less<>> names_;
};

// 02:00:00:00:00:01, 02:00:00:00:00:02, ...: distinct and predictable.
inline MacAddress SequentialMac(uint8_t n) {
  return MacAddress({0x02, 0x00, 0x00, 0x00, 0x00, n});
}
inline TunnelTable::MacGenerator SequentialMacs() {
  return [n = uint8_t{0}]() mutable { return SequentialMac(++n); };
}

// An Ethernet frame of `size` bytes (>= 14) to `destination`, with a
// payload pattern that depends on `seed`.
inline std::vector<uint8_t> MakeFrame(size_t size, uint8_t seed = 0,
                                      std::array<uint8_t, 6> destination = {
                                          0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}) {
  std::vector<uint8_t> frame(size);
  for (size_t i = 0; i < size; ++i) {
    frame[i] = static_cast<uint8_t>(seed + i * 7);
  }
  if (size >= kEthernetHeaderSize) {
    std::copy(destination.begin(), destination.end(), frame.begin());
    const std::array<uint8_t, 6> source = {0x02, 0x11, 0x22, 0x33, 0x44, seed};
    std::copy(source.begin(), source.end(), frame.begin() + 6);
    frame[12] = 0x08;  // IPv4 ethertype
    frame[13] = 0x00;
  }
  return frame;
}

// An EtherIP payload: the two header bytes, then the frame.
inline std::vector<uint8_t> EtherIpPayload(std::span<const uint8_t> frame,
                                           uint8_t byte0 = 0x30,
                                           uint8_t byte1 = 0x00) {
  std::vector<uint8_t> payload(kEtherIpHeaderSize + frame.size());
  payload[0] = byte0;
  payload[1] = byte1;
  std::copy(frame.begin(), frame.end(), payload.begin() + kEtherIpHeaderSize);
  return payload;
}

// A whole outer IPv4 packet with `option_words` 32-bit words of options
// (NOPs), so IHL = 5 + option_words.
inline std::vector<uint8_t> Ipv4Packet(const IpAddress& source,
                                       const IpAddress& destination,
                                       std::span<const uint8_t> payload,
                                       size_t option_words = 0) {
  std::vector<uint8_t> packet(kIpv4HeaderSize);
  BuildIpv4Header(
      std::span<uint8_t, kIpv4HeaderSize>(packet.data(), kIpv4HeaderSize),
      source, destination, option_words * 4 + payload.size(), 0x4242);
  packet.insert(packet.end(), option_words * 4, 0x01);  // IPOPT_NOP
  packet[0] = static_cast<uint8_t>(0x40 | (5 + option_words));
  packet[10] = packet[11] = 0;
  const uint16_t checksum =
      InternetChecksum(std::span<const uint8_t>(packet.data(), packet.size()));
  packet[10] = static_cast<uint8_t>(checksum >> 8);
  packet[11] = static_cast<uint8_t>(checksum);
  packet.insert(packet.end(), payload.begin(), payload.end());
  return packet;
}

inline std::vector<uint8_t> Ipv6Packet(const IpAddress& source,
                                       const IpAddress& destination,
                                       std::span<const uint8_t> payload) {
  std::vector<uint8_t> packet(kIpv6HeaderSize);
  BuildIpv6Header(
      std::span<uint8_t, kIpv6HeaderSize>(packet.data(), kIpv6HeaderSize),
      source, destination, payload.size());
  packet.insert(packet.end(), payload.begin(), payload.end());
  return packet;
}

// An interface of a TunnelTable reduced to comparable values.
struct InterfaceView {
  InterfaceId id;
  std::string name;
  InterfaceSettings settings;
  const InterfaceCounters* counters;
  friend bool operator==(const InterfaceView&, const InterfaceView&) = default;
};

inline std::vector<InterfaceView> ViewOf(const TunnelTable& table) {
  std::vector<InterfaceView> view;
  for (const InterfaceState* state : table.List()) {
    view.push_back(
        {state->id, state->name, state->settings, state->counters.get()});
  }
  return view;
}

// A forwarding entry reduced to comparable values, ordered by id.
struct EntryView {
  InterfaceId id;
  DomainId domain;
  std::optional<Tunnel> tunnel;
  bool up;
  const InterfaceCounters* counters;
  friend bool operator==(const EntryView&, const EntryView&) = default;
};

inline std::vector<EntryView> ViewOf(const ForwardingTable& table) {
  std::vector<EntryView> view;
  for (const ForwardingEntry& entry : table.entries()) {
    view.push_back(
        {entry.id, entry.domain,
         entry.has_tunnel ? std::optional(entry.tunnel) : std::nullopt,
         entry.up, entry.counters});
  }
  std::sort(view.begin(), view.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return view;
}

inline std::vector<EntryView> SnapshotOf(const TunnelTable& table) {
  return ViewOf(table.BuildForwardingTable());
}

}  // namespace testing_support
}  // namespace etherip
