// The configuration file (SPEC 6, TOML): parse with FILE:LINE errors, and
// render the form `etherip showconf` prints.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.h"
#include "core/error.h"
#include "core/tunnel_table.h"

namespace etherip::control {

// `resolve_interval`: seconds between lookups of a tunnel's host names and
// zone once they resolved (0: none after the first); without the line, 60.
inline constexpr uint32_t kDefaultResolveInterval = 60;
inline constexpr uint32_t kMaxResolveInterval = 86400;

// The top-level settings of a configuration file (SPEC 6), each off (or
// empty, or its default) when the file has no line for it.
struct GlobalSettings {
  bool allow = false;         // accept received EtherIP packets
  bool save = false;          // write every accepted change back to the file
  bool persist = false;       // interfaces are persistent TAP devices
  bool disable_ipv6 = false;  // interfaces get no IPv6 (bridge ports)
  // The user the daemon runs as after start-up, as the file spells it (a
  // name or a decimal uid); "" keeps the starting user. Only checked for
  // form here: whether it exists is the daemon's question (ResolveUser).
  std::string user;
  std::string control_group;  // control_group as written; "": none
  // The metrics listener, HOST:PORT as written; "": none (off).
  std::string metrics;
  uint32_t resolve_interval = kDefaultResolveInterval;  // seconds
  friend bool operator==(const GlobalSettings&,
                         const GlobalSettings&) = default;
};

// `control_group`: the group whose members may use the control socket
// besides root (SPEC 8).
struct ControlGroup {
  std::string name;  // as written: a group name, or a GID in digits
  gid_t gid = 0;
  friend bool operator==(const ControlGroup&, const ControlGroup&) = default;
};

struct Config {
  bool allow = false;                         // no `allow` line: off
  bool save = false;                          // no `save` line: off
  bool persist = false;                       // no `persist` line: off
  bool disable_ipv6 = false;                  // no `disable_ipv6` line: off
  std::string user;                           // no `user` line: ""
  int user_line = 0;                          // the `user` line; 0: none
  std::optional<ControlGroup> control_group;  // no line: root only
  std::string metrics;   // HOST:PORT (ParseListenAddress); no line: ""
  int metrics_line = 0;  // the `metrics` line; 0: none
  uint32_t resolve_interval = kDefaultResolveInterval;
  std::vector<InterfaceSpec> interfaces;  // in file order
  std::vector<int> lines;                 // line of each [[interface]] header

  GlobalSettings globals() const {
    return {allow,   save,
            persist, disable_ipv6,
            user,    control_group ? control_group->name : std::string(),
            metrics, resolve_interval};
  }
};

// `path` only names the file in messages ("PATH:LINE: message"). Checks
// everything that can be checked without the running state: TOML syntax,
// known keys and types, interface names, endpoints (IP literals of one
// family that can be endpoints, zoned link-local literals or host names:
// never looked up here), MTU range, lladdr, names given twice, tunnels of
// literals given twice. A
// control_group name is looked up in the system's group database (EINVAL
// when there is no such group); one given in digits is a GID as is.
Result<Config> ParseConfig(std::string_view text, std::string_view path);
// Reads and parses a file; ENOENT when it does not exist.
Result<Config> LoadConfig(const std::string& path);

// A file that recreates `globals` and `interfaces`, every lladdr included,
// so that a file rewritten from the running state keeps every setting it
// had. Endpoints are written as given (host names, zones), never as what
// they resolved to. `allow` is always written; the other switches only
// when true, `user` and `control_group` only when set, and
// `resolve_interval` only when not the default, so that the file of a
// daemon using none reads as before they existed.
std::string RenderConfig(const GlobalSettings& globals,
                         std::span<const InterfaceView> interfaces);

}  // namespace etherip::control
