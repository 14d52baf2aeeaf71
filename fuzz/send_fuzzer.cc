// Fuzzes the send decision: any bytes, as a frame read from an interface,
// against a table with tunnels of both families (one with `tos inherit`).
// What the frame's first byte does not take selects the interface. Checks
// the invariants that must hold for every frame: it is sent (the EtherIP
// header in front of it, untouched) or counted once as loopdrops, exactly
// when CarriesOwnTunnel says so; an inherited TOS is the frame's DSCP.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "core/send_decision.h"
#include "core/tunnel_table.h"
#include "fuzz_table.h"

namespace {

using namespace etherip;
using fuzz::Check;

struct Fixture {
  fuzz::FuzzTable tunnels{
      {"etherip0",
       {SetTunnel{"192.0.2.1", "192.0.2.2"}, SetUp{true}, SetTos{"inherit"}}},
      {"etherip1",
       {SetTunnel{"2001:db8::1", "2001:db8::2"}, SetUp{true}, SetTtl{"9"}}},
  };
  GlobalCounters& counters = tunnels.counters;
  TunnelTable& table = tunnels.table;
  ForwardingTable& snapshot = tunnels.snapshot;
  PacketBuffer packet;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size < 1 || size - 1 > PacketBuffer::kMaxData) return 0;
  const std::span<const uint8_t> frame(data + 1, size - 1);
  const char* name = (data[0] & 1) ? "etherip1" : "etherip0";
  const InterfaceState* state = fixture.table.Find(name);
  const ForwardingEntry* entry = fixture.snapshot.FindById(state->id);
  auto room = fixture.packet.ResetForRead();
  std::copy(frame.begin(), frame.end(), room.begin());
  fixture.packet.Commit(frame.size());

  const bool loops = CarriesOwnTunnel(frame, entry->tunnel);
  const auto before = fixture.counters.Read();
  const auto own_before = state->counters->Read();
  const SendVerdict verdict =
      DecideSend(fixture.snapshot, state->id, fixture.packet, fixture.counters);
  const auto after = fixture.counters.Read();
  const auto own_after = state->counters->Read();
  const auto bytes = std::as_const(fixture.packet).data();
  if (loops) {
    Check(verdict.interface == nullptr);
    Check(after.loopdrops == before.loopdrops + 1);
    Check(own_after.loopdrops == own_before.loopdrops + 1);
    Check(std::equal(bytes.begin(), bytes.end(), frame.begin(), frame.end()));
  } else {
    Check(verdict.interface == entry);
    Check(after == before && own_after == own_before);
    Check(verdict.frame_size == frame.size());
    Check(bytes.size() == frame.size() + kEtherIpHeaderSize);
    Check(bytes[0] == 0x30 && bytes[1] == 0x00);
    Check(std::equal(bytes.begin() + kEtherIpHeaderSize, bytes.end(),
                     frame.begin(), frame.end()));
    const auto tos = InnerTos(frame);
    if (entry->tos_inherit) {
      Check(verdict.outer.tos ==
            (tos ? std::optional<uint8_t>(*tos & 0xfc) : std::nullopt));
    } else {
      Check(verdict.outer == entry->outer);
    }
  }
  return 0;
}
