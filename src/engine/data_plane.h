// Everything the forwarding path reads, published as one immutable snapshot:
// the forwarding table plus the devices and sockets it forwards between.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/forwarding_table.h"
#include "io/frame_device.h"
#include "io/outer_socket.h"

namespace etherip {

struct DataPlane {
  std::shared_ptr<const ForwardingTable> table;
  // Indexed by InterfaceId; null where there is none.
  std::vector<std::shared_ptr<FrameDevice>> devices;
  std::vector<std::pair<Endpoint, std::shared_ptr<OuterSocket>>> sockets;

  FrameDevice* DeviceOf(InterfaceId id) const {
    return id < devices.size() ? devices[id].get() : nullptr;
  }
  OuterSocket* SocketOf(Endpoint endpoint) const {
    for (const auto& [at, socket] : sockets) {
      if (at == endpoint) return socket.get();
    }
    return nullptr;
  }
};

}  // namespace etherip
