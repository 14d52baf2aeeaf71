// flood_sender: a test helper for tests/e2e/test_flood.py. Sends COUNT
// random and malformed IPv4 protocol-97 (EtherIP) packets to DEST as fast
// as sendmmsg() goes, from a raw IPPROTO_RAW socket (the IP header is ours,
// so the outer source can be any address), and prints one JSON object with
// how many of each kind the kernel accepted.
//
//   flood_sender --dest A --peer A --stranger A --down-peer A
//                [--count N] [--seed S]
//
// Kinds (each packet picks one at random; every one stays under 1500 bytes
// so that nothing is fragmented):
//   valid     EtherIP 0x30 0x00 + an Ethernet frame of 14..1400 bytes from
//             --peer: the real tunnel (ipackets);
//   stranger  the same from --stranger, for which no tunnel exists
//             (noifdrops);
//   down      the same from --down-peer, whose interface is down (idrops);
//   version   a version nibble other than 3 (adrops);
//   reserved  reserved bits set (adrops);
//   short     0 or 1 byte of payload (adrops);
//   truncated a good header and 0..13 bytes of frame (adrops);
//   random    random bytes from --peer (almost always adrops).
// Inner frames go to a unicast MAC nobody has, with ethertype 0x88b5 (local
// experimental), from one of 16 locally administered source MACs (a bridge
// learns only those 16).
//
// Addresses must be documentation addresses (SPEC 7); the caller runs this
// inside its own network namespace. Exit status 0, 1 on a system error,
// 2 on a usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kEtherIp = 97;
constexpr size_t kBatch = 64;
constexpr size_t kMaxPacket = 1500;
constexpr size_t kIpHeader = 20;

enum Kind {
  kValid,
  kStranger,
  kDown,
  kVersion,
  kReserved,
  kShort,
  kTruncated,
  kRandom,
  kKinds
};
constexpr const char* kKindNames[kKinds] = {"valid",     "stranger", "down",
                                            "version",   "reserved", "short",
                                            "truncated", "random"};

// xorshift64*: fast, and the same stream for the same seed.
struct Random {
  uint64_t state;
  uint64_t Next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  void Fill(uint8_t* bytes, size_t size) {
    for (size_t i = 0; i < size; i += 8) {
      const uint64_t word = Next();
      std::memcpy(bytes + i, &word, std::min<size_t>(8, size - i));
    }
  }
};

struct Options {
  in_addr dest{}, peer{}, stranger{}, down{};
  uint64_t count = 1000000;
  uint64_t seed = 1;
};

int Usage() {
  std::fprintf(stderr,
               "usage: flood_sender --dest A --peer A --stranger A "
               "--down-peer A [--count N] [--seed S]\n");
  return 2;
}

bool ParseAddress(const char* text, in_addr* out) {
  return inet_pton(AF_INET, text, out) == 1;
}

// A frame length: mostly small (many packets per second), sometimes up to
// 1400 bytes.
size_t FrameLength(Random& random) {
  return random.Below(8) == 0 ? 14 + random.Below(1400 - 14 + 1)
                              : 14 + random.Below(200);
}

