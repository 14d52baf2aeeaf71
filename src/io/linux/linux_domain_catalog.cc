#include "io/linux/linux_domain_catalog.h"

#include <sys/stat.h>

namespace etherip {

bool LinuxDomainCatalog::Exists(std::string_view name) const {
  if (name.empty()) return true;
  auto path = NetnsPath(name, directory_);
  if (!path) return false;
  struct stat info;
  return ::stat(path->c_str(), &info) == 0;
}

}  // namespace etherip
