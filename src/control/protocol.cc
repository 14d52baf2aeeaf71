#include "control/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <span>
#include <utility>

namespace etherip::control {
namespace {

using Json = nlohmann::json;

struct OpInfo {
  Op op;
  std::string_view name;
};

constexpr std::array kOps = {
    OpInfo{Op::kCreate, "create"},     OpInfo{Op::kDestroy, "destroy"},
    OpInfo{Op::kSet, "set"},           OpInfo{Op::kShow, "show"},
    OpInfo{Op::kStats, "stats"},       OpInfo{Op::kAllow, "allow"},
    OpInfo{Op::kShowconf, "showconf"}, OpInfo{Op::kReload, "reload"},
};

// The largest errno value Linux defines is below this; anything else in a
// response is not an errno.
constexpr int64_t kMaxErrno = 4095;

tl::unexpected<Error> Malformed(std::string what) {
  return Fail(EPROTO, std::move(what));
}

// Dumps without ever throwing (nlohmann throws on invalid UTF-8 by default).
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Parses one line of at most `max_bytes` as JSON. nlohmann reports syntax
// errors by exception; this is the boundary where they become values.
Result<Json> ParseLine(std::string_view line, std::string_view what,
                       size_t max_bytes) {
  if (line.size() > max_bytes) {
    return Malformed(fmt::format("{} longer than {} bytes", what, max_bytes));
  }
  try {
    return Json::parse(line);
  } catch (const Json::exception& e) {
    return Malformed(fmt::format("{} is not JSON: {}", what, e.what()));
  }
}

// Typed field access on a JSON object: each returns EPROTO naming the field
// when it is present with the wrong type, and `required` decides whether
// absence is an error.
class Fields {
 public:
  Fields(const Json& object, std::string context)
      : object_(object), context_(std::move(context)) {}

  const Json* Find(std::string_view key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  tl::unexpected<Error> Missing(std::string_view key) const {
    return Malformed(fmt::format("{}: \"{}\" is missing", context_, key));
  }
  tl::unexpected<Error> WrongType(std::string_view key,
                                  std::string_view expected) const {
    return Malformed(
        fmt::format("{}: \"{}\" is not {}", context_, key, expected));
  }

  Result<std::optional<std::string>> OptionalString(
      std::string_view key) const {
    const Json* value = Find(key);
    if (value == nullptr) return std::optional<std::string>();
    if (!value->is_string()) return WrongType(key, "a string");
    return std::optional<std::string>(value->get_ref<const std::string&>());
  }
  Result<std::string> String(std::string_view key) const {
    auto value = OptionalString(key);
    if (!value) return tl::unexpected(value.error());
    if (!*value) return Missing(key);
    return std::move(**value);
  }

  Result<std::optional<bool>> OptionalBool(std::string_view key) const {
    const Json* value = Find(key);
    if (value == nullptr) return std::optional<bool>();
    if (!value->is_boolean()) return WrongType(key, "true or false");
    return std::optional<bool>(value->get<bool>());
  }
  Result<bool> Bool(std::string_view key) const {
    auto value = OptionalBool(key);
    if (!value) return tl::unexpected(value.error());
    if (!*value) return Missing(key);
    return **value;
  }

  // A non-negative integer no larger than `max`.
  Result<std::optional<uint64_t>> OptionalUnsigned(
      std::string_view key,
      uint64_t max = std::numeric_limits<uint64_t>::max()) const {
    const Json* value = Find(key);
    if (value == nullptr) return std::optional<uint64_t>();
    if (!value->is_number_unsigned() || value->get<uint64_t>() > max) {
      return WrongType(key, fmt::format("an integer from 0 to {}", max));
    }
    return std::optional<uint64_t>(value->get<uint64_t>());
  }
  Result<uint64_t> Unsigned(
      std::string_view key,
      uint64_t max = std::numeric_limits<uint64_t>::max()) const {
    auto value = OptionalUnsigned(key, max);
    if (!value) return tl::unexpected(value.error());
    if (!*value) return Missing(key);
    return **value;
  }

  Result<std::vector<std::string>> StringArray(std::string_view key) const {
    const Json* value = Find(key);
    if (value == nullptr) return std::vector<std::string>();
    if (!value->is_array()) return WrongType(key, "an array of strings");
    std::vector<std::string> strings;
    strings.reserve(value->size());
    for (const Json& element : *value) {
      if (!element.is_string()) return WrongType(key, "an array of strings");
      strings.push_back(element.get_ref<const std::string&>());
    }
    return strings;
  }

  // EPROTO for the first key not in `allowed`.
  Status OnlyKeys(std::span<const std::string_view> allowed) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return Malformed(
            fmt::format("{}: unknown field \"{}\"", context_, key));
      }
    }
    return {};
  }

