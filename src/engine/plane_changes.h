// Changes to the data plane, as the control plane publishes them: only what
// changed, so that a change costs the same with one tunnel or 10 000.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/forwarding_table.h"
#include "io/frame_device.h"
#include "io/outer_socket.h"

namespace etherip {

// What changed in the data plane since the last PlaneChanges, as the
// control thread hands it to the forwarding loop. Applied in this order:
// erased interfaces, upserted interfaces, erased sockets, upserted sockets,
// domain names; so an id that is erased and upserted in one change set is
// a new interface in place of the old one.
struct PlaneChanges {
  // An interface as it is now: added, or replacing the one with its id.
  struct Interface {
    ForwardingEntry entry;  // entry.counters is taken from `counters`
    std::shared_ptr<InterfaceCounters> counters;
    std::shared_ptr<FrameDevice> device;  // null: none (nothing to poll)
    int fd = -1;                          // the device's, to poll
  };
  // The socket of an endpoint: added, or replacing the one there.
  struct Socket {
    Endpoint endpoint;
    std::shared_ptr<OuterSocket> socket;
    int fd = -1;  // the socket's, to poll
  };
  std::vector<InterfaceId> erased_interfaces;
  std::vector<Interface> interfaces;
  std::vector<Endpoint> erased_sockets;
  std::vector<Socket> sockets;
  // Every domain name, indexed by DomainId (for messages); unset: unchanged.
  std::optional<std::vector<std::string>> domain_names;

  bool empty() const {
    return erased_interfaces.empty() && interfaces.empty() &&
           erased_sockets.empty() && sockets.empty() && !domain_names;
  }
};

// Where the control plane publishes to (the forwarding loop).
class PlanePublisher {
 public:
  virtual ~PlanePublisher() = default;
  // Returns once the changes are in effect and whatever they removed (a
  // device, a socket) is released by the data path.
  virtual void Apply(PlaneChanges changes) = 0;
};

}  // namespace etherip
