// HttpServer: a small read-only HTTP/1.x server (GET and HEAD) on
// libmicrohttpd, for the metrics endpoint and other operator pages.
//
// Why libmicrohttpd: its event loop (epoll) multiplexes every connection on a
// fixed pool of threads, so an idle or trickling client holds no thread and
// cannot delay a scrape (the hand-written server it replaces answered one
// connection at a time: 20 idle connections held a scrape off for 36 s).
// A thread-per-connection server (cpp-httplib, civetweb) is blinded by as
// many slow clients as it has threads. prometheus::Exposer's civetweb also
// crashed on any unrouted request (SIGSEGV on `curl host:9464/`).
//
// What it answers:
//   GET or HEAD of a routed path (query string ignored)   the handler's reply
//   GET or HEAD of any other path                         404
//   any other method                                      405 (Allow: GET,
//   HEAD) a request libmicrohttpd cannot parse, or over 8 KiB   4xx or 505 from
//   it,
//                                                         or the connection
//                                                         closed unanswered
// Every response closes the connection (Connection: close); request bodies
// are never read.
//
// Limits: `threads` polling threads; at most `max_connections` open
// connections (at the limit it stops accepting: more wait in the listen
// backlog, holding nothing, until one closes); a connection with no activity
// for `idle_timeout_s` seconds is closed.
//
// Thread safety: handlers run on the polling threads, concurrently with each
// other and with whatever else the process does; they must be thread-safe.
// The destructor stops the threads and closes every connection.
#ifndef RECALL_SERVER_HTTP_SERVER_H_
#define RECALL_SERVER_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace recall {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers one GET (or HEAD: the body is dropped) of its path. `query` maps
// the query string's keys to their (decoded) values.
using HttpHandler =
    std::function<HttpReply(const std::map<std::string, std::string>& query)>;

struct HttpServerOptions {
  int threads = 2;
  int max_connections = 256;
  int idle_timeout_s = 2;
  std::map<std::string, HttpHandler> routes;  // exact path -> handler
};

class HttpServer {
 public:
  // Listens on `address` ("HOST:PORT": an IPv4 or [IPv6] address, a host
  // name, or empty HOST for every interface; PORT 0 picks a free one) and
  // starts serving. INVALID_ARGUMENT when the address does not parse,
  // UNAVAILABLE naming it when it cannot listen (e.g. the port is taken: no
  // SO_REUSEPORT, so a second server cannot share it). `what` names the
  // server in those messages ("metrics").
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& what, const std::string& address,
      HttpServerOptions options);

  ~HttpServer();

  int port() const { return port_; }

 private:
  HttpServer(int port, HttpServerOptions options)
      : port_(port), options_(std::move(options)) {}

  const int port_;
  const HttpServerOptions options_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace recall

#endif  // RECALL_SERVER_HTTP_SERVER_H_
