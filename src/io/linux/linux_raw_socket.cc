#include "io/linux/linux_raw_socket.h"

#include <fmt/format.h>
#include <netinet/ip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "io/linux/netns_enter.h"
#include "io/linux/system_error.h"

namespace etherip {
namespace {

// Socket buffers: room for bursts of full-size batches. The *FORCE
// variants exceed net.core.[rw]mem_max (needs CAP_NET_ADMIN); otherwise the
// kernel caps the plain request at that maximum.
constexpr int kSocketBufferBytes = 4 << 20;

constexpr int kOuterTos = kOuterIpv4Tos;              // IPTOS_LOWDELAY, SPEC 1
constexpr int kOuterTrafficClass = kOuterIpv6Tclass;  // SPEC 1
constexpr int kOuterHops = kOuterTtl;                 // TTL / hop limit, SPEC 1

void SetBufferSize(int fd, int force_option, int option) {
  const int bytes = kSocketBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof(bytes)) == 0) {
    return;
  }
  // Best effort: the default size works, only less well under bursts.
  (void)::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes));
}

}  // namespace

LinuxRawSocket::Batch::Batch() {
  std::memset(&messages, 0, sizeof(messages));
  std::memset(&iov, 0, sizeof(iov));
  std::memset(&names, 0, sizeof(names));
  for (size_t i = 0; i < kBatch; ++i) {
    msghdr& header = messages[i].msg_hdr;
    header.msg_name = &names[i];
    header.msg_iov = &iov[i];
    header.msg_iovlen = 1;
    header.msg_control = controls[i].bytes.data();
  }
}

Result<std::unique_ptr<LinuxRawSocket>> LinuxRawSocket::Open(
    Family family, std::string_view domain) {
  if (family != Family::kIpv4 && family != Family::kIpv6) {
    return Fail(EAFNOSUPPORT, "raw socket: address family not supported");
  }
  const int domain_family = family == Family::kIpv4 ? AF_INET : AF_INET6;
  UniqueFd fd;
  {
    // A socket belongs to the namespace it is created in, for good: enter
    // the domain for the socket() call only. The guard brings the thread
    // back on every path out of this block.
    auto inside = NetnsEnter::Enter(domain);
    if (!inside) return tl::unexpected(std::move(inside.error()));
    fd.reset(::socket(domain_family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      kProtocol));
    if (!fd.valid()) {
      const int error = errno;
      return FailSystem(error,
                        domain.empty()
                            ? fmt::format("raw {} socket", FamilyName(family))
                            : fmt::format("domain {}: raw {} socket", domain,
                                          FamilyName(family)));
    }
  }
  std::unique_ptr<LinuxRawSocket> socket(
      new LinuxRawSocket(std::move(fd), family, std::string(domain)));
  if (auto configured = socket->Configure(); !configured) {
    return tl::unexpected(std::move(configured.error()));
  }
  return socket;
}

std::string LinuxRawSocket::Describe() const {
  if (domain_.empty()) return fmt::format("raw {} socket", FamilyName(family_));
  return fmt::format("domain {}: raw {} socket", domain_, FamilyName(family_));
}

