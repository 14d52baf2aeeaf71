#include "core/auto_mtu.h"

#include <algorithm>

#include "core/interface_options.h"

namespace etherip {

uint32_t AutoMtu(Family family, uint32_t path_mtu) {
  const uint32_t overhead = EncapsulationOverhead(family);
  const uint32_t mtu = path_mtu > overhead ? path_mtu - overhead : 0;
  return std::clamp(mtu, kMinMtu, kMaxMtu);
}

}  // namespace etherip
