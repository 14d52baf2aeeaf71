#include "io/linux/netlink_ask.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "io/linux/system_error.h"

namespace etherip {
namespace {

int CollectAckText(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == NLMSGERR_ATTR_MSG &&
      mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0) {
    *static_cast<const char**>(data) = mnl_attr_get_str(attribute);
  }
  return MNL_CB_OK;
}

// The error an NLMSG_ERROR message carries: its errno, named by `context`,
// with the kernel's extended-ack text in parentheses when it gave one.
// nullopt for an acknowledgement (errno 0).
std::optional<Error> ErrorOf(const nlmsghdr* message,
                             std::string_view context) {
  if (message->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
    return SystemError(EPROTO, context);
  }
  const auto* error =
      static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
  if (error->error == 0) return std::nullopt;
  Error failure = SystemError(-error->error, context);
  if (message->nlmsg_flags & NLM_F_ACK_TLVS) {
    // The TLVs follow the echoed request, which is only the header when
    // the request was capped (NETLINK_CAP_ACK).
    unsigned offset = sizeof(nlmsgerr);
    if (!(message->nlmsg_flags & NLM_F_CAPPED)) {
      offset += error->msg.nlmsg_len - sizeof(nlmsghdr);
    }
    const char* text = nullptr;
    if (mnl_nlmsg_size(offset) <= message->nlmsg_len) {
      mnl_attr_parse(message, offset, CollectAckText, &text);
    }
    if (text != nullptr && text[0] != '\0') {
      failure.message += fmt::format(" ({})", text);
    }
  }
  return failure;
}

}  // namespace

Result<NetlinkAnswer> AskNetlink(
    mnl_socket* socket, nlmsghdr* request, uint32_t sequence,
    std::span<uint8_t> buffer, std::string_view context,
    const std::function<void(const nlmsghdr*)>& reply) {
  request->nlmsg_flags |= NLM_F_REQUEST;
  request->nlmsg_seq = sequence;
  if (mnl_socket_sendto(socket, request, request->nlmsg_len) < 0) {
    return FailSystem(errno, fmt::format("{}: send", context));
  }
  const bool dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  const bool acked = (request->nlmsg_flags & NLM_F_ACK) != 0;
  const uint32_t port_id = mnl_socket_get_portid(socket);
  NetlinkAnswer answer;
  for (;;) {
    const ssize_t received =
        mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      return FailSystem(errno, fmt::format("{}: receive", context));
    }
    int left = static_cast<int>(received);
    for (auto* message = reinterpret_cast<const nlmsghdr*>(buffer.data());
         mnl_nlmsg_ok(message, left);
         message = mnl_nlmsg_next(message, &left)) {
      if (message->nlmsg_seq != sequence || message->nlmsg_pid != port_id) {
        continue;
      }
      if (message->nlmsg_flags & NLM_F_DUMP_INTR) answer.interrupted = true;
      if (message->nlmsg_type == NLMSG_ERROR) {
        auto error = ErrorOf(message, context);
        if (!error) return answer;
        return tl::unexpected(std::move(*error));
      }
      if (message->nlmsg_type == NLMSG_DONE) {
        // The payload of DONE is the dump's final status.
        if (message->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
          int status;
          std::memcpy(&status, mnl_nlmsg_get_payload(message), sizeof(status));
          if (status < 0) {
            return FailSystem(-status, context);
          }
        }
        return answer;
      }
      reply(message);
      // Without a dump, one reply is the answer; with NLM_F_ACK, the
      // acknowledgement after it ends it.
      if (!dump && !acked) return answer;
    }
  }
}

}  // namespace etherip