Status LinuxRawSocket::Configure() {
  struct Option {
    int level;
    int option;
    int value;
    const char* name;
  };
  static constexpr Option kIpv4Options[] = {
      // DF clear: the kernel fragments instead of refusing (SPEC 1).
      {IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, "IP_MTU_DISCOVER"},
      {IPPROTO_IP, IP_TOS, kOuterTos, "IP_TOS"},
      {IPPROTO_IP, IP_TTL, kOuterHops, "IP_TTL"},
      // The arrival interface and address with each packet (the core reads
      // the addresses from the IP header; this keeps the control messages
      // of both families alike).
      {IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO"},
  };
  static constexpr Option kIpv6Options[] = {
      // The source fragments packets larger than the path MTU, up to
      // 64 KiB, instead of refusing them with EMSGSIZE.
      {IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT,
       "IPV6_MTU_DISCOVER"},
      {IPPROTO_IPV6, IPV6_UNICAST_HOPS, kOuterHops, "IPV6_UNICAST_HOPS"},
      {IPPROTO_IPV6, IPV6_TCLASS, kOuterTrafficClass, "IPV6_TCLASS"},
      // Flow label 0: no label derived from the flow hash.
      {IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0, "IPV6_AUTOFLOWLABEL"},
      // The destination of each received packet, to find its tunnel; the
      // source comes as recvmmsg's address.
      {IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
  };
  const std::span<const Option> options =
      family_ == Family::kIpv4 ? std::span<const Option>(kIpv4Options)
                               : std::span<const Option>(kIpv6Options);
  for (const Option& option : options) {
    if (::setsockopt(fd_.get(), option.level, option.option, &option.value,
                     sizeof(option.value)) != 0) {
      return FailSystem(errno, fmt::format("{}: {}", Describe(), option.name));
    }
  }
  // The receive queue's drop count with every packet (qdrops, SPEC 5).
  const int on = 1;
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0) {
    return FailSystem(errno, fmt::format("{}: SO_RXQ_OVFL", Describe()));
  }
  SetBufferSize(fd_.get(), SO_RCVBUFFORCE, SO_RCVBUF);
  SetBufferSize(fd_.get(), SO_SNDBUFFORCE, SO_SNDBUF);
  return {};
}

InboundAddresses LinuxRawSocket::ReadControl(size_t i) {
  InboundAddresses where;
  const msghdr& header = receive_.messages[i].msg_hdr;
  if (family_ == Family::kIpv6) {
    const sockaddr_in6& from = receive_.names[i].v6;
    if (header.msg_namelen >= sizeof(sockaddr_in6) &&
        from.sin6_family == AF_INET6) {
      where.source = IpAddress::V6(
          std::span<const uint8_t, 16>(from.sin6_addr.s6_addr, 16));
    }
  }
  for (const cmsghdr* control = CMSG_FIRSTHDR(&header); control != nullptr;
       control = CMSG_NXTHDR(const_cast<msghdr*>(&header),
                             const_cast<cmsghdr*>(control))) {
    if (control->cmsg_level == SOL_SOCKET &&
        control->cmsg_type == SO_RXQ_OVFL &&
        control->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
      uint32_t count;
      std::memcpy(&count, CMSG_DATA(control), sizeof(count));
      // The kernel's count only grows, modulo 2^32: the unsigned difference
      // is the growth, across a wrap too.
      queue_drops_ += static_cast<uint32_t>(count - drop_count_);
      drop_count_ = count;
    } else if (control->cmsg_level == IPPROTO_IPV6 &&
               control->cmsg_type == IPV6_PKTINFO &&
               control->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(control), sizeof(info));
      where.destination = IpAddress::V6(
          std::span<const uint8_t, 16>(info.ipi6_addr.s6_addr, 16));
      // The arrival interface, which a zoned tunnel's scope must match.
      where.ingress = info.ipi6_ifindex;
    }
    in6_pktinfo info;
    std::memcpy(&info, CMSG_DATA(control), sizeof(info));
    where.destination =
        IpAddress::V6(std::span<const uint8_t, 16>(info.ipi6_addr.s6_addr, 16));
    // The arrival interface, which a zoned tunnel's scope must match.
    where.ingress = info.ipi6_ifindex;
  }
  return where;
}

uint64_t LinuxRawSocket::TakeQueueDrops() {
  return std::exchange(queue_drops_, 0);
}

