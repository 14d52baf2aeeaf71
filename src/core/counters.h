// Global and per-interface counters (SPEC 5).
//
// Contract: each counter has a single writer (the forwarding thread) and any
// number of readers (the control plane). Increments are relaxed load+store,
// not read-modify-write, so the per-packet cost is a plain add.
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace etherip {

class Counter {
 public:
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  void Increment() { Add(1); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct GlobalCounterValues {
  uint64_t ipackets = 0;
  uint64_t ibytes = 0;
  uint64_t opackets = 0;
  uint64_t obytes = 0;
  uint64_t adrops = 0;     // bad EtherIP header or frame too short
  uint64_t pdrops = 0;     // allow is off
  uint64_t noifdrops = 0;  // no interface for the outer addresses
  uint64_t idrops = 0;     // for an interface that is not up
  // Dropped by the kernel from an outer socket's receive queue (it was
  // full) before the daemon read them: "receive queue drops". Global, as
  // the sockets are shared by tunnels; never seen by the receive decision.
  uint64_t qdrops = 0;
  // Keepalives (header-only packets) received on EoIP tunnels: not frames,
  // never delivered (SPEC 8, "EoIP").
  uint64_t keepalives = 0;
  // Frames an interface was asked to send that carry its own outer packets
  // (the tunnel's underlay routed through the interface): dropped, never
  // looped (SPEC 4). Counted on the send side.
  uint64_t loopdrops = 0;
  friend bool operator==(const GlobalCounterValues&,
                         const GlobalCounterValues&) = default;
};

struct InterfaceCounterValues {
  uint64_t ipackets = 0;
  uint64_t ibytes = 0;
  uint64_t opackets = 0;
  uint64_t obytes = 0;
  uint64_t oerrors = 0;     // no tunnel, or the send failed
  uint64_t idrops = 0;      // received while the interface is not up
  uint64_t keepalives = 0;  // EoIP keepalives received on it
  uint64_t loopdrops = 0;   // its own outer packets, not sent (SPEC 4)
  friend bool operator==(const InterfaceCounterValues&,
                         const InterfaceCounterValues&) = default;
};

struct GlobalCounters {
  Counter ipackets, ibytes, opackets, obytes, adrops, pdrops, noifdrops, idrops,
      qdrops, keepalives, loopdrops;

  GlobalCounterValues Read() const {
    return {ipackets.Get(), ibytes.Get(),     opackets.Get(),  obytes.Get(),
            adrops.Get(),   pdrops.Get(),     noifdrops.Get(), idrops.Get(),
            qdrops.Get(),   keepalives.Get(), loopdrops.Get()};
  }
};

struct InterfaceCounters {
  Counter ipackets, ibytes, opackets, obytes, oerrors, idrops, keepalives,
      loopdrops;

  InterfaceCounterValues Read() const {
    return {ipackets.Get(), ibytes.Get(), opackets.Get(),   obytes.Get(),
            oerrors.Get(),  idrops.Get(), keepalives.Get(), loopdrops.Get()};
  }
};

// Every counter by its SPEC 5 name, in SPEC 5's order: the one list the
// outputs (metrics) walk.
template <typename Values>
struct CounterField {
  std::string_view name;
  uint64_t Values::*value;
};
inline constexpr CounterField<GlobalCounterValues> kGlobalCounterFields[] = {
    {"ipackets", &GlobalCounterValues::ipackets},
    {"ibytes", &GlobalCounterValues::ibytes},
    {"opackets", &GlobalCounterValues::opackets},
    {"obytes", &GlobalCounterValues::obytes},
    {"adrops", &GlobalCounterValues::adrops},
    {"pdrops", &GlobalCounterValues::pdrops},
    {"noifdrops", &GlobalCounterValues::noifdrops},
    {"idrops", &GlobalCounterValues::idrops},
    {"qdrops", &GlobalCounterValues::qdrops},
    {"keepalives", &GlobalCounterValues::keepalives},
    {"loopdrops", &GlobalCounterValues::loopdrops},
};
// Every counter is listed: a new one must be added above too.
static_assert(sizeof(GlobalCounterValues) ==
              std::size(kGlobalCounterFields) * sizeof(uint64_t));
inline constexpr CounterField<InterfaceCounterValues>
    kInterfaceCounterFields[] = {
        {"ipackets", &InterfaceCounterValues::ipackets},
        {"ibytes", &InterfaceCounterValues::ibytes},
        {"opackets", &InterfaceCounterValues::opackets},
        {"obytes", &InterfaceCounterValues::obytes},
        {"oerrors", &InterfaceCounterValues::oerrors},
        {"idrops", &InterfaceCounterValues::idrops},
        {"keepalives", &InterfaceCounterValues::keepalives},
        {"loopdrops", &InterfaceCounterValues::loopdrops},
};
static_assert(sizeof(InterfaceCounterValues) ==
              std::size(kInterfaceCounterFields) * sizeof(uint64_t));

}  // namespace etherip
