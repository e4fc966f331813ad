#include "server/metrics_http.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prometheus/text_serializer.h"

namespace recall {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestHead = 8192;
constexpr auto kRequestTimeout = std::chrono::seconds(2);
constexpr int kAcceptPollMs = 200;  // how soon the destructor is noticed

// Writes all of `data`, giving up at `deadline` or on an error (the client
// went away: nothing to do about it).
void WriteAll(int fd, absl::string_view data, Clock::time_point deadline) {
  while (!data.empty() && Clock::now() < deadline) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 100);
    } else {
      return;
    }
  }
}

// Reads the request head (through the blank line) into *head. False when the
// client closes, the deadline passes, or the head exceeds kMaxRequestHead
// (then *head holds what came, for a 400).
bool ReadHead(int fd, Clock::time_point deadline, std::string* head) {
  char buffer[1024];
  while (head->find("\r\n\r\n") == std::string::npos &&
         head->find("\n\n") == std::string::npos) {
    if (head->size() > kMaxRequestHead) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    head->append(buffer, static_cast<size_t>(n));
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Bad Request";
  }
}

}  // namespace

int MetricsHttpStatus(absl::string_view request_head) {
  const size_t eol = request_head.find('\n');
  if (eol == absl::string_view::npos) return 400;
  absl::string_view line = request_head.substr(0, eol);
  absl::ConsumeSuffix(&line, "\r");
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || parts[0].empty() ||
      !absl::StartsWith(parts[1], "/") ||
      !absl::StartsWith(parts[2], "HTTP/1.")) {
    return 400;
  }
  for (char c : parts[0]) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return 400;
  }
  for (char c : parts[1]) {
    if (c <= ' ' || c == 0x7f) return 400;  // controls, bytes over 127
  }
  const absl::string_view method = parts[0];
  if (method != "GET" && method != "HEAD") return 405;
  const absl::string_view path = parts[1].substr(0, parts[1].find('?'));
  return path == "/metrics" ? 200 : 404;
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> extra) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: address \"", address, "\" is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))
    host = host.substr(1, host.size() - 2);
  auto unavailable = [&address](absl::string_view why) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", why));
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                           port_text.c_str(), &hints, &found);
      rc != 0) {
    return unavailable(gai_strerror(rc));
  }
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    return unavailable(strerror(errno));
  }
  // SO_REUSEADDR only: a restart may rebind a port in TIME_WAIT, but a second
  // live server on the same port fails here (no SO_REUSEPORT).
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 16) != 0) {
    const int err = errno;
    freeaddrinfo(found);
    close(fd);
    return unavailable(strerror(err));
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(
      fd, bound_port, std::move(registry), std::move(extra)));
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

MetricsHttpServer::MetricsHttpServer(
    int listen_fd, int port, std::shared_ptr<prometheus::Registry> registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> extra)
    : listen_fd_(listen_fd),
      port_(port),
      registry_(std::move(registry)),
      extra_(std::move(extra)) {}

MetricsHttpServer::~MetricsHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
}

void MetricsHttpServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kAcceptPollMs) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Answer(fd);
    close(fd);
  }
}

void MetricsHttpServer::Answer(int fd) const {
  const Clock::time_point deadline = Clock::now() + kRequestTimeout;
  std::string head;
  if (!ReadHead(fd, deadline, &head) && head.size() <= kMaxRequestHead) {
    return;  // closed early or timed out: nobody to answer
  }
  const int status =
      head.size() > kMaxRequestHead ? 400 : MetricsHttpStatus(head);
  std::string body;
  const char* type = "text/plain; charset=utf-8";
  if (status == 200) {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    for (const auto& collectable : extra_) {
      for (prometheus::MetricFamily& family : collectable->Collect())
        families.push_back(std::move(family));
    }
    body = prometheus::TextSerializer().Serialize(families);
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    body = absl::StrCat(status, " ", Reason(status), "\n");
  }
  std::string response = absl::StrCat(
      "HTTP/1.1 ", status, " ", Reason(status), "\r\nContent-Type: ", type,
      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n",
      status == 405 ? "Allow: GET, HEAD\r\n" : "", "\r\n");
  if (!absl::StartsWith(head, "HEAD ")) response += body;
  WriteAll(fd, response, deadline);
  // Closing with unread input (a request body) would reset the connection
  // and could discard the response before the client reads it: half-close,
  // then drain briefly.
  shutdown(fd, SHUT_WR);
  char sink[4096];
  for (int i = 0; i < 16; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0 || recv(fd, sink, sizeof(sink), 0) <= 0) break;
  }
}

}  // namespace recall
