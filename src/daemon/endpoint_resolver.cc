#include "daemon/endpoint_resolver.h"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace etherip {
namespace {

// The addresses of one named end that can be a tunnel endpoint, in the
// resolver's order; an error names the host and why none can.
Result<std::vector<IpAddress>> UsableAddresses(Resolver& resolver,
                                               std::string_view domain,
                                               const std::string& host,
                                               Family family, bool zoned) {
  auto found = resolver.LookUpHost(domain, host, family);
  if (!found) {
    return Fail(found.error().code,
                fmt::format("{}: {}", host, found.error().message));
  }
  std::vector<IpAddress> usable;
  std::string first_problem;
  for (const IpAddress& address : *found) {
    if (family != Family::kNone && address.family() != family) continue;
    std::string problem(EndpointProblem(address));
    if (problem.empty() && IsLinkLocal(address) && !zoned) {
      problem = "link-local and the tunnel has no zone";
    }
    if (problem.empty()) {
      usable.push_back(address);
    } else if (first_problem.empty()) {
      first_problem = fmt::format("{} is {}", address.ToString(), problem);
    }
  }
  if (usable.empty()) {
    const std::string what =
        family == Family::kNone
            ? std::string("usable address")
            : fmt::format("usable {} address", FamilyName(family));
    return Fail(EADDRNOTAVAIL,
                first_problem.empty()
                    ? fmt::format("{}: no {}", host, what)
                    : fmt::format("{}: no {} ({})", host, what, first_problem));
  }
  return usable;
}

bool SameAnswer(const Result<Tunnel>& a, const Result<Tunnel>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (a) return *a == *b;
  return a.error().message == b.error().message;
}

}  // namespace

Result<Tunnel> ResolveTunnel(Resolver& resolver, std::string_view domain,
                             const TunnelConfig& tunnel) {
  const std::string& zone = tunnel.zone();
  uint32_t scope = 0;
  if (!zone.empty()) {
    const TunnelEndpoint& zoned =
        tunnel.destination.zone.empty() ? tunnel.source : tunnel.destination;
    scope = zoned.zone_index();
    if (scope == 0) {
      auto index = resolver.LookUpInterface(domain, zone);
      if (!index) {
        return Fail(index.error().code,
                    fmt::format("zone {}: {}", zone, index.error().message));
      }
      scope = *index;
    }
  }
  const bool zoned = !zone.empty();
  const TunnelEndpoint& source = tunnel.source;
  const TunnelEndpoint& destination = tunnel.destination;
  Tunnel addresses{source.address, destination.address, scope};
  if (source.is_name() && destination.is_name()) {
    auto destinations = UsableAddresses(resolver, domain, destination.host,
                                        Family::kNone, zoned);
    if (!destinations) return tl::unexpected(destinations.error());
    auto sources =
        UsableAddresses(resolver, domain, source.host, Family::kNone, zoned);
    if (!sources) return tl::unexpected(sources.error());
    bool found = false;
    for (const IpAddress& to : *destinations) {
      auto from = std::find_if(
          sources->begin(), sources->end(), [&](const IpAddress& address) {
            return address.family() == to.family() && address != to;
          });
      if (from != sources->end()) {
        addresses.source = *from;
        addresses.destination = to;
        found = true;
        break;
      }
    }
    if (!found) {
      return Fail(EADDRNOTAVAIL,
                  fmt::format("{} and {}: no two different addresses of one "
                              "family",
                              source.host, destination.host));
    }
  } else if (source.is_name() || destination.is_name()) {
    const TunnelEndpoint& named = source.is_name() ? source : destination;
    const IpAddress& literal =
        source.is_name() ? destination.address : source.address;
    auto candidates =
        UsableAddresses(resolver, domain, named.host, literal.family(), zoned);
    if (!candidates) return tl::unexpected(candidates.error());
    auto pick = std::find_if(candidates->begin(), candidates->end(),
                             [&](const IpAddress& a) { return a != literal; });
    if (pick == candidates->end()) {
      return Fail(EADDRNOTAVAIL,
                  fmt::format("{}: {} only, the tunnel's other end", named.host,
                              literal.ToString()));
    }
    (source.is_name() ? addresses.source : addresses.destination) = *pick;
  }
  if (auto why = AddressProblem(addresses); !why.empty()) {
    return Fail(EINVAL, fmt::format("{}: {}", addresses.ToString(), why));
  }
  return addresses;
}

EndpointResolver::EndpointResolver(std::shared_ptr<Resolver> resolver)
    : shared_(std::make_shared<Shared>()) {
  shared_->resolver = std::move(resolver);
}

EndpointResolver::~EndpointResolver() { Stop(); }

Status EndpointResolver::Start() {
  if (thread_.joinable()) return {};
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return Fail(errno, fmt::format("resolver: eventfd: {}", strerror(errno)));
  }
  {
    std::lock_guard lock(shared_->mutex);
    shared_->event_fd = fd;
  }
  event_fd_ = fd;
  thread_ = std::thread(Run, shared_);
  return {};
}

