// Turns control requests into InterfaceManager calls and their responses,
// logging every change and every refusal.
#pragma once

#include <functional>

#include "control/protocol.h"
#include "daemon/interface_manager.h"

namespace etherip {

class RequestHandler {
 public:
  // `reload` re-reads the configuration file and applies it.
  RequestHandler(InterfaceManager& manager, std::function<Status()> reload)
      : manager_(manager), reload_(std::move(reload)) {}

  control::Response Handle(const control::Request& request);

 private:
  control::Response Refuse(const control::Request& request, Error error);

  InterfaceManager& manager_;
  std::function<Status()> reload_;
};

}  // namespace etherip
