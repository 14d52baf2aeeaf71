// The configuration file (SPEC 6, TOML): parse with FILE:LINE errors, and
// render the form `etherip showconf` prints.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.h"
#include "core/error.h"
#include "core/tunnel_table.h"

namespace etherip::control {

struct Config {
  bool allow = false;                     // no `allow` line: off
  std::vector<InterfaceSpec> interfaces;  // in file order
  std::vector<int> lines;                 // line of each [[interface]] header
};

// `path` only names the file in messages ("PATH:LINE: message"). Checks
// everything that can be checked without the running state: TOML syntax,
// known keys and types, interface names, addresses (same family, not
// unspecified or multicast), MTU range, lladdr, names given twice.
Result<Config> ParseConfig(std::string_view text, std::string_view path);
// Reads and parses a file; ENOENT when it does not exist.
Result<Config> LoadConfig(const std::string& path);

// A file that recreates `interfaces` and `allow`, every lladdr included.
std::string RenderConfig(bool allow, std::span<const InterfaceView> interfaces);

}  // namespace etherip::control