void EndpointResolver::Stop() {
  if (!thread_.joinable()) return;
  std::unique_lock lock(shared_->mutex);
  shared_->stopping = true;
  shared_->wake.notify_all();
  // A lookup may hang on DNS for many seconds: shutting down does not wait
  // for it. The thread owns what it uses (shared_, the resolver), and the
  // process's exit ends it.
  const bool finished = shared_->wake.wait_for(
      lock, kStopWait, [&] { return shared_->finished; });
  lock.unlock();
  if (finished) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

void EndpointResolver::Run(std::shared_ptr<Shared> shared) {
  std::unique_lock lock(shared->mutex);
  while (!shared->stopping) {
    const auto next = NextDue(*shared);
    if (!next) {
      shared->wake.wait(lock);
      continue;
    }
    if (*next > Clock::now()) {
      shared->wake.wait_until(lock, *next);
      continue;
    }
    lock.unlock();
    RunDue(*shared, Clock::now());
    lock.lock();
  }
  shared->finished = true;
  shared->wake.notify_all();
}

EndpointResolver::Shared::~Shared() {
  if (event_fd >= 0) close(event_fd);
}

void EndpointResolver::Watch(std::string_view interface,
                             std::string_view domain,
                             const TunnelConfig& tunnel) {
  std::lock_guard lock(shared_->mutex);
  Watched& watched = shared_->watched[std::string(interface)];
  watched.domain = std::string(domain);
  watched.tunnel = tunnel;
  watched.generation = ++shared_->generations;
  watched.due = Clock::now();
  watched.resolved = false;
  watched.last.reset();
  shared_->wake.notify_all();
}

void EndpointResolver::Unwatch(std::string_view interface) {
  std::lock_guard lock(shared_->mutex);
  if (auto it = shared_->watched.find(interface);
      it != shared_->watched.end()) {
    shared_->watched.erase(it);
  }
}

void EndpointResolver::SetInterval(std::chrono::seconds interval) {
  std::lock_guard lock(shared_->mutex);
  if (interval == shared_->interval) return;
  shared_->interval = interval;
  const auto now = Clock::now();
  // Resolved tunnels follow the new interval; the others keep retrying.
  for (auto& [name, watched] : shared_->watched) {
    if (!watched.resolved) continue;
    if (interval.count() == 0) {
      watched.due.reset();
    } else if (!watched.due || *watched.due > now + interval) {
      watched.due = now + interval;
    }
  }
  shared_->wake.notify_all();
}

void EndpointResolver::ResolveZonesNow(std::string_view domain) {
  std::lock_guard lock(shared_->mutex);
  const auto now = Clock::now();
  bool any = false;
  for (auto& [name, watched] : shared_->watched) {
    if (watched.domain != domain ||
        (!watched.tunnel.source.has_named_zone() &&
         !watched.tunnel.destination.has_named_zone())) {
      continue;
    }
    watched.due = now;
    any = true;
  }
  if (any) shared_->wake.notify_all();
}

void EndpointResolver::ResolveAllNow() {
  std::lock_guard lock(shared_->mutex);
  const auto now = Clock::now();
  for (auto& [name, watched] : shared_->watched) watched.due = now;
  shared_->wake.notify_all();
}

std::vector<EndpointResolver::Answer> EndpointResolver::TakeAnswers() {
  std::lock_guard lock(shared_->mutex);
  if (shared_->event_fd >= 0) {
    uint64_t count;
    (void)!read(shared_->event_fd, &count, sizeof count);
  }
  return std::exchange(shared_->answers, {});
}

std::optional<EndpointResolver::Clock::time_point> EndpointResolver::RunDue(
    Clock::time_point now) {
  return RunDue(*shared_, now);
}

std::optional<EndpointResolver::Clock::time_point> EndpointResolver::NextDue(
    const Shared& shared) {
  std::optional<Clock::time_point> next;
  for (const auto& [name, watched] : shared.watched) {
    if (watched.due && (!next || *watched.due < *next)) next = watched.due;
  }
  return next;
}

std::optional<EndpointResolver::Clock::time_point> EndpointResolver::RunDue(
    Shared& shared, Clock::time_point now) {
  struct Job {
    std::string interface;
    std::string domain;
    TunnelConfig tunnel;
    uint64_t generation;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(shared.mutex);
    for (auto& [name, watched] : shared.watched) {
      if (!watched.due || *watched.due > now) continue;
      watched.due.reset();  // in progress
      jobs.push_back(
          {name, watched.domain, watched.tunnel, watched.generation});
    }
  }
  bool queued = false;
  for (const Job& job : jobs) {
    // The lookup, without the lock: it may take seconds.
    Result<Tunnel> answer =
        ResolveTunnel(*shared.resolver, job.domain, job.tunnel);
    std::lock_guard lock(shared.mutex);
    auto it = shared.watched.find(job.interface);
    // Unwatched, or watched anew meanwhile: that watch looks up for itself.
    if (it == shared.watched.end() || it->second.generation != job.generation) {
      continue;
    }
    Watched& watched = it->second;
    watched.resolved = answer.has_value();
    const auto interval = shared.interval;
    if (answer) {
      if (interval.count() > 0) watched.due = now + interval;
    } else {
      watched.due =
          now + (interval.count() > 0
                     ? std::min<std::chrono::seconds>(interval, kRetry)
                     : kRetry);
    }
    if (watched.last && SameAnswer(*watched.last, answer)) continue;
    watched.last = answer;
    shared.answers.push_back(
        Answer{job.interface, job.domain, job.tunnel, std::move(answer)});
    queued = true;
  }
  std::lock_guard lock(shared.mutex);
  if (queued && shared.event_fd >= 0) {
    const uint64_t one = 1;
    (void)!write(shared.event_fd, &one, sizeof one);
  }
  return NextDue(shared);
}

}  // namespace etherip
