// Text from outside (interface and domain names, paths, addresses as
// typed, the kernel's link names) reaches the log inside messages. These
// make every log line one line, readable and bounded, whatever a client or
// another program put in that text.
#pragma once

#include <spdlog/sinks/sink.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace etherip {

inline constexpr size_t kMaxLogMessageBytes = 1024;

// `text` with every byte that could end, forge or hide a line escaped as
// \xNN: C0 controls (newline and carriage return included), DEL, C1
// controls and bytes that are not valid UTF-8; a backslash becomes \\, so
// an escape in the output is never one the input typed. Valid UTF-8 is
// kept. Longer than `max_bytes` after escaping: cut (never inside an
// escape or a character) and ended with "... (N more bytes)", N counting
// the input left out.
std::string LogSafe(std::string_view text,
                    size_t max_bytes = kMaxLogMessageBytes);

// A sink that hands `inner` every record with its message made LogSafe:
// the one place all log lines pass, whatever the destination (stderr,
// syslog).
class LogSafeSink final : public spdlog::sinks::sink {
 public:
  explicit LogSafeSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& message) override;
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override {
    inner_->set_pattern(pattern);
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr inner_;
};

}  // namespace etherip
