// Fuzzes the receive decision: any bytes, as an IPv4 packet from a raw
// socket or as an IPv6 payload, against a table with tunnels of both
// families, standard and MikroTik EoIP. Checks the invariants that must
// hold for every input.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/receive_decision.h"
#include "core/tunnel_table.h"

namespace {

using namespace etherip;

class NoDomains : public DomainCatalog {
 public:
  bool Exists(std::string_view) const override { return false; }
};

struct Fixture {
  GlobalCounters counters;
  TunnelTable table{[] { return MacAddress({0x02, 0, 0, 0, 0, 1}); }};
  ForwardingTable snapshot;
  Fixture() {
    NoDomains domains;
    // The IPv4 interface is up (delivery), the IPv6 one down (idrops).
    std::vector<InterfaceOption> v4 = {SetTunnel{"192.0.2.1", "192.0.2.2"},
                                       SetUp{true}};
    std::vector<InterfaceOption> v6 = {SetTunnel{"2001:db8::1", "2001:db8::2"}};
    // Two EoIP tunnels on one pair: IDs 0 (up) and 0x123 (down).
    std::vector<InterfaceOption> eoip0 = {
        SetTunnel{"2001:db8::1", "2001:db8::3"}, SetEoip{"0"}, SetUp{true}};
    std::vector<InterfaceOption> eoip291 = {
        SetTunnel{"2001:db8::1", "2001:db8::3"}, SetEoip{"291"}};
    (void)table.Create("etherip0", v4, domains);
    (void)table.Create("etherip1", v6, domains);
    (void)table.Create("eoip0", eoip0, domains);
    (void)table.Create("eoip291", eoip291, domains);
    snapshot = table.BuildForwardingTable();
  }
};

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size < 1) return 0;
  const std::span<const uint8_t> input(data + 1, size - 1);
  const bool allow = data[0] & 1;
  const auto before = fixture.counters.Read();
  ReceiveVerdict verdict;
  if (data[0] & 2) {
    // From the standard tunnel's peer, or the EoIP tunnels'.
    OuterPacket outer{
        *IpAddress::Parse((data[0] & 4) ? "2001:db8::3" : "2001:db8::2"),
        *IpAddress::Parse("2001:db8::1"), input};
    verdict =
        DecideReceive(fixture.snapshot, allow, 0, outer, fixture.counters);
  } else {
    verdict =
        DecideReceiveIpv4(fixture.snapshot, allow, 0, input, fixture.counters);
  }
  const auto after = fixture.counters.Read();
  // Exactly one counter moved by one packet.
  const uint64_t moved =
      (after.ipackets - before.ipackets) + (after.adrops - before.adrops) +
      (after.pdrops - before.pdrops) + (after.noifdrops - before.noifdrops) +
      (after.idrops - before.idrops) + (after.keepalives - before.keepalives);
  Check(moved == 1);
  // A keepalive is a whole EoIP header with nothing after it.
  if (after.keepalives != before.keepalives) {
    Check(verdict.drop == ReceiveDrop::kKeepalive);
    Check(verdict.interface == nullptr);
    Check(input.size() == 2 && (input[0] & 0x0f) == 3);
  }
  // Queue drops happen before the decision (SPEC 3), never in it.
  Check(after.qdrops == before.qdrops);
  if (verdict.interface != nullptr) {
    Check(allow);
    Check(verdict.frame.size() >= 14);
    Check(verdict.frame.data() >= input.data() &&
          verdict.frame.data() + verdict.frame.size() <=
              input.data() + input.size());
    Check(after.ibytes - before.ibytes == verdict.frame.size());
  }
  return 0;
}
