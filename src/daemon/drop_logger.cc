#include "daemon/drop_logger.h"

#include <spdlog/spdlog.h>

#include "core/tunnel_table.h"

namespace etherip {
namespace {

const char* Explain(ReceiveDrop reason) {
  switch (reason) {
    case ReceiveDrop::kPolicy:
      return "allow is off, so every EtherIP packet is dropped (pdrops); "
             "turn it on with `etherip allow 1` or `allow = true` in the "
             "configuration file";
    case ReceiveDrop::kNoInterface:
      return "no interface has a tunnel from the packet's destination to its "
             "source in this domain (for a zoned, link-local tunnel: through "
             "the interface it came in on), or, between addresses of EoIP "
             "tunnels, none with the packet's tunnel ID (noifdrops)";
    case ReceiveDrop::kMalformed:
      return "bad EtherIP header (not version 3, reserved bits set) or an "
             "inner frame shorter than 14 bytes (adrops)";
    case ReceiveDrop::kDown:
      return "the interface of the packet's tunnel is down, so the kernel "
             "would not take the frame (idrops)";
    case ReceiveDrop::kNone:
    case ReceiveDrop::kKeepalive:  // not a drop: never reported
      break;
  }
  return "unknown reason";
}

}  // namespace

void DropLogger::OnReceiveDrop(ReceiveDrop reason, const DataPlane& plane,
                               Endpoint where) {
  Slot& slot = slots_[static_cast<size_t>(reason) % slots_.size()];
  ++slot.suppressed;
  const auto now = std::chrono::steady_clock::now();
  if (slot.logged_once && now - slot.last < interval_) return;
  const std::string_view domain = plane.DomainNameOf(where.domain);
  spdlog::warn("dropped {} received {} packet{} in domain {}: {}",
               slot.suppressed, FamilyName(where.family),
               slot.suppressed == 1 ? "" : "s", DomainLabel(domain),
               Explain(reason));
  slot.suppressed = 0;
  slot.last = now;
  slot.logged_once = true;
}

}  // namespace etherip