Result<size_t> LinuxRawSocket::Receive(std::span<PacketBuffer> buffers,
                                       std::span<InboundAddresses> addresses) {
  const size_t wanted = std::min(buffers.size(), addresses.size());
  size_t total = 0;
  while (total < wanted) {
    const size_t chunk = std::min(wanted - total, kBatch);
    for (size_t i = 0; i < chunk; ++i) {
      const std::span<uint8_t> room = buffers[total + i].ResetForRead();
      receive_.iov[i] = {room.data(), room.size()};
      msghdr& header = receive_.messages[i].msg_hdr;
      // The kernel overwrites these lengths: reset them every time.
      header.msg_namelen = sizeof(SocketAddress);
      header.msg_controllen = kControlSize;
      header.msg_flags = 0;
    }
    const int n =
        ::recvmmsg(fd_.get(), receive_.messages.data(),
                   static_cast<unsigned>(chunk), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (total > 0) break;
      return FailSystem(error, fmt::format("{}: receive", Describe()));
    }
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      buffers[total + i].Commit(std::min<size_t>(receive_.messages[i].msg_len,
                                                 PacketBuffer::kMaxData));
      const InboundAddresses control = ReadControl(i);
      addresses[total + i] = family_ == Family::kIpv6
                                 ? control
                                 : TakeOuterHeader(family_, buffers[total + i]);
    }
    total += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < chunk) break;  // drained
  }
  return total;
}

namespace {

// Appends a control message of `level`, `type` and `value` at `used` bytes
// into `header`'s control buffer; returns the bytes used after it.
template <class T>
size_t AppendControl(msghdr& header, size_t used, int level, int type,
                     const T& value) {
  auto* bytes = static_cast<uint8_t*>(header.msg_control);
  cmsghdr control{};
  control.cmsg_level = level;
  control.cmsg_type = type;
  control.cmsg_len = CMSG_LEN(sizeof(value));
  std::memcpy(bytes + used, &control, sizeof(control));
  std::memcpy(CMSG_DATA(reinterpret_cast<cmsghdr*>(bytes + used)), &value,
              sizeof(value));
  return used + CMSG_SPACE(sizeof(value));
}

}  // namespace

bool LinuxRawSocket::PrepareSend(size_t i, const OutboundPacket& packet,
                                 const OutboundPacket* previous) {
  if (packet.destination.family() != family_) return false;
  const bool has_source = packet.source.family() != Family::kNone;
  if (has_source && packet.source.family() != family_) return false;

  static_assert(CMSG_SPACE(sizeof(in6_pktinfo)) + 3 * CMSG_SPACE(sizeof(int)) <=
                kControlSize);
  msghdr& header = send_.messages[i].msg_hdr;
  // sendmsg() does not write through iov_base; iovec just is not const.
  send_.iov[i] = {const_cast<uint8_t*>(packet.payload.data()),
                  packet.payload.size()};
  // The options that differ from the socket's defaults (Configure()).
  const OuterFields& outer = packet.outer;
  const bool ipv4 = family_ == Family::kIpv4;
  const bool ttl = outer.ttl != kOuterHops;
  const bool tos =
      outer.tos && *outer.tos != (ipv4 ? kOuterTos : kOuterTrafficClass);
  const bool mark = outer.fwmark != 0;
  // A batch of one tunnel: every message after the first shares the first
  // one's prepared destination and control messages.
  if (previous != nullptr && previous->source == packet.source &&
      previous->destination == packet.destination &&
      previous->scope == packet.scope && previous->outer.ttl == outer.ttl &&
      previous->outer.tos == outer.tos &&
      previous->outer.fwmark == outer.fwmark) {
    const msghdr& before = send_.messages[i - 1].msg_hdr;
    header.msg_name = before.msg_name;
    header.msg_namelen = before.msg_namelen;
    header.msg_control = before.msg_control;
    header.msg_controllen = before.msg_controllen;
    return true;
  }
  header.msg_name = &send_.names[i];
  header.msg_control = send_.controls[i].bytes.data();
  SocketAddress& name = send_.names[i];
  if (ipv4) {
    name.v4 = {};
    name.v4.sin_family = AF_INET;
    std::memcpy(&name.v4.sin_addr, packet.destination.bytes().data(), 4);
    header.msg_namelen = sizeof(sockaddr_in);
  } else {
    // sin6_port stays 0: for a raw IPv6 socket it would name the protocol.
    name.v6 = {};
    name.v6.sin6_family = AF_INET6;
    std::memcpy(&name.v6.sin6_addr, packet.destination.bytes().data(), 16);
    // A link-local destination is reachable only through its zone.
    name.v6.sin6_scope_id = packet.scope;
    header.msg_namelen = sizeof(sockaddr_in6);
  }
  size_t used = 0;
  // The source, per packet: the kernel uses ipi_spec_dst / ipi6_addr as the
  // source address; interface index 0 lets the route pick the interface,
  // a zoned (link-local) tunnel's scope names it.
  if (has_source && ipv4) {
    in_pktinfo info{};
    std::memcpy(&info.ipi_spec_dst, packet.source.bytes().data(), 4);
    used = AppendControl(header, used, IPPROTO_IP, IP_PKTINFO, info);
  } else if (has_source) {
    in6_pktinfo info{};
    std::memcpy(&info.ipi6_addr, packet.source.bytes().data(), 16);
    info.ipi6_ifindex = packet.scope;
    used = AppendControl(header, used, IPPROTO_IPV6, IPV6_PKTINFO, info);
  }
  if (ttl) {
    const int value = outer.ttl;
    used =
        ipv4 ? AppendControl(header, used, IPPROTO_IP, IP_TTL, value)
             : AppendControl(header, used, IPPROTO_IPV6, IPV6_HOPLIMIT, value);
  }
  if (tos) {
    const int value = *outer.tos;
    used = ipv4 ? AppendControl(header, used, IPPROTO_IP, IP_TOS, value)
                : AppendControl(header, used, IPPROTO_IPV6, IPV6_TCLASS, value);
  }
  if (mark) {
    const uint32_t value = outer.fwmark;
    used = AppendControl(header, used, SOL_SOCKET, SO_MARK, value);
  }
  header.msg_controllen = used;
  return true;
}