 private:
  const Json& object_;
  std::string context_;
};

// The fields a request of each op may carry (SPEC 6 command arguments).
std::span<const std::string_view> FieldsOf(Op op) {
  static constexpr std::string_view kWithOptions[] = {"op", "name", "options"};
  static constexpr std::string_view kWithName[] = {"op", "name"};
  static constexpr std::string_view kWithValue[] = {"op", "value"};
  static constexpr std::string_view kBare[] = {"op"};
  switch (op) {
    case Op::kCreate:
    case Op::kSet:
      return kWithOptions;
    case Op::kDestroy:
    case Op::kShow:
      return kWithName;
    case Op::kAllow:
      return kWithValue;
    case Op::kStats:
    case Op::kShowconf:
    case Op::kReload:
      break;
  }
  return kBare;
}

// A counters object: every counter of `fields` (SPEC 5's), by name. Those
// from `first_added` on were added after the first release: a daemon that
// predates them sends none, and they read as 0.
template <typename Values, size_t kCount>
Result<Values> DecodeCounters(const Json& json, std::string context,
                              const CounterField<Values> (&fields)[kCount],
                              std::string_view first_added) {
  if (!json.is_object()) return Malformed(context + " is not an object");
  Fields reader(json, std::move(context));
  Values values{};
  bool added = false;
  for (const auto& field : fields) {
    added = added || field.name == first_added;
    auto value = added ? reader.OptionalUnsigned(field.name)
                       : reader.Unsigned(field.name).map([](uint64_t v) {
                           return std::optional(v);
                         });
    if (!value) return tl::unexpected(value.error());
    values.*field.value = value->value_or(0);
  }
  return values;
}

Result<InterfaceCounterValues> DecodeInterfaceCounters(const Json& json,
                                                       std::string context) {
  return DecodeCounters(json, std::move(context), kInterfaceCounterFields,
                        "idrops");
}

Result<GlobalCounterValues> DecodeStats(const Json& json) {
  return DecodeCounters(json, "response: stats", kGlobalCounterFields,
                        "idrops");
}

