#include "daemon/request_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace etherip {

std::string RequestHandler::HandleLine(std::string_view line) {
  auto request = control::DecodeRequest(line);
  if (request) return control::EncodeResponse(Handle(*request));
  if (auto held_back = refusals_.Admit()) {
    spdlog::warn("control: bad request: {}{}", request.error().message,
                 HeldBackNote(*held_back));
  }
  control::Response response;
  response.error = request.error();
  return control::EncodeResponse(response);
}

control::Response RequestHandler::Refuse(const control::Request& request,
                                         Error error) {
  if (auto held_back = refusals_.Admit()) {
    spdlog::warn("refused {}{}{}: {}{}", control::OpName(request.op),
                 request.name.empty() ? "" : " ", request.name, error.message,
                 HeldBackNote(*held_back));
  }
  control::Response response;
  response.subject = request.name;
  response.error = std::move(error);
  return response;
}

control::Response RequestHandler::Handle(const control::Request& request) {
  using control::Op;
  control::Response response;
  auto options = [&]() -> Result<std::vector<InterfaceOption>> {
    return ParseInterfaceOptions(request.options);
  };
  switch (request.op) {
    case Op::kCreate:
    case Op::kSet: {
      auto parsed = options();
      if (!parsed) return Refuse(request, parsed.error());
      Status done = request.op == Op::kCreate
                        ? manager_.Create(request.name, *parsed)
                        : manager_.Set(request.name, *parsed);
      if (!done) return Refuse(request, done.error());
      break;
    }
    case Op::kDestroy:
      if (auto done = manager_.Destroy(request.name); !done) {
        return Refuse(request, done.error());
      }
      break;
    case Op::kShow: {
      auto views = manager_.Show(
          request.name.empty() ? std::nullopt
                               : std::optional<std::string_view>(request.name));
      if (!views) return Refuse(request, views.error());
      response.interfaces = std::move(*views);
      break;
    }
    case Op::kStats:
      response.stats = manager_.Stats();
      break;
    case Op::kAllow:
      if (request.allow) {
        if (auto done = manager_.SetAllow(*request.allow); !done) {
          return Refuse(request, done.error());
        }
      }
      response.allow = manager_.allow();
      break;
    case Op::kShowconf:
      response.config = manager_.ShowConf();
      break;
    case Op::kReload:
      if (auto done = reload_(); !done) return Refuse(request, done.error());
      break;
  }
  return response;
}

}  // namespace etherip
