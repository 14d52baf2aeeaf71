// Everything the forwarding path reads: the forwarding table plus the
// devices and sockets it forwards between. The forwarding loop owns its
// plane and changes it in place, between batches, on its own thread; the
// Forwarder only reads it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/forwarding_table.h"
#include "io/frame_device.h"
#include "io/outer_socket.h"

namespace etherip {

struct DataPlane {
  ForwardingTable table;
  // Indexed by InterfaceId; null where there is none.
  std::vector<std::shared_ptr<FrameDevice>> devices;
  // One per (family, domain), in no particular order.
  std::vector<std::pair<Endpoint, std::shared_ptr<OuterSocket>>> sockets;
  // Indexed by DomainId, for messages.
  std::vector<std::string> domain_names;

  FrameDevice* DeviceOf(InterfaceId id) const {
    return id < devices.size() ? devices[id].get() : nullptr;
  }
  std::string_view DomainNameOf(DomainId id) const {
    return id < domain_names.size() ? std::string_view(domain_names[id]) : "";
  }
  OuterSocket* SocketOf(Endpoint endpoint) const {
    for (const auto& [at, socket] : sockets) {
      if (at == endpoint) return socket.get();
    }
    return nullptr;
  }
};

}  // namespace etherip
