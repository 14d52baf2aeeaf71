// Fuzzes the receive decision: any bytes, as an IPv4 packet from a raw
// socket or as an IPv6 payload, against a table with tunnels of both
// families, standard and MikroTik EoIP. Checks the invariants that must
// hold for every input.
#include <cstdint>
#include <span>

#include "core/receive_decision.h"
#include "core/tunnel_table.h"
#include "fuzz_table.h"

namespace {

using namespace etherip;
using fuzz::Check;

// The IPv4 interface is up (delivery), the IPv6 one down (idrops); two EoIP
// tunnels share one pair: IDs 0 (up) and 0x123 (down).
fuzz::FuzzTable MakeFixture() {
  return fuzz::FuzzTable{
      {"etherip0", {SetTunnel{"192.0.2.1", "192.0.2.2"}, SetUp{true}}},
      {"etherip1", {SetTunnel{"2001:db8::1", "2001:db8::2"}}},
      {"eoip0",
       {SetTunnel{"2001:db8::1", "2001:db8::3"}, SetEoip{"0"}, SetUp{true}}},
      {"eoip291", {SetTunnel{"2001:db8::1", "2001:db8::3"}, SetEoip{"291"}}},
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::FuzzTable fixture = MakeFixture();
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
