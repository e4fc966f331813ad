// A real redis-server for tests: started on a free loopback port with no
// persistence, killed (and restartable on the same port) at will. Needs
// redis-server on PATH (scripts/install-deps.sh installs it).
#ifndef RECALL_TESTS_REDIS_SERVER_H_
#define RECALL_TESTS_REDIS_SERVER_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "stream/redis_stream.h"
#include "tests/test_util.h"

namespace recall {

class RedisServerProcess {
 public:
  // nullptr when redis-server does not answer within 5 s.
  static std::unique_ptr<RedisServerProcess> Start() {
    auto server =
        std::unique_ptr<RedisServerProcess>(new RedisServerProcess(FreePort()));
    if (!server->Launch()) return nullptr;
    return server;
  }

  ~RedisServerProcess() { Kill(); }

  int port() const { return port_; }
  StreamAddress address(const std::string& stream) const {
    return {"127.0.0.1", port_, stream};
  }
  std::string url(const std::string& stream) const {
    return address(stream).ToString();
  }

  // SIGKILL: the broker vanishes mid-whatever, as in a crash.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Starts it again on the same port (empty: no persistence).
  bool Restart() {
    Kill();
    return Launch();
  }

 private:
  explicit RedisServerProcess(int port) : port_(port) {}

  bool Launch() {
    const std::string port = absl::StrCat(port_);
    pid_ = fork();
    if (pid_ == 0) {
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile",
             "/dev/null", static_cast<char*>(nullptr));
      _exit(127);
    }
    const absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (absl::Now() < give_up) {
      auto stream = RedisStream::Connect(address("probe"), absl::Seconds(1));
      if (stream.ok() && (*stream)->Length().ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  const int port_;
  pid_t pid_ = -1;
};

}  // namespace recall

#endif  // RECALL_TESTS_REDIS_SERVER_H_
