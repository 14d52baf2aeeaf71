// Fuzzes the configuration file parser with any bytes: it must return a
// value (never throw, never crash), name the file and a line in every error,
// and what it accepts must render (showconf) and parse back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "control/config_file.h"
#include "core/interface_name.h"
#include "fuzz_check.h"

namespace {

using namespace etherip;
using fuzz::Check;
using namespace etherip::control;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = ParseConfig(text, "fuzz.conf");
  if (!config) {
    Check(config.error().code != 0);
    Check(config.error().message.starts_with("fuzz.conf:"));
    return 0;
  }
  Check(config->lines.size() == config->interfaces.size());
  std::vector<InterfaceView> views;
  for (const InterfaceSpec& spec : config->interfaces) {
    Check(ValidateInterfaceName(spec.name).has_value());
    InterfaceView view{spec.name, spec.settings, false, {}};
    // The daemon picks a MAC for an interface the file gives none.
    if (!spec.has_lladdr) view.settings.lladdr = MacAddress({2, 0, 0, 0, 0, 1});
    views.push_back(view);
  }
  const std::string rendered = RenderConfig(config->globals(), views);
  auto again = ParseConfig(rendered, "showconf");
  Check(again.has_value());
  Check(again->globals() == config->globals());
  Check(again->interfaces.size() == views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    Check(again->interfaces[i].name == views[i].name);
    Check(again->interfaces[i].settings == views[i].settings);
    Check(again->interfaces[i].has_lladdr);
  }
  return 0;
}
