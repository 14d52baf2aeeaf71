// The daemon's state and every change to it, on the control thread: the
// tunnel table, the TAP device of each interface, the outer sockets of each
// (family, domain), the allow switch. Each request is validated against the
// state it would produce (TunnelTable::Prepare*), then its I/O is done (TAP,
// netlink, sockets; undone if any step fails), then it is committed and
// what changed (only that) is published to the forwarding loop.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/config_file.h"
#include "control/protocol.h"
#include "core/counters.h"
#include "core/tunnel_table.h"
#include "daemon/forwarding_loop.h"
#include "io/linux/link_control.h"
#include "io/linux/linux_raw_socket.h"
#include "io/linux/linux_tap.h"

namespace etherip {

class InterfaceManager {
 public:
  InterfaceManager(ForwardingLoop& loop, GlobalCounters& counters,
                   std::atomic<bool>& allow, LinkControl& links,
                   const DomainCatalog& domains);
  ~InterfaceManager();  // removes every interface

  Status Create(std::string_view name,
                std::span<const InterfaceOption> options);
  Status Set(std::string_view name, std::span<const InterfaceOption> options);
  Status Destroy(std::string_view name);
  // Makes the running state equal to `config` (SPEC 6 reload): only the
  // difference is applied; an error changes nothing and names PATH:LINE.
  Status Replace(const control::Config& config, std::string_view path);
  void SetAllow(bool allow);
  bool allow() const { return allow_.load(); }
  void DestroyAll();

  // ENXIO when `name` is given and unknown.
  Result<std::vector<control::InterfaceView>> Show(
      std::optional<std::string_view> name) const;
  GlobalCounterValues Stats() const { return counters_.Read(); }
  std::string ShowConf() const;

  // Periodic upkeep: domains that appeared, vanished or were recreated
  // (reopen or close their sockets), carriers that follow `running`.
  void Refresh();
  // Sources that failed under the forwarding loop: an interface whose link
  // is really gone (deleted behind the daemon's back) is removed; a failed
  // socket is reopened.
  void HandleFailures(const ForwardingLoop::Failures& failures);

 private:
  struct Runtime {
    std::shared_ptr<LinuxTap> tap;
    bool carrier = false;
  };
  struct SocketSlot {
    std::shared_ptr<LinuxRawSocket> socket;
    std::pair<uint64_t, uint64_t> netns{};  // (dev, inode) it was opened in
  };
  using SocketKey = std::pair<Family, std::string>;

  Result<std::shared_ptr<LinuxTap>> MakeTap(std::string_view name,
                                            const InterfaceSettings& settings);
  Status ApplyLinkChanges(LinuxTap& tap, const InterfaceSettings& before,
                          const InterfaceSettings& after);
  // Opens the socket of (family, domain) unless it is open in the domain's
  // current namespace; nothing when the domain does not exist.
  Status EnsureSocket(const SocketKey& key);
  // The socket `settings` needs, if any.
  Status EnsureSocketFor(const InterfaceSettings& settings);
  // Opens sockets that tunnels need, closes those none needs. True when the
  // set changed.
  bool SyncSockets();
  void SyncCarriers();
  // Adds interface `id` to `changes` as the forwarding loop needs it: as
  // `now` is (its entry, counters and TAP), or gone when `now` is null.
  void Stage(PlaneChanges& changes, InterfaceId id, const InterfaceState* now);
  // Hands `changes` to the forwarding loop, with the sockets opened,
  // replaced or closed and the domains named since the last Publish.
  void Publish(PlaneChanges changes = {});
  Runtime& RuntimeOf(InterfaceId id);

  ForwardingLoop& loop_;
  GlobalCounters& counters_;
  std::atomic<bool>& allow_;
  // The file's `save` and `persist` (SPEC 6), as last loaded: showconf
  // writes them back. What they make the daemon do is not here.
  bool save_ = false;
  bool persist_ = false;
  LinkControl& links_;
  const DomainCatalog& domains_;
  TunnelTable table_;
  std::vector<Runtime> runtime_;  // by InterfaceId
  std::map<SocketKey, SocketSlot> sockets_;
  // What the forwarding loop has: sockets_ and domain names as of the last
  // Publish.
  std::map<SocketKey, std::shared_ptr<LinuxRawSocket>> published_sockets_;
  size_t published_domains_ = 0;
};

// (dev, inode) of /run/netns/NAME, or of the daemon's own namespace for "".
std::optional<std::pair<uint64_t, uint64_t>> NetnsIdentity(
    std::string_view domain);

}  // namespace etherip
