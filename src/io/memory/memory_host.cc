#include "io/memory/memory_host.h"

#include <fmt/format.h>

#include <cerrno>
#include <functional>
#include <utility>

namespace etherip {

class MemoryHost::Device : public TapDevice {
 public:
  Device(MemoryHost* host, int ifindex)
      : host_(host), ifindex_(ifindex), tap_(MemoryTap::Offloads{}) {}
  ~Device() override {
    if (host_ != nullptr) host_->Detached(this, ifindex_);
  }

  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override {
    return tap_.ReadFrames(buffers);
  }
  bool HasHeldFrames() const override { return tap_.HasHeldFrames(); }
  size_t TakeUnsendable() override { return tap_.TakeUnsendable(); }
  Result<size_t> WriteFrames(std::span<PacketBuffer* const> frames) override {
    return tap_.WriteFrames(frames);
  }
  int ifindex() const override { return ifindex_; }
  int fd() const override { return -1; }
  Status SetCarrier(bool on) override {
    LinkRecord* record = host_ ? host_->Find(ifindex_) : nullptr;
    if (record == nullptr) return Fail(EBADFD, "memory tap: link deleted");
    record->carrier = on;
    return {};
  }
  void SetMtu(unsigned mtu) override { mtu_ = mtu; }
  Status SetPersist(bool persist) override {
    LinkRecord* record = host_ ? host_->Find(ifindex_) : nullptr;
    if (record == nullptr) return Fail(EBADFD, "memory tap: link deleted");
    record->persistent = persist;
    return {};
  }

  MemoryTap& tap() { return tap_; }
  void Orphan() {
    host_ = nullptr;
    tap_.Break();
  }

 private:
  MemoryHost* host_;
  int ifindex_;
  MemoryTap tap_;
  unsigned mtu_ = 1500;
};

class MemoryHost::Socket : public HostSocket {
 public:
  Socket(MemoryNetwork& network, Family family,
         std::shared_ptr<size_t> open_count)
      : socket_(network, family), open_count_(std::move(open_count)) {
    ++*open_count_;
  }
  ~Socket() override { --*open_count_; }
  Family family() const override { return socket_.family(); }
  Result<size_t> Receive(std::span<PacketBuffer> buffers,
                         std::span<InboundAddresses> addresses) override {
    return socket_.Receive(buffers, addresses);
  }
  SendResult Send(std::span<const OutboundPacket> packets) override {
    return socket_.Send(packets);
  }
  uint64_t TakeQueueDrops() override { return socket_.TakeQueueDrops(); }
  int fd() const override { return -1; }

