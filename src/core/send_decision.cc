#include "core/send_decision.h"

#include "core/etherip_header.h"

namespace etherip {

SendVerdict DecideSend(const ForwardingTable& table, InterfaceId interface,
                       PacketBuffer& packet) {
  const ForwardingEntry* entry = table.FindById(interface);
  if (entry == nullptr) return {};
  if (!entry->has_tunnel) {
    entry->counters->oerrors.Increment();
    return {};
  }
  const size_t frame_size = packet.size();
  const auto header =
      packet.Prepend(kEtherIpHeaderSize).first<kEtherIpHeaderSize>();
  if (entry->eoip.has_value()) [[unlikely]] {
    EncodeEoipHeader(header, *entry->eoip);
  } else {
    EncodeEtherIpHeader(header, entry->header);
  }
  return SendVerdict{entry, frame_size};
}

void CountSendResult(const SendVerdict& verdict, bool sent,
                     GlobalCounters& counters) {
  if (verdict.interface == nullptr) return;
  InterfaceCounters& own = *verdict.interface->counters;
  if (!sent) {
    own.oerrors.Increment();
    return;
  }
  counters.opackets.Increment();
  counters.obytes.Add(verdict.frame_size);
  own.opackets.Increment();
  own.obytes.Add(verdict.frame_size);
}

}  // namespace etherip
