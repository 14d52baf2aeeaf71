// A stand-in for etheripd's control socket, for client and CLI tests: a
// UNIX socket in a fresh temporary directory, served by a thread that reads
// request lines and answers each with whatever the test's handler returns.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_support/temp_dir.h"

namespace etherip::control::testing {

using testing_support::TempDir;

class FakeServer {
 public:
  // What to do with a request line.
  struct Reply {
    enum Kind { kAnswer, kSilence, kClose } kind = kAnswer;
    std::string bytes;  // kAnswer: sent as is (add the '\n' yourself)
  };
  using Handler = std::function<Reply(const std::string& line)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    path_ = dir_.File("etheripd.sock");
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address),
               sizeof address) != 0 ||
        ::listen(listener_, 8) != 0 || ::pipe(stop_pipe_) != 0) {
      std::abort();
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    char byte = 0;
    (void)!::write(stop_pipe_[1], &byte, 1);
    thread_.join();
    ::close(listener_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }

  const std::string& path() const { return path_; }
  // Every request line received so far, in order.
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  // Serves one connection at a time until told to stop; a connection ends
  // when the client closes it or the handler says kClose.
  void Serve() {
    std::vector<int> silent;  // kept open, never answered
    while (WaitReadable(listener_)) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      if (!ServeConnection(fd)) {
        silent.push_back(fd);
        continue;
      }
      ::close(fd);
    }
    for (int fd : silent) ::close(fd);
  }

  // False when the connection was left hanging (kSilence): the caller
  // keeps it open so the client sees a timeout, not a close.
  bool ServeConnection(int fd) {
    std::string buffer;
    while (WaitReadable(fd)) {
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, newline);
        buffer.erase(0, newline + 1);
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(line);
        }
        Reply reply = handler_(line);
        if (reply.kind == Reply::kClose) return true;
        if (reply.kind == Reply::kSilence) return false;
        (void)!::send(fd, reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL);
      }
    }
    return true;
  }

  // Waits for `fd` to be readable; false when the server is stopping.
  bool WaitReadable(int fd) {
    pollfd entries[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    while (true) {
      if (::poll(entries, 2, -1) < 0) continue;
      if (entries[1].revents != 0) return false;
      if (entries[0].revents != 0) return true;
    }
  }

  TempDir dir_;
  std::string path_;
  Handler handler_;
  int listener_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::atomic<int> connections_{0};
};

}  // namespace etherip::control::testing
