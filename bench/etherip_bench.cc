// Benchmarks of the core decisions on the forwarding path:
//
//   BM_Encapsulate/F           DecideSend + CountSendResult on an F-byte frame
//   BM_Decapsulate/F           DecideReceiveIpv4 (parse, lookup, checks,
//                              counting) on one prebuilt outer packet
//   BM_ReceiveLookup/N         the same with N tunnels, each packet's tunnel
//                              drawn at random over the whole table
//   BM_ReceiveLookupLinear/N   the same packets, looked up by scanning a list
//                              as the reference driver does
//   BM_ReceiveLookupIpv6/N     DecideReceive with IPv6 outer addresses
//   BM_TableEraseUpsert/N      one interface of N, drawn at random, erased
//                              from the forwarding table and upserted
//                              again (a destroy and a create)
//   BM_TableRetunnel/N         one interface of N upserted with another
//                              tunnel (a set)
//   BM_TableBuild/N            the whole table built from N entries, as
//                              every change cost before tables changed in
//                              place
//
// Every benchmark but BM_TableBuild reports allocs/pkt: calls of the global
// operator new per packet (per change for BM_Table*), counted by replacing
// it in this program. The core decisions must not allocate, so it should
// read 0.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <tuple>
#include <vector>

#include "core/etherip_header.h"
#include "core/forwarding_table.h"
#include "core/outer_header.h"
#include "core/packet_buffer.h"
#include "core/receive_decision.h"
#include "core/send_decision.h"

// --- allocation counting ---