Result<InterfaceView> DecodeInterface(const Json& json, size_t index) {
  const std::string context = fmt::format("response: interfaces[{}]", index);
  if (!json.is_object()) return Malformed(context + " is not an object");
  Fields fields(json, context);
  InterfaceView view;

  auto name = fields.String("name");
  if (!name) return tl::unexpected(name.error());
  view.name = std::move(*name);

  auto source = fields.String("source");
  if (!source) return tl::unexpected(source.error());
  auto destination = fields.String("destination");
  if (!destination) return tl::unexpected(destination.error());
  if (!source->empty() || !destination->empty()) {
    auto tunnel = ParseTunnel(*source, *destination);
    if (!tunnel) return Malformed(context + ": " + tunnel.error().message);
    view.settings.tunnel = *tunnel;
  }

  // Absent from daemons before host names and zones: the literals are
  // what the tunnel uses.
  if (fields.Find("source_address") != nullptr ||
      fields.Find("destination_address") != nullptr) {
    auto used_source = fields.String("source_address");
    if (!used_source) return tl::unexpected(used_source.error());
    auto used_destination = fields.String("destination_address");
    if (!used_destination) return tl::unexpected(used_destination.error());
    if (!used_source->empty() || !used_destination->empty()) {
      auto from = IpAddress::Parse(*used_source);
      auto to = IpAddress::Parse(*used_destination);
      if (!from || !to) {
        return Malformed(context + ": " +
                         (!from ? from.error() : to.error()).message);
      }
      view.addresses = Tunnel{*from, *to};
    }
  } else if (view.settings.tunnel) {
    view.addresses = view.settings.tunnel->LiteralAddresses();
  }
  if (fields.Find("unresolved") != nullptr) {
    auto unresolved = fields.String("unresolved");
    if (!unresolved) return tl::unexpected(unresolved.error());
    view.unresolved = std::move(*unresolved);
  }

  auto domain = fields.String("domain");
  if (!domain) return tl::unexpected(domain.error());
  view.settings.domain = std::move(*domain);

  auto up = fields.Bool("up");
  if (!up) return tl::unexpected(up.error());
  view.settings.up = *up;

  auto running = fields.Bool("running");
  if (!running) return tl::unexpected(running.error());
  view.running = *running;

  auto mtu = fields.Unsigned("mtu", std::numeric_limits<uint32_t>::max());
  if (!mtu) return tl::unexpected(mtu.error());
  view.settings.mtu = static_cast<uint32_t>(*mtu);
  // Absent from daemons before `mtu auto`: a fixed MTU.
  if (fields.Find("mtu_auto") != nullptr) {
    auto mtu_auto = fields.Bool("mtu_auto");
    if (!mtu_auto) return tl::unexpected(mtu_auto.error());
    view.settings.mtu_auto = *mtu_auto;
  }

  auto lladdr_text = fields.String("lladdr");
  if (!lladdr_text) return tl::unexpected(lladdr_text.error());
  auto lladdr = MacAddress::Parse(*lladdr_text);
  if (!lladdr) return Malformed(context + ": " + lladdr.error().message);
  view.settings.lladdr = *lladdr;

  // Absent from daemons before header modes: standard.
  if (fields.Find("header") != nullptr) {
    auto header_text = fields.String("header");
    if (!header_text) return tl::unexpected(header_text.error());
    auto header = ParseHeaderMode(*header_text);
    if (!header) return Malformed(context + ": " + header.error().message);
    view.settings.header = *header;
  }

  // Absent from daemons before `master`: none.
  if (fields.Find("master") != nullptr) {
    auto master = fields.String("master");
    if (!master) return tl::unexpected(master.error());
    view.settings.master = std::move(*master);
  }

  // Absent from daemons before EoIP, null for a standard tunnel.
  if (const Json* eoip = fields.Find("eoip"); eoip && !eoip->is_null()) {
    auto id = fields.Unsigned("eoip", kMaxEoipId);
    if (!id) return tl::unexpected(id.error());
    view.settings.eoip = static_cast<uint16_t>(*id);
    if (const Json* keepalive = fields.Find("keepalive");
        keepalive && !keepalive->is_null()) {
      auto seconds = fields.Unsigned("keepalive", kMaxKeepalive);
      if (!seconds) return tl::unexpected(seconds.error());
      view.settings.keepalive = static_cast<uint32_t>(*seconds);
    }
  }
  // Outer header options; absent from daemons before them: the defaults.
  auto ttl = fields.OptionalUnsigned("ttl", 255);
  if (!ttl) return tl::unexpected(ttl.error());
  if (*ttl) {
    auto valid = CheckTtl(static_cast<int64_t>(**ttl));
    if (!valid) return Malformed(context + ": " + valid.error().message);
    view.settings.ttl = *valid;
  }
  auto df = fields.OptionalBool("df");
  if (!df) return tl::unexpected(df.error());
  view.settings.df = df->value_or(false);
  if (const Json* tos = fields.Find("tos"); tos != nullptr) {
    if (tos->is_number_unsigned() && tos->get<uint64_t>() <= 255) {
      view.settings.tos =
          OuterTos::Value(static_cast<uint8_t>(tos->get<uint64_t>()));
    } else if (tos->is_string() &&
               (tos->get_ref<const std::string&>() == "inherit" ||
                tos->get_ref<const std::string&>() == "default")) {
      view.settings.tos = *ParseTos(tos->get_ref<const std::string&>());
    } else {
      return fields.WrongType("tos",
                              "an integer from 0 to 255, \"inherit\" or "
                              "\"default\"");
    }
  }
  auto fwmark = fields.OptionalUnsigned("fwmark", UINT32_MAX);
  if (!fwmark) return tl::unexpected(fwmark.error());
  view.settings.fwmark = static_cast<uint32_t>(fwmark->value_or(0));

  const Json* counters = fields.Find("counters");
  if (counters == nullptr) return fields.Missing("counters");
  auto counter_values =
      DecodeInterfaceCounters(*counters, context + ": counters");
  if (!counter_values) return tl::unexpected(counter_values.error());
  view.counters = *counter_values;
  return view;
}

Result<Error> DecodeError(const Json& json) {
  if (!json.is_object())
    return Malformed("response: \"error\" is not an object");
  Fields fields(json, "response: error");
  auto name = fields.String("errno");
  if (!name) return tl::unexpected(name.error());
  auto code = fields.Unsigned("code", kMaxErrno);
  if (!code) return tl::unexpected(code.error());
  auto message = fields.String("message");
  if (!message) return tl::unexpected(message.error());
  if (*code == 0) return Malformed("response: error: \"code\" is 0");
  return Error{static_cast<int>(*code), std::move(*message)};
}

}  // namespace

