// For the fuzzers of the core's decisions: a table of tunnels made from
// option lists.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tunnel_table.h"
#include "fuzz_check.h"

namespace etherip::fuzz {

// A table holding `interfaces` (name, options), and its forwarding
// snapshot. No domain exists: every tunnel is in the daemon's own.
struct FuzzTable {
  GlobalCounters counters;
  TunnelTable table{[] { return MacAddress({0x02, 0, 0, 0, 0, 1}); }};
  ForwardingTable snapshot;

  explicit FuzzTable(std::initializer_list<
                     std::pair<std::string_view, std::vector<InterfaceOption>>>
                         interfaces) {
    const NoDomains domains;
    for (const auto& [name, options] : interfaces) {
      Check(table.Create(name, options, domains).has_value());
    }
    snapshot = table.BuildForwardingTable();
  }

 private:
  class NoDomains : public DomainCatalog {
   public:
    bool Exists(std::string_view) const override { return false; }
  };
};

}  // namespace etherip::fuzz
