#include "server/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/host_port.h"

namespace recall {
namespace {

// Every request (a whole connection at most 16 KiB of buffers: a request
// head over about 8 KiB is refused by libmicrohttpd).
constexpr size_t kConnectionMemory = 16 * 1024;

MHD_Result CollectArgument(void* cls, MHD_ValueKind, const char* key,
                           const char* value) {
  (*static_cast<std::map<std::string, std::string>*>(cls))[key] =
      value == nullptr ? "" : value;
  return MHD_YES;
}

HttpReply Route(const HttpServerOptions& options, MHD_Connection* connection,
                absl::string_view url, absl::string_view method) {
  if (method != "GET" && method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "405 Method Not Allowed\n"};
  }
  const auto route = options.routes.find(std::string(url));
  if (route == options.routes.end()) {
    return {404, "text/plain; charset=utf-8", "404 Not Found\n"};
  }
  std::map<std::string, std::string> query;
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, CollectArgument,
                            &query);
  return route->second(query);
}

MHD_Result Answer(void* cls, MHD_Connection* connection, const char* url,
                  const char* method, const char* /*version*/,
                  const char* /*upload_data*/, size_t* /*upload_data_size*/,
                  void** /*request_state*/) {
  HttpReply reply = Route(*static_cast<const HttpServerOptions*>(cls),
                          connection, url, method);
  MHD_Response* response = MHD_create_response_from_buffer(
      reply.body.size(), reply.body.data(), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;  // out of memory: drop it
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          reply.content_type.c_str());
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
  if (reply.status == 405) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  const MHD_Result queued = MHD_queue_response(
      connection, static_cast<unsigned>(reply.status), response);
  MHD_destroy_response(response);
  return queued;
}

// A listening socket on `address`, or the status Start documents.
absl::StatusOr<int> Listen(const std::string& what,
                           const std::string& address) {
  std::string host;
  int port = -1;
  if (!SplitHostPort(address, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": address \"", address, "\" is not HOST:PORT"));
  }
  auto unavailable = [&](absl::string_view why) {
    return absl::UnavailableError(
        absl::StrCat(what, ": cannot listen on ", address, ": ", why));
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
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 ||
      listen(fd, 128) != 0) {
    const int err = errno;
    freeaddrinfo(found);
    close(fd);
    return unavailable(strerror(err));
  }
  freeaddrinfo(found);
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return bound.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& what, const std::string& address,
    HttpServerOptions options) {
  absl::StatusOr<int> fd = Listen(what, address);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<HttpServer> server(
      new HttpServer(BoundPort(*fd), std::move(options)));
  const HttpServerOptions& o = server->options_;
  server->daemon_ = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, nullptr, nullptr, &Answer,
      const_cast<HttpServerOptions*>(&o), MHD_OPTION_LISTEN_SOCKET, *fd,
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(o.threads),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(o.idle_timeout_s),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    close(*fd);
    return absl::UnavailableError(absl::StrCat(
        what, ": cannot serve on ", address, ": libmicrohttpd did not start"));
  }
  return server;
}

HttpServer::~HttpServer() {
  if (daemon_ != nullptr) {
    // Returns the listening socket (MHD does not close one it was given).
    const MHD_socket listen_fd = MHD_quiesce_daemon(daemon_);
    MHD_stop_daemon(daemon_);
    if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
  }
}

}  // namespace recall