int LinuxRawSocket::SetDontFragment(bool df) {
  if (df == dont_fragment_) return 0;
  const int value = family_ == Family::kIpv4
                        ? (df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT)
                        : (df ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_DONT);
  const int rc = family_ == Family::kIpv4
                     ? ::setsockopt(fd_.get(), IPPROTO_IP, IP_MTU_DISCOVER,
                                    &value, sizeof(value))
                     : ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER,
                                    &value, sizeof(value));
  if (rc != 0) return errno;
  dont_fragment_ = df;
  return 0;
}

SendResult LinuxRawSocket::Send(std::span<const OutboundPacket> packets) {
  SendResult result;
  while (result.sent < packets.size()) {
    // A run: up to kBatch packets with the same DF, sent in one sendmmsg().
    const bool df = packets[result.sent].outer.df;
    const size_t limit = std::min(packets.size() - result.sent, kBatch);
    size_t run = 1;
    while (run < limit && packets[result.sent + run].outer.df == df) ++run;
    size_t prepared = 0;
    while (prepared < run &&
           PrepareSend(
               prepared, packets[result.sent + prepared],
               prepared > 0 ? &packets[result.sent + prepared - 1] : nullptr)) {
      ++prepared;
    }
    if (prepared > 0) {
      if (const int error = SetDontFragment(df); error != 0) {
        result.error = error;
        return result;
      }
    }
    // sendmmsg() stops at the first failing message and reports only how
    // many went out before it (its errno is lost), so send from the failed
    // message again: when it fails first, its errno comes back.
    size_t done = 0;
    while (done < prepared) {
      const int n =
          ::sendmmsg(fd_.get(), send_.messages.data() + done,
                     static_cast<unsigned>(prepared - done), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        result.error = errno;
        return result;
      }
      if (n == 0) {  // never for a non-empty batch; do not spin on it
        result.error = EIO;
        return result;
      }
      done += static_cast<size_t>(n);
      result.sent += static_cast<size_t>(n);
    }
    if (prepared < run) {
      result.error = EAFNOSUPPORT;
      return result;
    }
  }
  return result;
}

}  // namespace etherip