Response RefusalResponse(Error error, std::string subject) {
  Response response;
  response.error = std::move(error);
  response.subject = std::move(subject);
  return response;
}

std::string_view OpName(Op op) {
  for (const auto& info : kOps) {
    if (info.op == op) return info.name;
  }
  return "unknown";
}

std::optional<Op> OpFromName(std::string_view name) {
  for (const auto& info : kOps) {
    if (info.name == name) return info.op;
  }
  return std::nullopt;
}

std::string EncodeRequest(const Request& request) {
  Json json = {{"op", OpName(request.op)}};
  switch (request.op) {
    case Op::kCreate:
    case Op::kSet:
      json["name"] = request.name;
      json["options"] = request.options;
      break;
    case Op::kDestroy:
      json["name"] = request.name;
      break;
    case Op::kShow:
      if (!request.name.empty()) json["name"] = request.name;
      break;
    case Op::kAllow:
      if (request.allow) json["value"] = *request.allow;
      break;
    case Op::kStats:
    case Op::kShowconf:
    case Op::kReload:
      break;
  }
  return Dump(json);
}

Result<Request> DecodeRequest(std::string_view line) {
  auto json = ParseLine(line, "request", kMaxLineBytes);
  if (!json) return tl::unexpected(json.error());
  if (!json->is_object()) return Malformed("request is not a JSON object");

  Fields fields(*json, "request");
  auto op_name = fields.String("op");
  if (!op_name) return tl::unexpected(op_name.error());
  const std::optional<Op> op = OpFromName(*op_name);
  if (!op)
    return Malformed(fmt::format("request: unknown op \"{}\"", *op_name));

  Request request;
  request.op = *op;
  Fields op_fields(*json, fmt::format("{} request", *op_name));
  if (auto only = op_fields.OnlyKeys(FieldsOf(*op)); !only) {
    return tl::unexpected(only.error());
  }
  switch (*op) {
    case Op::kCreate:
    case Op::kSet:
    case Op::kDestroy: {
      auto name = op_fields.String("name");
      if (!name) return tl::unexpected(name.error());
      request.name = std::move(*name);
      auto options = op_fields.StringArray("options");
      if (!options) return tl::unexpected(options.error());
      request.options = std::move(*options);
      break;
    }
    case Op::kShow: {
      auto name = op_fields.OptionalString("name");
      if (!name) return tl::unexpected(name.error());
      request.name = name->value_or("");
      break;
    }
    case Op::kAllow: {
      auto value = op_fields.OptionalBool("value");
      if (!value) return tl::unexpected(value.error());
      request.allow = *value;
      break;
    }
    case Op::kStats:
    case Op::kShowconf:
    case Op::kReload:
      break;
  }
  return request;
}

namespace {

// Every counter of `values` by its SPEC 5 name, in SPEC 5's order.
template <typename Values, size_t N>
Json CountersJsonOf(const Values& values,
                    const CounterField<Values> (&fields)[N]) {
  Json json = Json::object();
  for (const auto& field : fields) {
    json[std::string(field.name)] = values.*field.value;
  }
  return json;
}

Json CountersJson(const InterfaceCounterValues& counters) {
  return CountersJsonOf(counters, kInterfaceCounterFields);
}
Json CountersJson(const GlobalCounterValues& counters) {
  return CountersJsonOf(counters, kGlobalCounterFields);
}

}  // namespace

nlohmann::json InterfaceJson(const InterfaceView& view) {
  const auto& settings = view.settings;
  const auto& counters = view.counters;
  Json tos;
  if (settings.tos.kind == OuterTos::Kind::kValue) {
    tos = settings.tos.value;
  } else {
    tos = settings.tos.ToString();  // "default" or "inherit"
  }
  return Json{
      {"name", view.name},
      {"source", settings.tunnel ? settings.tunnel->source.ToString() : ""},
      {"destination",
       settings.tunnel ? settings.tunnel->destination.ToString() : ""},
      {"source_address",
       view.addresses ? view.addresses->source.ToString() : ""},
      {"destination_address",
       view.addresses ? view.addresses->destination.ToString() : ""},
      {"unresolved", view.unresolved},
      {"domain", settings.domain},
      {"up", settings.up},
      {"running", view.running},
      {"mtu", settings.mtu},
      {"mtu_auto", settings.mtu_auto},
      {"lladdr", settings.lladdr.ToString()},
      {"header", HeaderModeName(settings.header)},
      {"master", settings.master},
      {"eoip", settings.eoip ? Json(*settings.eoip) : Json(nullptr)},
      {"keepalive", settings.eoip ? Json(settings.keepalive) : Json(nullptr)},
      {"ttl", settings.ttl},
      {"df", settings.df},
      {"tos", std::move(tos)},
      {"fwmark", settings.fwmark},
      {"counters", CountersJson(counters)},
  };
}