// Writes the payload (from the EtherIP header on) of one packet of `kind`
// into `payload`; returns its length and sets the outer source.
size_t BuildPayload(Kind kind, const Options& options, Random& random,
                    uint8_t* payload, in_addr* source) {
  *source = options.peer;
  size_t length = 0;
  switch (kind) {
    case kStranger:
      *source = options.stranger;
      [[fallthrough]];
    case kDown:
      if (kind == kDown) *source = options.down;
      [[fallthrough]];
    case kValid: {
      length = 2 + FrameLength(random);
      payload[0] = 0x30;
      payload[1] = 0x00;
      random.Fill(payload + 2, length - 2);
      static constexpr uint8_t kDestination[6] = {0x02, 0x00, 0x5e,
                                                  0xff, 0x00, 0x01};
      std::memcpy(payload + 2, kDestination, 6);
      const uint8_t source_mac[6] = {
          0x02, 0x00, 0x00, 0x00, 0xff, static_cast<uint8_t>(random.Below(16))};
      std::memcpy(payload + 8, source_mac, 6);
      payload[14] = 0x88;
      payload[15] = 0xb5;
      break;
    }
    case kVersion:
      length = 2 + FrameLength(random);
      random.Fill(payload, length);
      // Any high nibble but 3.
      payload[0] = static_cast<uint8_t>(((3 + 1 + random.Below(15)) % 16) << 4 |
                                        (payload[0] & 0x0f));
      break;
    case kReserved:
      length = 2 + FrameLength(random);
      random.Fill(payload, length);
      payload[0] = 0x30;
      payload[1] = static_cast<uint8_t>(1 + random.Below(255));
      break;
    case kShort:
      length = random.Below(2);
      random.Fill(payload, length);
      break;
    case kTruncated:
      length = 2 + random.Below(14);
      random.Fill(payload, length);
      payload[0] = 0x30;
      payload[1] = 0x00;
      break;
    case kRandom:
    default:
      length = random.Below(kMaxPacket - kIpHeader);
      random.Fill(payload, length);
      break;
  }
  return length;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool have[4] = {};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[++i];
    if (flag == "--dest") {
      have[0] = ParseAddress(value, &options.dest);
    } else if (flag == "--peer") {
      have[1] = ParseAddress(value, &options.peer);
    } else if (flag == "--stranger") {
      have[2] = ParseAddress(value, &options.stranger);
    } else if (flag == "--down-peer") {
      have[3] = ParseAddress(value, &options.down);
    } else if (flag == "--count") {
      options.count = std::strtoull(value, nullptr, 10);
    } else if (flag == "--seed") {
      options.seed = std::strtoull(value, nullptr, 10);
    } else {
      return Usage();
    }
  }
  for (bool ok : have)
    if (!ok) return Usage();

  // IPPROTO_RAW: the kernel takes our IP header (IP_HDRINCL), filling in
  // the checksum, and the identification where it is 0.
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    std::perror("flood_sender: socket");
    return 1;
  }

  Random random{options.seed * 0x9e3779b97f4a7c15ULL | 1};
  std::vector<std::array<uint8_t, kMaxPacket>> packets(kBatch);
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> iov{};
  std::array<Kind, kBatch> kinds{};
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_addr = options.dest;

  uint64_t sent[kKinds] = {};
  uint64_t total = 0;
  uint64_t errors = 0;
  while (total < options.count) {
    const size_t batch =
        static_cast<size_t>(std::min<uint64_t>(kBatch, options.count - total));
    for (size_t i = 0; i < batch; ++i) {
      uint8_t* packet = packets[i].data();
      kinds[i] = static_cast<Kind>(random.Below(kKinds));
      in_addr source{};
      const size_t payload =
          BuildPayload(kinds[i], options, random, packet + kIpHeader, &source);
      iphdr header{};
      header.version = 4;
      header.ihl = 5;
      header.tot_len = htons(static_cast<uint16_t>(kIpHeader + payload));
      header.frag_off = htons(IP_DF);  // never fragmented: all under 1500
      header.ttl = 64;
      header.protocol = kEtherIp;
      header.saddr = source.s_addr;
      header.daddr = options.dest.s_addr;
      std::memcpy(packet, &header, sizeof(header));
      iov[i] = {packet, kIpHeader + payload};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = &destination;
      messages[i].msg_hdr.msg_namelen = sizeof(destination);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0;
    while (done < batch) {
      const int n = ::sendmmsg(fd, messages.data() + done,
                               static_cast<unsigned>(batch - done), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS || errno == EAGAIN) {
          // The packet was not sent: skip it, counted as an error.
          ++errors;
          ++done;
          continue;
        }
        std::perror("flood_sender: sendmmsg");
        return 1;
      }
      for (size_t i = done; i < done + static_cast<size_t>(n); ++i)
        ++sent[kinds[i]];
      done += static_cast<size_t>(n);
    }
    total += batch;
  }
  ::close(fd);

  uint64_t accepted = 0;
  std::printf("{");
  for (int kind = 0; kind < kKinds; ++kind) {
    std::printf("\"%s\": %llu, ", kKindNames[kind],
                static_cast<unsigned long long>(sent[kind]));
    accepted += sent[kind];
  }
  std::printf("\"sent\": %llu, \"errors\": %llu}\n",
              static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(errors));
  return 0;
}
