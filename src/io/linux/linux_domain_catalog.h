// The domains (network namespaces) of this host, as `ip netns` names them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/tunnel_table.h"
#include "io/host.h"
#include "io/linux/netns_path.h"

namespace etherip {

class LinuxDomainCatalog : public DomainCatalog {
 public:
  // `directory` is where named namespaces are mounted; tests may point it
  // elsewhere.
  explicit LinuxDomainCatalog(
      std::string directory = std::string(kNetnsDirectory))
      : directory_(std::move(directory)) {}

  // "" (the daemon's own namespace) always exists. Another name exists
  // while it is a valid domain name (ValidateDomainName) and DIRECTORY/NAME
  // exists. The answer is read from the file system on every call: domains
  // come and go with `ip netns add/del` behind the daemon's back.
  bool Exists(std::string_view name) const override;
  // The identity of the namespace `name` names now ("" = the calling
  // thread's own), nullopt when there is none.
  std::optional<NamespaceId> Identity(std::string_view name) const;

 private:
  std::string directory_;
};

}  // namespace etherip
