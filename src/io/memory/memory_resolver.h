// An in-memory Resolver (io/resolver.h) for unit tests: host names and
// interfaces per domain as the test sets them; anything else does not
// resolve, as a system without that name would say.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "io/resolver.h"

namespace etherip {

class MemoryResolver : public Resolver {
 public:
  // `host` in `domain` stands for `addresses` (in this order); an empty
  // list makes it a name without addresses.
  void SetHost(std::string domain, std::string host,
               std::vector<IpAddress> addresses);
  // `host` in `domain` fails with `message` (e.g. a DNS timeout).
  void FailHost(std::string domain, std::string host, std::string message);
  void RemoveHost(const std::string& domain, const std::string& host);
  void SetInterface(std::string domain, std::string name, uint32_t index);
  void RemoveInterface(const std::string& domain, const std::string& name);
  // How many lookups were made, of either kind.
  size_t lookups() const;

  Result<std::vector<IpAddress>> LookUpHost(std::string_view domain,
                                            std::string_view host,
                                            Family family) override;
  Result<uint32_t> LookUpInterface(std::string_view domain,
                                   std::string_view name) override;

 private:
  using Key = std::pair<std::string, std::string>;
  struct Host {
    std::vector<IpAddress> addresses;
    std::string failure;  // non-empty: the lookup fails with it
  };
  mutable std::mutex mutex_;  // tests may drive the resolver thread
  std::map<Key, Host> hosts_;
  std::map<Key, uint32_t> interfaces_;
  size_t lookups_ = 0;
};

}  // namespace etherip