namespace {
std::atomic<uint64_t> g_allocations{0};

void* CountedAllocate(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* CountedAllocateAligned(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto alignment = static_cast<std::size_t>(align);
  const std::size_t rounded =
      (std::max<std::size_t>(size, 1) + alignment - 1) / alignment * alignment;
  if (void* p = std::aligned_alloc(alignment, rounded)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return CountedAllocate(size); }
void* operator new[](std::size_t size) { return CountedAllocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  return CountedAllocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return CountedAllocateAligned(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace etherip {
namespace {

// Counts allocations from its construction to Report(), per iteration.
class AllocationMeter {
 public:
  AllocationMeter() : start_(g_allocations.load(std::memory_order_relaxed)) {}
  // `packets_per_iteration`: how many packets one iteration decides.
  void Report(benchmark::State& state, size_t packets_per_iteration = 1) const {
    const uint64_t allocations =
        g_allocations.load(std::memory_order_relaxed) - start_;
    const auto packets =
        std::max<benchmark::IterationCount>(state.iterations(), 1) *
        static_cast<benchmark::IterationCount>(packets_per_iteration);
    state.counters["allocs/pkt"] =
        static_cast<double>(allocations) / static_cast<double>(packets);
    state.SetItemsProcessed(packets);
  }

 private:
  uint64_t start_;
};

// --- the tunnels: N of them, all in documentation ranges ---

constexpr size_t kMaxTunnels = 512 * 256;

// Tunnel i: local 192.0.2.x or 198.51.100.x, remote 203.0.113.y.
Tunnel Ipv4TunnelOf(size_t i) {
  const size_t local = i / 256;
  const std::array<uint8_t, 4> source =
      local < 256
          ? std::array<uint8_t, 4>{192, 0, 2, static_cast<uint8_t>(local)}
          : std::array<uint8_t, 4>{198, 51, 100,
                                   static_cast<uint8_t>(local - 256)};
  const std::array<uint8_t, 4> destination = {203, 0, 113,
                                              static_cast<uint8_t>(i % 256)};
  return Tunnel{IpAddress::V4(source), IpAddress::V4(destination)};
}

// Tunnel i: local 2001:db8::1, remote 2001:db8:1::<i>.
Tunnel Ipv6TunnelOf(size_t i) {
  std::array<uint8_t, 16> source = {0x20, 0x01, 0x0d, 0xb8};
  source[15] = 1;
  std::array<uint8_t, 16> destination = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01};
  for (size_t b = 0; b < 4; ++b) {
    destination[15 - b] = static_cast<uint8_t>(i >> (8 * b));
  }
  return Tunnel{IpAddress::V6(source), IpAddress::V6(destination)};
}

// A reference driver list element, reduced to what ip_etherip_input reads.
struct ReferenceSoftc {
  uint8_t src_family;
  uint8_t dst_family;
  uint32_t rdomain;
  uint32_t src;  // sc_src.sin_addr.s_addr
  uint32_t dst;  // sc_dst.sin_addr.s_addr
  const ForwardingEntry* entry;
};

uint32_t RawIpv4(const IpAddress& address) {
  uint32_t raw;
  std::memcpy(&raw, address.bytes().data(), 4);
  return raw;
}

// N tunnels as the forwarding table and as a reference-style list, and a
// pool of prebuilt outer packets whose tunnels are drawn at random.
struct World {
  static constexpr size_t kPool = 1 << 16;  // packets, read in order

  World(size_t tunnels, size_t frame_size, bool ipv6) {
    std::vector<ForwardingEntry> entries;
    entries.reserve(tunnels);
    owners.reserve(tunnels);
    for (size_t i = 0; i < tunnels; ++i) {
      auto counters = std::make_shared<InterfaceCounters>();
      ForwardingEntry entry;
      entry.id = static_cast<InterfaceId>(i);
      entry.domain = 0;
      entry.has_tunnel = true;
      entry.up = true;
      entry.tunnel = ipv6 ? Ipv6TunnelOf(i) : Ipv4TunnelOf(i);
      entry.counters = counters.get();
      entries.push_back(entry);
      owners.push_back(std::move(counters));
    }
    table = std::make_unique<ForwardingTable>(entries, owners);
    // Newest first, as LIST_INSERT_HEAD leaves it.
    for (auto it = table->entries().rbegin(); it != table->entries().rend();
         ++it) {
      linear.push_back(ReferenceSoftc{AF_INET, AF_INET, it->domain,
                                      RawIpv4(it->tunnel.source),
                                      RawIpv4(it->tunnel.destination), &*it});
    }

    const size_t payload = kEtherIpHeaderSize + frame_size;
    const size_t header = ipv6 ? kIpv6HeaderSize : kIpv4HeaderSize;
    stride = (header + payload + 63) / 64 * 64;
    packets.assign(kPool * stride, 0);
    std::mt19937_64 random(0x5eed);
    std::uniform_int_distribution<size_t> pick(0, tunnels - 1);
    for (size_t p = 0; p < kPool; ++p) {
      const Tunnel& tunnel = table->entries()[pick(random)].tunnel;
      uint8_t* packet = &packets[p * stride];
      // From the peer (the tunnel's destination) to us (its source).
      if (ipv6) {
        BuildIpv6Header(std::span<uint8_t, kIpv6HeaderSize>(packet, header),
                        tunnel.destination, tunnel.source, payload);
        outer.push_back(OuterPacket{
            tunnel.destination, tunnel.source, {packet + header, payload}});
      } else {
        BuildIpv4Header(std::span<uint8_t, kIpv4HeaderSize>(packet, header),
                        tunnel.destination, tunnel.source, payload,
                        static_cast<uint16_t>(p));
      }
      EncodeEtherIpHeader(std::span<uint8_t, kEtherIpHeaderSize>(
          packet + header, kEtherIpHeaderSize));
      for (size_t b = 0; b < frame_size; ++b) {
        packet[header + kEtherIpHeaderSize + b] = static_cast<uint8_t>(b);
      }
    }
    packet_size = header + payload;
  }

  std::span<const uint8_t> Packet(size_t p) const {
    return {&packets[p * stride], packet_size};
  }

  std::vector<std::shared_ptr<InterfaceCounters>> owners;
  std::unique_ptr<ForwardingTable> table;
  std::vector<ReferenceSoftc> linear;
  std::vector<uint8_t> packets;
  std::vector<OuterPacket> outer;  // IPv6 only: as the raw socket hands it
  size_t stride = 0;
  size_t packet_size = 0;
};

// Worlds are built once per shape and kept: building 100 000 tunnels is
// not what is measured.
const World& WorldOf(size_t tunnels, size_t frame_size, bool ipv6 = false) {
  static std::map<std::tuple<size_t, size_t, bool>, std::unique_ptr<World>>
      worlds;
  auto& world = worlds[{tunnels, frame_size, ipv6}];
  if (!world) world = std::make_unique<World>(tunnels, frame_size, ipv6);
  return *world;
}

// DecideReceiveIpv4 with the reference's lookup: a scan of every softc,
// compared as ip_etherip_input compares them.
ReceiveVerdict LinearDecideReceiveIpv4(const std::vector<ReferenceSoftc>& list,
                                       bool allow, DomainId arrival_domain,
                                       std::span<const uint8_t> packet,
                                       GlobalCounters& counters) {
  if (!allow) {
    counters.pdrops.Increment();
    return {ReceiveDrop::kPolicy, nullptr, {}};
  }
  const auto outer = ParseIpv4Packet(packet);
  if (!outer) {
    counters.adrops.Increment();
    return {ReceiveDrop::kMalformed, nullptr, {}};
  }
  const uint32_t ip_src = RawIpv4(outer->source);
  const uint32_t ip_dst = RawIpv4(outer->destination);
  const ForwardingEntry* entry = nullptr;
  for (const ReferenceSoftc& sc : list) {
    if (sc.src_family != AF_INET || sc.dst_family != AF_INET) continue;
    if (sc.rdomain != arrival_domain || sc.src != ip_dst || sc.dst != ip_src) {
      continue;
    }
    entry = sc.entry;
    break;
  }
  if (entry == nullptr) {
    counters.noifdrops.Increment();
    return {ReceiveDrop::kNoInterface, nullptr, {}};
  }
  if (!HasValidEtherIpHeader(outer->payload) ||
      outer->payload.size() < kEtherIpHeaderSize + kEthernetHeaderSize) {
    counters.adrops.Increment();
    return {ReceiveDrop::kMalformed, nullptr, {}};
  }
  const auto frame = outer->payload.subspan(kEtherIpHeaderSize);
  counters.ipackets.Increment();
  counters.ibytes.Add(frame.size());
  entry->counters->ipackets.Increment();
  entry->counters->ibytes.Add(frame.size());
  return {ReceiveDrop::kNone, entry, frame};
}

// Fails the benchmark if a decision went the wrong way (the numbers would
// measure a drop path instead).
void Check(benchmark::State& state, const GlobalCounters& counters) {
  const GlobalCounterValues v = counters.Read();
  if (v.adrops + v.pdrops + v.noifdrops + v.idrops != 0) {
    state.SkipWithError("packets were dropped");
  }
}

// --- benchmarks ---

void BM_Encapsulate(benchmark::State& state) {
  const size_t frame_size = static_cast<size_t>(state.range(0));
  const World& world = WorldOf(1, frame_size);
  PacketBuffer packet;
  auto room = packet.ResetForRead();
  for (size_t b = 0; b < frame_size; ++b) room[b] = static_cast<uint8_t>(b);
  GlobalCounters counters;
  AllocationMeter meter;
  for (auto _ : state) {
    packet.Commit(frame_size);  // a fresh frame, as a TAP read leaves it
    const SendVerdict verdict = DecideSend(*world.table, 0, packet, counters);
    CountSendResult(verdict, true, counters);
    benchmark::DoNotOptimize(verdict);
    benchmark::DoNotOptimize(packet.data().data());
  }
  meter.Report(state);
  if (counters.opackets.Get() != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("frames were not encapsulated");
  }
}
BENCHMARK(BM_Encapsulate)->Arg(64)->Arg(1514);

void BM_Decapsulate(benchmark::State& state) {
  const size_t frame_size = static_cast<size_t>(state.range(0));
  const World& world = WorldOf(1, frame_size);
  const auto packet = world.Packet(0);
  GlobalCounters counters;
  AllocationMeter meter;
  for (auto _ : state) {
    const ReceiveVerdict verdict =
        DecideReceiveIpv4(*world.table, true, 0, packet, counters);
    benchmark::DoNotOptimize(verdict);
  }
  meter.Report(state);
  Check(state, counters);
}
BENCHMARK(BM_Decapsulate)->Arg(64)->Arg(1514);

void BM_ReceiveLookup(benchmark::State& state) {
  const World& world = WorldOf(static_cast<size_t>(state.range(0)), 64);
  GlobalCounters counters;
  size_t p = 0;
  AllocationMeter meter;
  for (auto _ : state) {
    const ReceiveVerdict verdict =
        DecideReceiveIpv4(*world.table, true, 0, world.Packet(p), counters);
    benchmark::DoNotOptimize(verdict);
    p = (p + 1) & (World::kPool - 1);
  }
  meter.Report(state);
  Check(state, counters);
}
BENCHMARK(BM_ReceiveLookup)->Arg(1)->Arg(100)->Arg(10'000)->Arg(100'000);

// The receive decision as the forwarder makes it: a batch of 64 packets (one
// recvmmsg) at a time, outer headers parsed, lookups overlapped. Reports
// time per packet.
void BM_ReceiveLookupBatch(benchmark::State& state) {
  constexpr size_t kBatch = 64;
  const World& world = WorldOf(static_cast<size_t>(state.range(0)), 64);
  GlobalCounters counters;
  std::array<OuterPacket, kBatch> batch;
  std::array<ReceiveVerdict, kBatch> verdicts;
  size_t p = 0;
  AllocationMeter meter;
  for (auto _ : state) {
    // The socket parses each outer header, then the batch is decided.
    for (auto& packet : batch) {
      packet = *ParseIpv4Packet(world.Packet(p));
      p = (p + 1) & (World::kPool - 1);
    }
    DecideReceiveBatch(*world.table, true, 0, batch, verdicts, counters);
    benchmark::DoNotOptimize(verdicts.data());
    benchmark::ClobberMemory();
  }
  meter.Report(state, kBatch);
  state.counters["per_packet"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate |
                                     benchmark::Counter::kInvert);
  Check(state, counters);
}
BENCHMARK(BM_ReceiveLookupBatch)->Arg(1)->Arg(100)->Arg(10'000)->Arg(100'000);

void BM_ReceiveLookupLinear(benchmark::State& state) {
  const World& world = WorldOf(static_cast<size_t>(state.range(0)), 64);
  GlobalCounters counters;
  size_t p = 0;
  AllocationMeter meter;
  for (auto _ : state) {
    const ReceiveVerdict verdict = LinearDecideReceiveIpv4(
        world.linear, true, 0, world.Packet(p), counters);
    benchmark::DoNotOptimize(verdict);
    p = (p + 1) & (World::kPool - 1);
  }
  meter.Report(state);
  Check(state, counters);
}
BENCHMARK(BM_ReceiveLookupLinear)->Arg(1)->Arg(100)->Arg(10'000)->Arg(100'000);

void BM_ReceiveLookupIpv6(benchmark::State& state) {
  const World& world = WorldOf(static_cast<size_t>(state.range(0)), 64, true);
  GlobalCounters counters;
  size_t p = 0;
  AllocationMeter meter;
  for (auto _ : state) {
    const ReceiveVerdict verdict =
        DecideReceive(*world.table, true, 0, world.outer[p], counters);
    benchmark::DoNotOptimize(verdict);
    p = (p + 1) & (World::kPool - 1);
  }
  meter.Report(state);
  Check(state, counters);
}
BENCHMARK(BM_ReceiveLookupIpv6)->Arg(1)->Arg(100'000);

static_assert(100'000 <= kMaxTunnels);

// --- changes to the forwarding table ---

// N interfaces with IPv4 tunnels, as entries and their counters.
struct Interfaces {
  explicit Interfaces(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      counters.push_back(std::make_shared<InterfaceCounters>());
      ForwardingEntry entry;
      entry.id = static_cast<InterfaceId>(i);
      entry.has_tunnel = true;
      entry.up = true;
      entry.tunnel = Ipv4TunnelOf(i);
      entry.counters = counters.back().get();
      entries.push_back(entry);
    }
  }
  std::vector<ForwardingEntry> entries;
  std::vector<std::shared_ptr<InterfaceCounters>> counters;
};

void BM_TableEraseUpsert(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Interfaces interfaces(n);
  ForwardingTable table(interfaces.entries, interfaces.counters);
  std::mt19937_64 random(0x5eed);
  std::vector<InterfaceId> order(1 << 16);
  for (auto& id : order) id = static_cast<InterfaceId>(random() % n);
  size_t i = 0;
  AllocationMeter meter;
  for (auto _ : state) {
    const InterfaceId id = order[i];
    i = (i + 1) & (order.size() - 1);
    benchmark::DoNotOptimize(table.Erase(id));
    benchmark::DoNotOptimize(
        table.Upsert(interfaces.entries[id], interfaces.counters[id]));
  }
  meter.Report(state);
  if (table.entries().size() != n || table.index().size() != n) {
    state.SkipWithError("interfaces were lost");
  }
}
BENCHMARK(BM_TableEraseUpsert)->Arg(100)->Arg(10'000)->Arg(100'000);

void BM_TableRetunnel(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Interfaces interfaces(n);
  ForwardingTable table(interfaces.entries, interfaces.counters);
  // Interface 0 moves between its own tunnel and one nobody has.
  ForwardingEntry moved = interfaces.entries[0];
  moved.tunnel = Ipv4TunnelOf(n);
  bool away = false;
  AllocationMeter meter;
  for (auto _ : state) {
    away = !away;
    benchmark::DoNotOptimize(table.Upsert(away ? moved : interfaces.entries[0],
                                          interfaces.counters[0]));
  }
  meter.Report(state);
}
BENCHMARK(BM_TableRetunnel)->Arg(10'000);

void BM_TableBuild(benchmark::State& state) {
  const Interfaces interfaces(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    ForwardingTable table(interfaces.entries, interfaces.counters);
    benchmark::DoNotOptimize(table.index().capacity());
  }
}
BENCHMARK(BM_TableBuild)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace etherip

BENCHMARK_MAIN();
