#include "daemon/log_text.h"

#include <fmt/format.h>

#include <cstdint>

namespace etherip {
namespace {

// The length of the valid UTF-8 sequence at the start of `text` that is
// not a C1 control, or 0.
size_t PrintableSequence(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  size_t length = 0;
  uint32_t code = 0;
  if (lead >= 0x20 && lead < 0x7f) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;  // control, DEL, continuation byte or invalid lead
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3f);
  }
  const bool overlong =
      (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  const bool surrogate = code >= 0xd800 && code <= 0xdfff;
  const bool c1 = code >= 0x80 && code <= 0x9f;
  if (overlong || surrogate || c1 || code > 0x10ffff) return 0;
  return length;
}

}  // namespace

std::string LogSafe(std::string_view text, size_t max_bytes) {
  std::string safe;
  safe.reserve(std::min(text.size(), max_bytes) + 16);
  size_t at = 0;
  while (at < text.size()) {
    std::string_view piece;
    char escaped[5];
    size_t consumed = PrintableSequence(text.substr(at));
    if (consumed > 0 && text[at] != '\\') {
      piece = text.substr(at, consumed);
    } else if (text[at] == '\\') {
      consumed = 1;
      piece = "\\\\";
    } else {
      consumed = 1;
      fmt::format_to_n(escaped, sizeof escaped, "\\x{:02x}",
                       static_cast<uint8_t>(text[at]));
      piece = std::string_view(escaped, 4);
    }
    if (safe.size() + piece.size() > max_bytes) {
      safe += fmt::format("... ({} more bytes)", text.size() - at);
      break;
    }
    safe += piece;
    at += consumed;
  }
  return safe;
}

void LogSafeSink::log(const spdlog::details::log_msg& message) {
  const std::string_view payload(message.payload.data(),
                                 message.payload.size());
  const std::string safe = LogSafe(payload);
  if (safe == payload) {
    inner_->log(message);
    return;
  }
  spdlog::details::log_msg copy = message;
  copy.payload = spdlog::string_view_t(safe.data(), safe.size());
  inner_->log(copy);
}

}  // namespace etherip
