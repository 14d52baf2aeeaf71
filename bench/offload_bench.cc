// The software offloads, per segment and without I/O: cutting a TSO
// super-frame into standard frames (send side), and merging a receive
// batch of TCP segments back into super-frames (receive side). Both run
// for every byte a tunnel carries; SetBytesProcessed gives the rate.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/packet_buffer.h"
#include "offload/coalescer.h"
#include "offload/frame_builder.h"
#include "offload/segmenter.h"

namespace etherip {
namespace {

using testing_support::BuildFrame;
using testing_support::FrameSpec;
using testing_support::GsoHeaderFor;
using testing_support::L4Checksum;
using testing_support::PatternPayload;

constexpr size_t kMss = 1448;  // TCP over IPv4 at MTU 1500

// A 64 KiB super-frame (45 segments) cut into 1514-byte frames.
void BM_SegmentSuperFrame(benchmark::State& state) {
  FrameSpec spec;
  spec.payload = PatternPayload(45 * kMss);
  spec.l4_checksum = L4Checksum::kPseudoHeader;
  const auto super = BuildFrame(spec);
  const VirtioNetHeader header = GsoHeaderFor(super, kMss);
  std::vector<uint8_t> out(2048);
  size_t segments = 0;
  for (auto _ : state) {
    auto plan = PlanSegments(header, super.bytes, 1514);
    for (size_t i = 0; i < plan->count; ++i) {
      benchmark::DoNotOptimize(WriteSegment(*plan, super.bytes, i, out));
    }
    segments += plan->count;
  }
  state.SetItemsProcessed(static_cast<int64_t>(segments));
  state.SetBytesProcessed(static_cast<int64_t>(segments * kMss));
}
BENCHMARK(BM_SegmentSuperFrame);

// A receive batch of 64 in-order segments of one flow merged (into two
// super-frames: 45 + 19), checksums verified.
void BM_CoalesceBatch(benchmark::State& state) {
  constexpr size_t kBatch = 64;
  std::vector<std::vector<uint8_t>> segments;
  for (size_t i = 0; i < kBatch; ++i) {
    FrameSpec spec;
    spec.payload = PatternPayload(kMss);
    spec.tcp_sequence = static_cast<uint32_t>(1000 + i * kMss);
    spec.ipv4_id = static_cast<uint16_t>(i);
    segments.push_back(BuildFrame(spec).bytes);
  }
  std::vector<PacketBuffer> buffers(kBatch);
  std::vector<PacketBuffer*> frames(kBatch);
  std::vector<CoalescedFrame> out(kBatch);
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < kBatch; ++i) {
      auto room = buffers[i].ResetForRead();
      std::copy(segments[i].begin(), segments[i].end(), room.begin());
      buffers[i].Commit(segments[i].size());
      frames[i] = &buffers[i];
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(CoalesceTcp(frames, out));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * kBatch * kMss));
}
BENCHMARK(BM_CoalesceBatch);

}  // namespace
}  // namespace etherip

BENCHMARK_MAIN();
