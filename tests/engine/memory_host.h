// A whole etherip host in memory, for tests of the forwarding engine: the
// daemon's tunnel table, global counters and Forwarder, a MemoryTap per
// interface and a MemorySocket per (family, domain), wired together through
// a DataPlane exactly as the daemon wires the Linux devices and sockets.
//
// Each domain of a host is an underlay: a MemoryNetwork the host's sockets
// in that domain attach to. The daemon's own domain ("") is the network
// given to the constructor; AddDomain adds network namespaces.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/core_fixtures.h"  // PrintTo for counter values
#include "core/counters.h"
#include "core/forwarding_table.h"
#include "core/interface_options.h"
#include "core/tunnel_table.h"
#include "engine/data_plane.h"
#include "engine/forwarder.h"
#include "io/memory/memory_network.h"
#include "io/memory/memory_tap.h"

namespace etherip {
namespace testing_support {

class MemoryHost : public DomainCatalog {
 public:
  explicit MemoryHost(MemoryNetwork& own_domain, uint8_t mac_seed = 0,
                      DropObserver* observer = nullptr)
      : forwarder_(counters_, observer),
        table_([seed = mac_seed, n = uint8_t{0}]() mutable {
          return MacAddress({0x02, seed, 0x00, 0x00, 0x00, ++n});
        }) {
    networks_[""] = &own_domain;
  }
  MemoryHost(const MemoryHost&) = delete;
  MemoryHost& operator=(const MemoryHost&) = delete;

  // A network namespace of this host, whose outer packets use `network`.
  void AddDomain(const std::string& name, MemoryNetwork& network) {
    networks_[name] = &network;
  }
  bool Exists(std::string_view name) const override {
    return networks_.contains(std::string(name));
  }

  // `etherip create NAME WORDS...`; a refusal fails the test.
  InterfaceId Create(std::string_view name,
                     std::initializer_list<std::string> words) {
    auto created = table_.Create(name, Parse(words), *this);
    if (!created) {
      ADD_FAILURE() << name << ": " << created.error().message;
      return UINT32_MAX;
    }
    taps_[std::string(name)] = tap_offloads
                                   ? std::make_shared<MemoryTap>(*tap_offloads)
                                   : std::make_shared<MemoryTap>();
    Publish();
    return (*created)->id;
  }
  // `etherip set NAME WORDS...`; a refusal fails the test.
  void Set(std::string_view name, std::initializer_list<std::string> words) {
    auto status = table_.Set(name, Parse(words), *this);
    if (!status) ADD_FAILURE() << name << ": " << status.error().message;
    Publish();
  }
  void Destroy(std::string_view name) {
    auto status = table_.Destroy(name);
    if (!status) ADD_FAILURE() << name << ": " << status.error().message;
    taps_.erase(std::string(name));
    Publish();
  }

  MemoryTap& Tap(std::string_view name) { return *taps_.at(std::string(name)); }
  InterfaceId Id(std::string_view name) const { return table_.Find(name)->id; }
  InterfaceCounterValues CountersOf(std::string_view name) const {
    return table_.Find(name)->counters->Read();
  }
  GlobalCounterValues Counters() const { return counters_.Read(); }

  // Every interface's counters are zero.
  bool NoInterfaceCounted() const {
    for (const InterfaceState* state : table_.List()) {
      if (state->counters->Read() != InterfaceCounterValues{}) return false;
    }
    return true;
  }

  // The sysctl net.inet.etherip.allow of this host.
  bool allow = true;
  // Interfaces created from now on have TAPs with offloads (as the daemon's
  // Linux TAPs do), or none.
  std::optional<MemoryTap::Offloads> tap_offloads;

  // The socket of (family, domain), or null while no tunnel needs it.
  MemorySocket* Socket(Family family, std::string_view domain = "") {
    const auto key = std::pair(family, table_.DomainIdOf(domain));
    return sockets_.contains(key) ? sockets_.at(key).get() : nullptr;
  }

  DataPlane& plane() { return plane_; }
  Forwarder& forwarder() { return forwarder_; }
  TunnelTable& table() { return table_; }

  // One pass of the forwarding loop: each device once, then each socket
  // once. Returns how many packets were read.
  size_t PumpOnce() {
    size_t moved = 0;
    for (const ForwardingEntry& entry : plane_.table.entries()) {
      moved += forwarder_.PumpDevice(plane_, entry.id).packets;
    }
    for (const auto& [endpoint, socket] : plane_.sockets) {
      moved += forwarder_.PumpSocket(plane_, endpoint, allow).packets;
    }
    return moved;
  }

  // Builds the forwarding snapshot and the data plane from the table, as
  // the daemon does after each committed change. Sockets that are still
  // needed are kept (with their queued packets).
  void Publish() {
    plane_.table = table_.BuildForwardingTable();
    plane_.devices.clear();
    for (const InterfaceState* state : table_.List()) {
      if (plane_.devices.size() <= state->id) {
        plane_.devices.resize(state->id + 1);
      }
      plane_.devices[state->id] = taps_.at(state->name);
    }
    std::map<std::pair<Family, DomainId>, std::shared_ptr<MemorySocket>>
        sockets;
    plane_.sockets.clear();
    for (const Endpoint& endpoint : plane_.table.Endpoints()) {
      const auto key = std::pair(endpoint.family, endpoint.domain);
      MemoryNetwork& network = NetworkOf(endpoint.domain);
      auto socket = sockets_.contains(key) ? sockets_[key]
                                           : std::make_shared<MemorySocket>(
                                                 network, endpoint.family);
      network.Detach(socket.get());
      for (const ForwardingEntry& entry : plane_.table.entries()) {
        if (entry.has_tunnel && entry.domain == endpoint.domain &&
            entry.tunnel.source.family() == endpoint.family) {
          network.Attach(entry.tunnel.source, socket.get());
        }
      }
      sockets[key] = socket;
      plane_.sockets.emplace_back(endpoint, socket);
    }
    sockets_ = std::move(sockets);
  }

 private:
  static std::vector<InterfaceOption> Parse(
      std::initializer_list<std::string> words) {
    const std::vector<std::string> list(words);
    auto options = ParseInterfaceOptions(list);
    if (!options) {
      ADD_FAILURE() << options.error().message;
      return {};
    }
    return *options;
  }
  MemoryNetwork& NetworkOf(DomainId domain) {
    return *networks_.at(std::string(table_.DomainName(domain)));
  }

  GlobalCounters counters_;
  Forwarder forwarder_;
  std::map<std::string, MemoryNetwork*> networks_;
  TunnelTable table_;
  std::map<std::string, std::shared_ptr<MemoryTap>> taps_;
  std::map<std::pair<Family, DomainId>, std::shared_ptr<MemorySocket>> sockets_;
  DataPlane plane_;
};

// Runs every host's forwarding loop until no packet moves (at most
// `max_rounds` rounds, so a bug cannot hang the test).
inline void PumpUntilQuiet(std::initializer_list<MemoryHost*> hosts,
                           int max_rounds = 1000) {
  for (int round = 0; round < max_rounds; ++round) {
    size_t moved = 0;
    for (MemoryHost* host : hosts) moved += host->PumpOnce();
    if (moved == 0) return;
  }
  ADD_FAILURE() << "hosts still forwarding after " << max_rounds << " rounds";
}

}  // namespace testing_support
}  // namespace etherip
