#include "io/memory/memory_resolver.h"

#include <fmt/format.h>

#include <cerrno>

namespace etherip {

void MemoryResolver::SetHost(std::string domain, std::string host,
                             std::vector<IpAddress> addresses) {
  std::lock_guard lock(mutex_);
  hosts_[{std::move(domain), std::move(host)}] = Host{std::move(addresses), {}};
}

void MemoryResolver::FailHost(std::string domain, std::string host,
                              std::string message) {
  std::lock_guard lock(mutex_);
  hosts_[{std::move(domain), std::move(host)}] = Host{{}, std::move(message)};
}

void MemoryResolver::RemoveHost(const std::string& domain,
                                const std::string& host) {
  std::lock_guard lock(mutex_);
  hosts_.erase({domain, host});
}

void MemoryResolver::SetInterface(std::string domain, std::string name,
                                  uint32_t index) {
  std::lock_guard lock(mutex_);
  interfaces_[{std::move(domain), std::move(name)}] = index;
}

void MemoryResolver::RemoveInterface(const std::string& domain,
                                     const std::string& name) {
  std::lock_guard lock(mutex_);
  interfaces_.erase({domain, name});
}

size_t MemoryResolver::lookups() const {
  std::lock_guard lock(mutex_);
  return lookups_;
}

Result<std::vector<IpAddress>> MemoryResolver::LookUpHost(
    std::string_view domain, std::string_view host, Family family) {
  std::lock_guard lock(mutex_);
  ++lookups_;
  auto it = hosts_.find({std::string(domain), std::string(host)});
  if (it == hosts_.end()) {
    return Fail(ENOENT, "Name or service not known");
  }
  if (!it->second.failure.empty()) return Fail(EAGAIN, it->second.failure);
  std::vector<IpAddress> addresses;
  for (const IpAddress& address : it->second.addresses) {
    if (family == Family::kNone || address.family() == family) {
      addresses.push_back(address);
    }
  }
  if (addresses.empty()) {
    return Fail(ENOENT, "No address associated with hostname");
  }
  return addresses;
}

Result<uint32_t> MemoryResolver::LookUpInterface(std::string_view domain,
                                                 std::string_view name) {
  std::lock_guard lock(mutex_);
  ++lookups_;
  auto it = interfaces_.find({std::string(domain), std::string(name)});
  if (it == interfaces_.end()) return Fail(ENODEV, "No such device");
  return it->second;
}

}  // namespace etherip
