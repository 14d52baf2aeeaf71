// Fuzzes the control protocol decoders with any bytes as one line: they must
// return a value (never throw, never crash), and whatever they accept must
// survive an encode/decode round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/protocol.h"
#include "fuzz_check.h"

namespace {

using namespace etherip;
using fuzz::Check;
using namespace etherip::control;

void CheckRequest(std::string_view line) {
  auto request = DecodeRequest(line);
  if (!request) {
    Check(request.error().code == EPROTO);
    return;
  }
  const std::string encoded = EncodeRequest(*request);
  Check(encoded.find('\n') == std::string::npos);
  auto again = DecodeRequest(encoded);
  Check(again.has_value());
  Check(*again == *request);
}

void CheckResponse(std::string_view line) {
  auto response = DecodeResponse(line);
  if (!response) {
    Check(response.error().code == EPROTO);
    return;
  }
  const std::string encoded = EncodeResponse(*response);
  Check(encoded.find('\n') == std::string::npos);
  auto again = DecodeResponse(encoded);
  Check(again.has_value());
  Check(again->error.has_value() == response->error.has_value());
  if (response->error) {
    Check(again->error->code == response->error->code);
    Check(again->error->message == response->error->message);
  }
  Check(again->subject == response->subject);
  Check(again->interfaces == response->interfaces);
  Check(again->stats == response->stats);
  Check(again->allow == response->allow);
  Check(again->config == response->config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  CheckRequest(line);
  CheckResponse(line);
  return 0;
}