 private:
  MemorySocket socket_;
  std::shared_ptr<size_t> open_count_;
};

MemoryHost::MemoryHost() {
  links_[1].info = LinkInfo{1, "lo", true, 65536, MacAddress(), 0};
}

MemoryHost::~MemoryHost() {
  for (Device* device : devices_) device->Orphan();
}

Status MemoryHost::Check(Op op) {
  const auto index = static_cast<size_t>(op);
  ++calls_[index];
  auto& queue = faults_[index];
  if (queue.empty()) return {};
  if (queue.front().skip > 0) {
    --queue.front().skip;
    return {};
  }
  Error error = std::move(queue.front().error);
  queue.erase(queue.begin());
  return tl::unexpected(std::move(error));
}

void MemoryHost::FailNext(Op op, Error error, size_t skip) {
  faults_[static_cast<size_t>(op)].push_back({skip, std::move(error)});
}

MemoryHost::LinkRecord* MemoryHost::Find(int ifindex) {
  auto it = links_.find(ifindex);
  return it == links_.end() ? nullptr : &it->second;
}

MemoryHost::LinkRecord* MemoryHost::FindByName(std::string_view name) {
  for (auto& [index, record] : links_) {
    if (record.info.name == name) return &record;
  }
  return nullptr;
}

void MemoryHost::Announce(const LinkRecord& record, LinkEvent::Kind kind) {
  if (!overflowed_) events_.push_back({kind, record.info});
}

void MemoryHost::Remove(int ifindex) {
  auto it = links_.find(ifindex);
  if (it == links_.end()) return;
  if (it->second.device != nullptr) it->second.device->tap().Break();
  Announce(it->second, LinkEvent::Kind::kDeleted);
  links_.erase(it);
}

void MemoryHost::Detached(Device* device, int ifindex) {
  devices_.erase(device);
  LinkRecord* record = Find(ifindex);
  if (record == nullptr || record->device != device) return;
  record->device = nullptr;
  if (!record->persistent) Remove(ifindex);
}

Result<std::shared_ptr<TapDevice>> MemoryHost::Open(LinkRecord& record) {
  auto device = std::make_shared<Device>(this, record.info.ifindex);
  record.device = device.get();
  devices_.insert(device.get());
  return std::shared_ptr<TapDevice>(std::move(device));
}

Result<std::shared_ptr<TapDevice>> MemoryHost::CreateTap(std::string_view name,
                                                         bool persist) {
  if (auto ok = Check(Op::kCreateTap); !ok) return tl::unexpected(ok.error());
  if (FindByName(name) != nullptr) {
    return Fail(
        EEXIST,
        fmt::format("{}: create tap: an interface of that name exists", name));
  }
  const int ifindex = next_ifindex_++;
  LinkRecord& record = links_[ifindex];
  record.info = LinkInfo{ifindex,
                         std::string(name),
                         false,
                         1500,
                         MacAddress({0x02, 0, 0, 0, 0, next_mac_++}),
                         0};
  record.persistent = persist;
  Announce(record, LinkEvent::Kind::kChanged);
  return Open(record);
}

Result<std::shared_ptr<TapDevice>> MemoryHost::AttachTap(
    std::string_view name) {
  if (auto ok = Check(Op::kAttachTap); !ok) return tl::unexpected(ok.error());
  LinkRecord* record = FindByName(name);
  if (record == nullptr) {
    return Fail(ENODEV, fmt::format("{}: attach tap: no such device", name));
  }
  if (!record->is_tap || record->device != nullptr) {
    return Fail(EINVAL,
                fmt::format("{}: attach tap: not a free persistent tap", name));
  }
  return Open(*record);
}

template <typename Mutate>
Status MemoryHost::Change(LinkRecord* record, std::string_view who,
                          Mutate mutate) {
  if (record == nullptr) {
    return Fail(ENODEV, fmt::format("{}: no such device", who));
  }
  if (Status done = mutate(record->info); !done) return done;
  Announce(*record, LinkEvent::Kind::kChanged);
  return {};
}

Status MemoryHost::ChangeByIndex(
    Op op, int ifindex, const std::function<Status(LinkInfo&)>& mutate) {
  if (auto ok = Check(op); !ok) return ok;
  return Change(Find(ifindex), fmt::format("ifindex {}", ifindex), mutate);
}

Status MemoryHost::Rename(LinkInfo& link, std::string_view name) {
  if (FindByName(name) != nullptr) {
    return Fail(EEXIST, fmt::format("rename {}: name taken", name));
  }
  link.name = std::string(name);
  return {};
}

Status MemoryHost::SetLinkAddress(int ifindex, const MacAddress& address) {
  return ChangeByIndex(Op::kSetLinkAddress, ifindex, [&](LinkInfo& link) {
    link.address = address;
    return Status{};
  });
}

Status MemoryHost::SetLinkMtu(int ifindex, uint32_t mtu) {
  return ChangeByIndex(Op::kSetLinkMtu, ifindex, [&](LinkInfo& link) -> Status {
    if (mtu < 68 || mtu > 65535) {
      return Fail(EINVAL, fmt::format("{}: set mtu {}: invalid argument",
                                      link.name, mtu));
    }
    link.mtu = mtu;
    return Status{};
  });
}

Status MemoryHost::SetLinkUp(int ifindex, bool up) {
  return ChangeByIndex(Op::kSetLinkUp, ifindex, [&](LinkInfo& link) {
    link.up = up;
    return Status{};
  });
}

Status MemoryHost::SetLinkGroup(int ifindex, uint32_t group) {
  return ChangeByIndex(Op::kSetLinkGroup, ifindex, [&](LinkInfo& link) {
    link.group = group;
    return Status{};
  });
}

Status MemoryHost::SetLinkIpv6(int ifindex, bool enabled) {
  if (auto ok = Check(Op::kSetLinkIpv6); !ok) return ok;
  LinkRecord* record = Find(ifindex);
  if (record == nullptr) {
    return Fail(ENODEV, fmt::format("ifindex {}: no such device", ifindex));
  }
  record->ipv6 = enabled;
  return {};
}

Status MemoryHost::SetLinkMaster(int ifindex, std::string_view master) {
  if (auto ok = Check(Op::kSetLinkMaster); !ok) return ok;
  LinkRecord* record = Find(ifindex);
  if (record == nullptr) {
    return Fail(ENODEV, fmt::format("ifindex {}: no such device", ifindex));
  }
  if (!master.empty() && FindByName(master) == nullptr) {
    return Fail(ENODEV, fmt::format("master {}: no such device", master));
  }
  record->master = std::string(master);
  return {};
}

Status MemoryHost::SetLinkName(int ifindex, std::string_view name) {
  return ChangeByIndex(Op::kSetLinkName, ifindex,
                       [&](LinkInfo& link) { return Rename(link, name); });
}

Status MemoryHost::DeleteLinkGroup(uint32_t group) {
  if (auto ok = Check(Op::kDeleteLinkGroup); !ok) return ok;
  if (group == 0) return Fail(EINVAL, "delete link group 0: refused");
  std::vector<int> doomed;
  for (const auto& [index, record] : links_) {
    if (record.info.group == group) doomed.push_back(index);
  }
  for (int index : doomed) Remove(index);
  return {};
}

Result<LinkEvents> MemoryHost::ReadLinkEvents() {
  LinkEvents result{std::move(events_), overflowed_};
  events_.clear();
  overflowed_ = false;
  return result;
}

Result<std::vector<LinkInfo>> MemoryHost::DumpLinks() {
  if (auto ok = Check(Op::kDumpLinks); !ok) return tl::unexpected(ok.error());
  std::vector<LinkInfo> links;
  for (const auto& [index, record] : links_) links.push_back(record.info);
  return links;
}

Result<std::shared_ptr<HostSocket>> MemoryHost::OpenSocket(
    Family family, std::string_view domain) {
  if (auto ok = Check(Op::kOpenSocket); !ok) return tl::unexpected(ok.error());
  if (!Exists(domain)) {
    return Fail(EINVAL, fmt::format("domain {}: no such domain", domain));
  }
  auto socket =
      std::make_shared<Socket>(network_, family, open_sockets_counter_);
  return std::shared_ptr<HostSocket>(std::move(socket));
}

bool MemoryHost::Exists(std::string_view domain) const {
  return domain.empty() || domains_.contains(domain);
}

std::optional<NamespaceId> MemoryHost::DomainIdentity(
    std::string_view domain) const {
  if (domain.empty()) return NamespaceId{1, 1};
  auto it = domains_.find(domain);
  if (it == domains_.end()) return std::nullopt;
  return NamespaceId{1, it->second};
}

void MemoryHost::AddDomain(std::string_view name) {
  domains_[std::string(name)] = next_namespace_++;
}

void MemoryHost::RemoveDomain(std::string_view name) {
  if (auto it = domains_.find(name); it != domains_.end()) domains_.erase(it);
}

Status MemoryHost::ReplaceFile(const std::string& path,
                               std::string_view contents) {
  if (auto ok = Check(Op::kReplaceFile); !ok) return ok;
  files_[path] = std::string(contents);
  return {};
}

Result<RouteMtu> MemoryHost::LookupRouteMtu(std::string_view domain,
                                            const IpAddress& /*source*/,
                                            const IpAddress& destination) {
  if (auto ok = Check(Op::kLookupRouteMtu); !ok) {
    return tl::unexpected(ok.error());
  }
  const auto identity = DomainIdentity(domain);
  if (!identity) {
    return Fail(EINVAL, fmt::format("domain {}: no such domain", domain));
  }
  watched_[std::string(domain)] = *identity;
  auto it = routes_.find({std::string(domain), destination.ToString()});
  if (it == routes_.end()) {
    return Fail(ENETUNREACH, fmt::format("route to {}: network is unreachable",
                                         destination.ToString()));
  }
  return it->second;
}

std::vector<std::string> MemoryHost::WatchRoutes(
    std::span<const std::string> domains) {
  std::vector<std::string> fresh;
  std::map<std::string, NamespaceId, std::less<>> watched;
  for (const std::string& domain : domains) {
    const auto identity = DomainIdentity(domain);
    if (!identity) continue;
    auto it = watched_.find(domain);
    if (it == watched_.end() || it->second != *identity) {
      fresh.push_back(domain);
    }
    watched[domain] = *identity;
  }
  watched_ = std::move(watched);
  return fresh;
}

std::vector<std::string> MemoryHost::ReadRouteEvents() {
  std::vector<std::string> domains;
  for (const std::string& domain : route_events_) {
    auto it = watched_.find(domain);
    if (it != watched_.end() && DomainIdentity(domain) == it->second) {
      domains.push_back(domain);
    }
  }
  route_events_.clear();
  return domains;
}

std::set<std::string> MemoryHost::watched_routes() const {
  std::set<std::string> domains;
  for (const auto& [domain, identity] : watched_) {
    if (DomainIdentity(domain) == identity) domains.insert(domain);
  }
  return domains;
}

void MemoryHost::KernelSetRoute(std::string_view domain,
                                const IpAddress& destination, RouteMtu route) {
  routes_[{std::string(domain), destination.ToString()}] = route;
  route_events_.insert(std::string(domain));
}

void MemoryHost::KernelDeleteRoute(std::string_view domain,
                                   const IpAddress& destination) {
  routes_.erase({std::string(domain), destination.ToString()});
  route_events_.insert(std::string(domain));
}

Status MemoryHost::KernelSetUp(std::string_view name, bool up) {
  return Change(FindByName(name), name, [&](LinkInfo& link) {
    link.up = up;
    return Status{};
  });
}

Status MemoryHost::KernelSetMtu(std::string_view name, uint32_t mtu) {
  return Change(FindByName(name), name, [&](LinkInfo& link) {
    link.mtu = mtu;
    return Status{};
  });
}

Status MemoryHost::KernelSetAddress(std::string_view name,
                                    const MacAddress& address) {
  return Change(FindByName(name), name, [&](LinkInfo& link) {
    link.address = address;
    return Status{};
  });
}

Status MemoryHost::KernelRename(std::string_view name,
                                std::string_view new_name) {
  return Change(FindByName(name), name,
                [&](LinkInfo& link) { return Rename(link, new_name); });
}

Status MemoryHost::KernelDelete(std::string_view name) {
  LinkRecord* record = FindByName(name);
  if (record == nullptr) {
    return Fail(ENODEV, fmt::format("{}: no such device", name));
  }
  Remove(record->info.ifindex);
  return {};
}

Status MemoryHost::KernelAddLink(std::string_view name) {
  if (FindByName(name) != nullptr) return Fail(EEXIST, "name taken");
  const int ifindex = next_ifindex_++;
  LinkRecord& record = links_[ifindex];
  record.info = LinkInfo{ifindex,
                         std::string(name),
                         true,
                         1500,
                         MacAddress({0x02, 0xbb, 0, 0, 0, next_mac_++}),
                         0};
  record.is_tap = false;
  Announce(record, LinkEvent::Kind::kChanged);
  return {};
}

void MemoryHost::KernelOverflowEvents() {
  events_.clear();
  overflowed_ = true;
}

std::optional<LinkInfo> MemoryHost::Link(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name) return record.info;
  }
  return std::nullopt;
}

MemoryTap* MemoryHost::TapOf(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name && record.device != nullptr) {
      return &record.device->tap();
    }
  }
  return nullptr;
}

bool MemoryHost::IsPersistent(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name) return record.persistent;
  }
  return false;
}

bool MemoryHost::carrier(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name) return record.carrier;
  }
  return false;
}

std::string MemoryHost::master(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name) return record.master;
  }
  return {};
}

bool MemoryHost::ipv6(std::string_view name) const {
  for (const auto& [index, record] : links_) {
    if (record.info.name == name) return record.ipv6;
  }
  return false;
}

}  // namespace etherip
