// Host-name and zone resolution for tunnel endpoints (SPEC 8, "Host names
// and zones"), off the control and forwarding threads.
//
// The interface manager says which tunnels need a lookup (Watch: a host
// name, or a zone that names an interface) and forgets them (Unwatch). A
// thread of its own looks each one up through the Resolver seam
// (io/resolver.h) at once, then again every `resolve_interval` (0: never
// again), and a tunnel that did not resolve every kRetry (or the interval,
// when shorter). An answer that differs from the last one given for that
// interface is queued and fd() becomes readable; the control thread takes
// the answers (TakeAnswers) and applies them to the tunnel table and the
// data plane as a change of settings is applied (InterfaceManager::
// ApplyResolutions). The lock this class holds is never held across a
// lookup: the control thread waits for nothing but a few map operations.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/interface_options.h"
#include "io/resolver.h"

namespace etherip {

// The addresses `tunnel` (in `domain`) stands for, looked up through
// `resolver` (blocking):
// - a zone that names an interface becomes its index in the domain;
// - a host name at one end of a literal takes its first address of the
//   literal's family that can be an endpoint (EndpointProblem; a link-local
//   one only when the tunnel has a zone) and differs from the literal;
// - with names at both ends, the destination takes its first usable address
//   whose family the source also has, and the source its first usable
//   address of that family.
// An error says why in words for `show`, e.g. "peer.example: Name or service
// not known", "peer.example: no usable IPv4 address (127.0.0.1 is
// loopback)", "zone eth9: No such device".
Result<Tunnel> ResolveTunnel(Resolver& resolver, std::string_view domain,
                             const TunnelConfig& tunnel);

// What the interface manager asks of the resolver (a seam, so that its
// tests can drive resolution by hand).
class ResolutionRequests {
 public:
  virtual ~ResolutionRequests() = default;
  // Interface `interface` has `tunnel` in `domain` to resolve: now, and
  // from then on as described above. Replaces whatever it had; the first
  // answer about it is always given.
  virtual void Watch(std::string_view interface, std::string_view domain,
                     const TunnelConfig& tunnel) = 0;
  // Nothing to resolve for `interface` any more.
  virtual void Unwatch(std::string_view interface) = 0;
  // How long a resolved tunnel waits before it is looked up again; 0:
  // never (only when it is watched anew).
  virtual void SetInterval(std::chrono::seconds interval) = 0;
  // Links of `domain` came, went or changed: the tunnels there whose zone
  // names an interface are looked up again soon (a link made again has a
  // new index).
  virtual void ResolveZonesNow(std::string_view domain) = 0;
};

class EndpointResolver : public ResolutionRequests {
 public:
  using Clock = std::chrono::steady_clock;
  // How soon a tunnel that did not resolve is tried again (at most).
  static constexpr std::chrono::seconds kRetry{5};
  // How long Stop() waits for a lookup in progress (DNS may take many
  // seconds) before it leaves the thread to finish on its own.
  static constexpr std::chrono::milliseconds kStopWait{1000};

  struct Answer {
    std::string interface;
    std::string domain;
    TunnelConfig tunnel;  // as watched
    Result<Tunnel> addresses;
  };

  explicit EndpointResolver(std::shared_ptr<Resolver> resolver);
  ~EndpointResolver() override;  // Stop()
  EndpointResolver(const EndpointResolver&) = delete;
  EndpointResolver& operator=(const EndpointResolver&) = delete;

  // Starts the thread; answers are then signalled on fd(). Without it,
  // lookups run only when RunDue() is called (tests).
  Status Start();
  // Ends the thread (see kStopWait). Answers not taken are dropped.
  void Stop();
  // Readable while answers wait (an eventfd); -1 before Start().
  int fd() const { return event_fd_; }

  void Watch(std::string_view interface, std::string_view domain,
             const TunnelConfig& tunnel) override;
  void Unwatch(std::string_view interface) override;
  void SetInterval(std::chrono::seconds interval) override;
  void ResolveZonesNow(std::string_view domain) override;
  // Looks every watched tunnel up again soon (domains came or went, so
  // zones may have other indexes).
  void ResolveAllNow();

  // The answers given since the last call, oldest first.
  std::vector<Answer> TakeAnswers();

  // The thread's work, on the calling thread: looks up every tunnel due at
  // `now` and queues the answers that changed. Returns when the next lookup
  // is due (nullopt: none is). Tests call it with a clock of their own.
  std::optional<Clock::time_point> RunDue(Clock::time_point now);

 private:
  struct Watched {
    std::string domain;
    TunnelConfig tunnel;
    uint64_t generation = 0;  // a new Watch makes answers in flight stale
    std::optional<Clock::time_point> due;  // nullopt: not again
    bool resolved = false;                 // the last answer had addresses
    std::optional<Result<Tunnel>> last;    // the last answer given
  };
  // What the thread shares with this object: the thread may outlive it
  // (Stop() does not wait for a lookup that hangs).
  struct Shared {
    std::shared_ptr<Resolver> resolver;
    std::mutex mutex;
    std::condition_variable wake;
    std::map<std::string, Watched, std::less<>> watched;
    std::vector<Answer> answers;
    std::chrono::seconds interval{60};
    uint64_t generations = 0;
    bool stopping = false;
    bool finished = false;
    // Closed with the last owner: never while the thread may write to it.
    int event_fd = -1;
    ~Shared();
  };
  static std::optional<Clock::time_point> RunDue(Shared& shared,
                                                 Clock::time_point now);
  static std::optional<Clock::time_point> NextDue(const Shared& shared);
  static void Run(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  int event_fd_ = -1;
};

}  // namespace etherip
