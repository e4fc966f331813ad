// Helpers shared by the tests.
#ifndef RECALL_TESTS_TEST_UTIL_H_
#define RECALL_TESTS_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <system_error>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace recall {

// A fresh, uniquely named directory under the test temp dir, removed with
// everything in it when the object goes away.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix = "recall_test") {
    std::string pattern = ::testing::TempDir() + prefix + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      ADD_FAILURE() << "mkdtemp " << pattern;
    dir_ = pattern;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& dir() const { return dir_; }
  // dir()/name
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

// A loopback port nothing listens on (free when asked; the kernel does not
// hand it out again at once).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

// Plain HTTP/1.0 GET; returns the whole response (headers and body).
// Sends `request` (raw bytes) to 127.0.0.1:port and returns everything the
// server writes until it closes the connection ("" when it cannot connect).
// A TCP connection to 127.0.0.1:port, or -1.
inline int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline std::string HttpExchange(int port, const std::string& request) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;)
    response.append(buffer, n);
  close(fd);
  return response;
}

inline std::string HttpGet(int port, const std::string& path) {
  return HttpExchange(port,
                      "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
}

// The value on the Prometheus exposition line of `series` (the name and its
// labels as served, e.g. `recall_requests_in_flight` or
// `recall_requests_total{code="OK",method="Recall"}`), or `absent` when no
// line has it.
inline double MetricValue(const std::string& metrics, const std::string& series,
                          double absent) {
  const std::string line_start = "\n" + series + " ";
  const size_t at = metrics.find(line_start);
  if (at == std::string::npos) return absent;
  return std::stod(metrics.substr(at + line_start.size()));
}

// The whole file, bytes as they are ("" when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `content` as the whole file.
inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// Polls `done` every 10 ms for up to `within`; true once it holds.
inline bool WaitFor(const std::function<bool()>& done,
                    absl::Duration within = absl::Seconds(5)) {
  const absl::Time give_up = absl::Now() + within;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace recall

#endif  // RECALL_TESTS_TEST_UTIL_H_