nlohmann::json StatsJson(const GlobalCounterValues& stats) {
  return CountersJson(stats);
}

std::string EncodeResponse(const Response& response) {
  Json json = {{"ok", !response.error.has_value()}};
  if (response.error) {
    json["error"] = {{"errno", ErrnoName(response.error->code)},
                     {"code", response.error->code},
                     {"message", response.error->message}};
  }
  if (!response.subject.empty()) json["subject"] = response.subject;
  if (!response.interfaces.empty()) {
    Json interfaces = Json::array();
    for (const auto& view : response.interfaces) {
      interfaces.push_back(InterfaceJson(view));
    }
    json["interfaces"] = std::move(interfaces);
  }
  if (response.stats) json["stats"] = StatsJson(*response.stats);
  if (response.allow) json["allow"] = *response.allow;
  if (!response.config.empty()) json["config"] = response.config;
  return Dump(json);
}

Result<Response> DecodeResponse(std::string_view line) {
  auto json = ParseLine(line, "response", kMaxResponseBytes);
  if (!json) return tl::unexpected(json.error());
  if (!json->is_object()) return Malformed("response is not a JSON object");

  Fields fields(*json, "response");
  Response response;
  auto ok = fields.Bool("ok");
  if (!ok) return tl::unexpected(ok.error());
  const Json* error = fields.Find("error");
  if (*ok && error != nullptr) {
    return Malformed("response: \"ok\" is true but there is an \"error\"");
  }
  if (!*ok) {
    if (error == nullptr) return fields.Missing("error");
    auto decoded = DecodeError(*error);
    if (!decoded) return tl::unexpected(decoded.error());
    response.error = std::move(*decoded);
  }

  auto subject = fields.OptionalString("subject");
  if (!subject) return tl::unexpected(subject.error());
  response.subject = subject->value_or("");

  if (const Json* interfaces = fields.Find("interfaces")) {
    if (!interfaces->is_array()) {
      return fields.WrongType("interfaces", "an array");
    }
    for (size_t i = 0; i < interfaces->size(); ++i) {
      auto view = DecodeInterface((*interfaces)[i], i);
      if (!view) return tl::unexpected(view.error());
      response.interfaces.push_back(std::move(*view));
    }
  }
  if (const Json* stats = fields.Find("stats")) {
    auto decoded = DecodeStats(*stats);
    if (!decoded) return tl::unexpected(decoded.error());
    response.stats = *decoded;
  }
  auto allow = fields.OptionalBool("allow");
  if (!allow) return tl::unexpected(allow.error());
  response.allow = *allow;
  auto config = fields.OptionalString("config");
  if (!config) return tl::unexpected(config.error());
  response.config = config->value_or("");
  return response;
}

Result<std::optional<std::string>> LineAssembler::Next() {
  const size_t newline = buffer_.find('\n', scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size();
    if (pending() > max_line_bytes_) {
      return Fail(EPROTO,
                  fmt::format("line longer than {} bytes", max_line_bytes_));
    }
    return std::optional<std::string>();
  }
  if (newline - consumed_ > max_line_bytes_) {
    return Fail(EPROTO,
                fmt::format("line longer than {} bytes", max_line_bytes_));
  }
  if (consumed_ == 0 && newline + 1 == buffer_.size()) {
    // The buffer is exactly one line, as a response usually is: hand the
    // buffer over instead of copying what may be many megabytes.
    std::string line = std::move(buffer_);
    line.pop_back();
    buffer_.clear();
    scanned_ = 0;
    return std::optional<std::string>(std::move(line));
  }
  std::string line = buffer_.substr(consumed_, newline - consumed_);
  consumed_ = newline + 1;
  scanned_ = consumed_;
  // Drop what was returned once it is most of the buffer, so the buffer
  // stays within a line or two of the limit however long the stream runs.
  if (consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    scanned_ -= consumed_;
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(line));
}

}  // namespace etherip::control
