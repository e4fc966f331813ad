// A Redis stream connection; see stream/redis_stream.h.
#include "stream/redis_stream.h"

#include <signal.h>
#include <sys/time.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hiredis/hiredis.h"

namespace recall {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

absl::string_view Str(const redisReply* r) {
  return absl::string_view(r->str, r->len);
}

// One XREAD entry: ["ID", ["f1", "v1", ...]].
StreamEntry ParseEntry(const redisReply* entry) {
  StreamEntry out;
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
      entry->element[0]->type != REDIS_REPLY_STRING) {
    out.problem =
        absl::InvalidArgumentError("stream entry is not [id, fields]");
    return out;
  }
  out.id = std::string(Str(entry->element[0]));
  const redisReply* fields = entry->element[1];
  if (fields->type != REDIS_REPLY_ARRAY) {
    out.problem = absl::InvalidArgumentError(
        absl::StrCat("entry ", out.id, ": no fields"));
    return out;
  }
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply* k = fields->element[i];
    const redisReply* v = fields->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
      continue;
    out.fields.emplace_back(std::string(Str(k)), std::string(Str(v)));
  }
  return out;
}

}  // namespace

std::string StreamAddress::ToString() const {
  return absl::StrCat("redis://", host, ":", port, "/", stream);
}

absl::StatusOr<StreamAddress> ParseStreamUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "redis://";
  if (!absl::StartsWith(url, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream \"", url, "\": expected redis://HOST:PORT/STREAM"));
  }
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream \"", url, "\": no stream name (redis://HOST:PORT/STREAM)"));
  }
  StreamAddress address;
  address.stream = std::string(rest.substr(slash + 1));
  absl::string_view host_port = rest.substr(0, slash);
  const size_t colon = host_port.rfind(':');
  address.host = std::string(host_port.substr(0, colon));
  if (colon != absl::string_view::npos &&
      (!absl::SimpleAtoi(host_port.substr(colon + 1), &address.port) ||
       address.port <= 0 || address.port > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream \"", url, "\": bad port \"",
                     host_port.substr(colon + 1), "\""));
  }
  if (address.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream \"", url, "\": no host"));
  }
  return address;
}

int64_t EntryIdMillis(absl::string_view id) {
  int64_t ms = 0;
  const size_t dash = id.find('-');
  if (dash == absl::string_view::npos ||
      !absl::SimpleAtoi(id.substr(0, dash), &ms)) {
    return -1;
  }
  return ms;
}

absl::StatusOr<std::unique_ptr<RedisStream>> RedisStream::Connect(
    const StreamAddress& address, absl::Duration timeout) {
  // hiredis writes with write(2): a write to a connection the broker reset
  // would raise SIGPIPE and kill the process; ignored, it is an EPIPE error
  // (UNAVAILABLE). Only when nobody installed a handler.
  static const bool sigpipe_ignored = [] {
    struct sigaction action;
    if (sigaction(SIGPIPE, nullptr, &action) == 0 &&
        action.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
    return true;
  }();
  (void)sigpipe_ignored;
  redisContext* c = redisConnectWithTimeout(address.host.c_str(), address.port,
                                            absl::ToTimeval(timeout));
  if (c == nullptr || c->err != 0) {
    std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError(
        absl::StrCat("stream ", address.ToString(), ": ", why));
  }
  return std::unique_ptr<RedisStream>(new RedisStream(address, c, timeout));
}

RedisStream::RedisStream(StreamAddress address, redisContext* context,
                         absl::Duration timeout)
    : address_(std::move(address)), context_(context), timeout_(timeout) {
  redisSetTimeout(context_, absl::ToTimeval(timeout_));
}

RedisStream::~RedisStream() { redisFree(context_); }

absl::Status RedisStream::IoError(absl::string_view what) const {
  return absl::UnavailableError(absl::StrCat(
      "stream ", address_.ToString(), ": ", what, ": ", context_->errstr));
}

absl::Status RedisStream::Append(absl::Span<const StreamFields> entries,
                                 int64_t maxlen) {
  const std::string maxlen_text = absl::StrCat(maxlen);
  for (const StreamFields& fields : entries) {
    std::vector<absl::string_view> args = {"XADD", address_.stream};
    if (maxlen > 0) {
      args.insert(args.end(), {"MAXLEN", "~", maxlen_text});
    }
    args.push_back("*");
    for (const auto& [name, value] : fields) {
      args.push_back(name);
      args.push_back(value);
    }
    std::vector<const char*> argv;
    std::vector<size_t> argvlen;
    for (absl::string_view a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()),
                               argv.data(), argvlen.data()) != REDIS_OK) {
      return IoError("XADD");
    }
  }
  absl::Status first_error;
  for (size_t i = 0; i < entries.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) return IoError("XADD");
    Reply reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR && first_error.ok()) {
      first_error = absl::InternalError(absl::StrCat(
          "stream ", address_.ToString(), ": XADD: ", Str(reply.get())));
    }
  }
  return first_error;
}

absl::Status RedisStream::Read(const std::string& after, int count,
                               absl::Duration block,
                               std::vector<StreamEntry>* out) {
  redisSetTimeout(context_, absl::ToTimeval(timeout_ + block));
  const std::string count_text = absl::StrCat(count);
  const std::string block_text = absl::StrCat(absl::ToInt64Milliseconds(block));
  const char* argv[] = {"XREAD",
                        "COUNT",
                        count_text.c_str(),
                        "BLOCK",
                        block_text.c_str(),
                        "STREAMS",
                        address_.stream.c_str(),
                        after.c_str()};
  Reply reply(
      static_cast<redisReply*>(redisCommandArgv(context_, 8, argv, nullptr)));
  redisSetTimeout(context_, absl::ToTimeval(timeout_));
  if (reply == nullptr) return IoError("XREAD");
  if (reply->type == REDIS_REPLY_NIL) return absl::OkStatus();  // timed out
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("stream ", address_.ToString(),
                                            ": XREAD: ", Str(reply.get())));
  }
  // [[stream, [entry, ...]]]
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY ||
      reply->element[0]->elements != 2) {
    return absl::InternalError(absl::StrCat("stream ", address_.ToString(),
                                            ": unexpected XREAD reply"));
  }
  const redisReply* entries = reply->element[0]->element[1];
  for (size_t i = 0; i < entries->elements; ++i)
    out->push_back(ParseEntry(entries->element[i]));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisStream::BrokerMillis() {
  const char* argv[] = {"TIME"};
  Reply reply(
      static_cast<redisReply*>(redisCommandArgv(context_, 1, argv, nullptr)));
  if (reply == nullptr) return IoError("TIME");
  int64_t seconds = 0, micros = 0;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(Str(reply->element[0]), &seconds) ||
      !absl::SimpleAtoi(Str(reply->element[1]), &micros)) {
    return absl::InternalError(absl::StrCat("stream ", address_.ToString(),
                                            ": TIME: unexpected reply"));
  }
  return seconds * 1000 + micros / 1000;
}

absl::StatusOr<int64_t> RedisStream::Length() {
  const char* argv[] = {"XLEN", address_.stream.c_str()};
  Reply reply(
      static_cast<redisReply*>(redisCommandArgv(context_, 2, argv, nullptr)));
  if (reply == nullptr) return IoError("XLEN");
  if (reply->type != REDIS_REPLY_INTEGER) {
    return absl::InternalError(absl::StrCat("stream ", address_.ToString(),
                                            ": XLEN: unexpected reply"));
  }
  return static_cast<int64_t>(reply->integer);
}

}  // namespace recall
