#include "io/linux/linux_domain_catalog.h"

#include <sys/stat.h>

namespace etherip {

bool LinuxDomainCatalog::Exists(std::string_view name) const {
  return name.empty() || Identity(name).has_value();
}

std::optional<NamespaceId> LinuxDomainCatalog::Identity(
    std::string_view name) const {
  const auto path = name.empty() ? Result<std::string>("/proc/self/ns/net")
                                 : NetnsPath(name, directory_);
  if (!path) return std::nullopt;
  struct stat info {};
  if (::stat(path->c_str(), &info) != 0) return std::nullopt;
  return NamespaceId{info.st_dev, info.st_ino};
}

}  // namespace etherip
