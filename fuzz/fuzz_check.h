// The fuzzers' invariant check: a failure aborts, so libFuzzer keeps the
// input as a crash and reports it.
#pragma once

#include <cstdlib>

namespace etherip::fuzz {

inline void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace etherip::fuzz
