// RedisStream against a real redis-server (tests/redis_server.h), and the
// URL and entry id helpers.
#include "stream/redis_stream.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/redis_server.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

// The click an entry holds (the test's entries are all clicks).
ClickEvent ClickOf(const StreamEntry& entry) {
  ClickEvent click;
  EXPECT_TRUE(ParseClick(entry.fields, entry.id, &click).ok());
  return click;
}

TEST(ParseStreamUrlTest, AcceptsHostPortAndStream) {
  absl::StatusOr<StreamAddress> address = ParseStreamUrl("redis://h:1234/s");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host, "h");
  EXPECT_EQ(address->port, 1234);
  EXPECT_EQ(address->stream, "s");
  EXPECT_EQ(address->ToString(), "redis://h:1234/s");
}

TEST(ParseStreamUrlTest, PortDefaultsTo6379) {
  absl::StatusOr<StreamAddress> address =
      ParseStreamUrl("redis://redis.default.svc/clicks");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host, "redis.default.svc");
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->stream, "clicks");
}

void ExpectRefused(const std::string& url, const std::string& problem) {
  SCOPED_TRACE(url);
  absl::StatusOr<StreamAddress> address = ParseStreamUrl(url);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(address.status().message()), HasSubstr(problem));
  EXPECT_THAT(std::string(address.status().message()), HasSubstr(url));
}

TEST(ParseStreamUrlTest, RefusesAMissingScheme) {
  ExpectRefused("h:1234/s", "expected redis://HOST:PORT/STREAM");
  ExpectRefused("http://h:1234/s", "expected redis://HOST:PORT/STREAM");
  ExpectRefused("", "expected redis://HOST:PORT/STREAM");
}

TEST(ParseStreamUrlTest, RefusesAMissingStream) {
  ExpectRefused("redis://h:1234", "no stream name");
  ExpectRefused("redis://h:1234/", "no stream name");
}

TEST(ParseStreamUrlTest, RefusesABadPort) {
  ExpectRefused("redis://h:port/s", "bad port \"port\"");
  ExpectRefused("redis://h:/s", "bad port \"\"");
  ExpectRefused("redis://h:0/s", "bad port \"0\"");
  ExpectRefused("redis://h:65536/s", "bad port \"65536\"");
  ExpectRefused("redis://h:-1/s", "bad port \"-1\"");
}

TEST(ParseStreamUrlTest, RefusesNoHost) {
  ExpectRefused("redis://:1234/s", "no host");
  ExpectRefused("redis:///s", "no host");
}

TEST(EntryIdMillisTest, IsTheMillisecondsPartOfAnId) {
  EXPECT_EQ(EntryIdMillis("1700000000123-0"), 1700000000123);
  EXPECT_EQ(EntryIdMillis("1700000000123-42"), 1700000000123);
  EXPECT_EQ(EntryIdMillis("0-1"), 0);
  EXPECT_EQ(EntryIdMillis("1700000000123"), -1);
  EXPECT_EQ(EntryIdMillis("x-1"), -1);
  EXPECT_EQ(EntryIdMillis("-1"), -1);
  EXPECT_EQ(EntryIdMillis(""), -1);
}

class RedisStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = RedisServerProcess::Start();
    ASSERT_NE(server_, nullptr) << "redis-server did not start";
  }

  std::unique_ptr<RedisStream> Connect(const std::string& stream = "clicks") {
    absl::StatusOr<std::unique_ptr<RedisStream>> s =
        RedisStream::Connect(server_->address(stream), absl::Seconds(1));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // redis-cli against the test server: `args` as a shell would split them.
  void Cli(const std::string& args) {
    const std::string command = absl::StrCat("redis-cli -p ", server_->port(),
                                             " ", args, " > /dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  std::unique_ptr<RedisServerProcess> server_;
};

TEST_F(RedisStreamTest, AppendThenReadRoundTripsTheClicksInOrder) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  const std::vector<ClickEvent> clicks = {{"u1", "i1", 1700000000},
                                          {"u2", "i2", 1700000001},
                                          {"u1", "i3", 1700000002}};
  ASSERT_TRUE(stream->Append(EncodeClicks(clicks)).ok());
  absl::StatusOr<int64_t> length = stream->Length();
  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(*length, 3);

  std::vector<StreamEntry> entries;
  ASSERT_TRUE(stream->Read("0", 100, absl::Milliseconds(100), &entries).ok());
  ASSERT_EQ(entries.size(), 3u);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(entries[i].problem.ok()) << entries[i].problem;
    EXPECT_EQ(ClickOf(entries[i]).user_id, clicks[i].user_id);
    EXPECT_EQ(ClickOf(entries[i]).item_id, clicks[i].item_id);
    EXPECT_EQ(ClickOf(entries[i]).ts, clicks[i].ts);
    // Ids are the broker's clock, in stream order.
    const int64_t ms = EntryIdMillis(entries[i].id);
    EXPECT_GT(ms, now_ms - 60000);
    EXPECT_LE(ms, now_ms + 1000);
    if (i > 0) {
      EXPECT_GE(ms, EntryIdMillis(entries[i - 1].id));
      EXPECT_NE(entries[i].id, entries[i - 1].id);
    }
  }

  // Reading after the first id gives the rest; `count` caps a read.
  entries.clear();
  std::vector<StreamEntry> rest;
  ASSERT_TRUE(stream->Read("0", 1, absl::Milliseconds(100), &entries).ok());
  ASSERT_EQ(entries.size(), 1u);
  ASSERT_TRUE(
      stream->Read(entries[0].id, 10, absl::Milliseconds(100), &rest).ok());
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(ClickOf(rest[0]).item_id, "i2");
  EXPECT_EQ(ClickOf(rest[1]).item_id, "i3");
}

TEST_F(RedisStreamTest, AppendWithMaxlenTrimsTheStream) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  std::vector<ClickEvent> clicks;
  for (int i = 0; i < 1000; ++i)
    clicks.push_back({"u", absl::StrCat("i", i), 1700000000 + i});
  ASSERT_TRUE(stream->Append(EncodeClicks(clicks), /*maxlen=*/100).ok());
  absl::StatusOr<int64_t> length = stream->Length();
  ASSERT_TRUE(length.ok()) << length.status();
  // MAXLEN ~ trims whole nodes: about 100, never all 1000.
  EXPECT_GE(*length, 100);
  EXPECT_LT(*length, 1000);
}

TEST_F(RedisStreamTest, ReadAfterTheLastEntryTimesOutEmpty) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->Append(EncodeClicks({{"u1", "i1", 1700000000}})).ok());
  std::vector<StreamEntry> entries;
  ASSERT_TRUE(stream->Read("0", 10, absl::Milliseconds(50), &entries).ok());
  ASSERT_EQ(entries.size(), 1u);
  const std::string last = entries[0].id;

  entries.clear();
  const absl::Time start = absl::Now();
  absl::Status read = stream->Read(last, 10, absl::Milliseconds(50), &entries);
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_TRUE(entries.empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // The connection is still good afterwards.
  ASSERT_TRUE(stream->Append(EncodeClicks({{"u2", "i2", 1700000001}})).ok());
  ASSERT_TRUE(stream->Read(last, 10, absl::Milliseconds(50), &entries).ok());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(ClickOf(entries[0]).user_id, "u2");
}

TEST_F(RedisStreamTest, ReadOfAStreamThatDoesNotExistYetIsEmpty) {
  std::unique_ptr<RedisStream> stream = Connect("nothing-here");
  ASSERT_NE(stream, nullptr);
  std::vector<StreamEntry> entries;
  absl::Status read = stream->Read("0", 10, absl::Milliseconds(20), &entries);
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_TRUE(entries.empty());
  absl::StatusOr<int64_t> length = stream->Length();
  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(*length, 0);
}

TEST_F(RedisStreamTest, EntriesThatAreNotClicksAreRefusedByTheClickParser) {
  Cli("XADD clicks '*' user u1");                    // no item, no ts
  Cli("XADD clicks '*' item i1 ts 1700000000");      // no user
  Cli("XADD clicks '*' user u1 item i1");            // no ts
  Cli("XADD clicks '*' user u1 item i1 ts soon");    // ts not an integer
  Cli("XADD clicks '*' user u1 item i1 ts -5");      // ts negative
  Cli("XADD clicks '*' user '' item i1 ts 1");       // empty user
  Cli("XADD clicks '*' user u1 item i1 ts 17 x y");  // extra field: fine
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  std::vector<StreamEntry> entries;
  ASSERT_TRUE(stream->Read("0", 100, absl::Milliseconds(100), &entries).ok());
  ASSERT_EQ(entries.size(), 7u);
  const std::vector<std::string> problems = {
      "\"item\"",
      "\"user\"",
      "\"ts\"",
      "\"ts\" is not unix seconds: \"soon\"",
      "\"ts\" is not unix seconds",
      "\"user\""};
  for (size_t i = 0; i < problems.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(entries[i].problem.ok()) << entries[i].problem;
    ClickEvent click;
    const absl::Status problem =
        ParseClick(entries[i].fields, entries[i].id, &click);
    EXPECT_EQ(problem.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(problem.message()), HasSubstr(problems[i]));
    // The entry is named, so the id is known even for a bad entry.
    EXPECT_FALSE(entries[i].id.empty());
    EXPECT_THAT(std::string(problem.message()), HasSubstr(entries[i].id));
  }
  EXPECT_EQ(ClickOf(entries[6]).ts, 17);
}

TEST_F(RedisStreamTest,
       ConnectToNothingListeningIsUnavailableNamingTheAddress) {
  const StreamAddress address = server_->address("clicks");
  server_->Kill();  // its port now has nothing listening
  absl::StatusOr<std::unique_ptr<RedisStream>> stream =
      RedisStream::Connect(address, absl::Seconds(1));
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(stream.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", server_->port())));
}

TEST_F(RedisStreamTest, ReadFailsUnavailableOnceTheBrokerIsGone) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->Append(EncodeClicks({{"u1", "i1", 1700000000}})).ok());
  server_->Kill();
  std::vector<StreamEntry> entries;
  const absl::Time start = absl::Now();
  absl::Status read = stream->Read("0", 10, absl::Milliseconds(100), &entries);
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_THAT(std::string(read.message()), HasSubstr("XREAD"));
  EXPECT_THAT(std::string(read.message()),
              HasSubstr(server_->address("clicks").ToString()));
  EXPECT_TRUE(entries.empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(RedisStreamTest, AppendFailsUnavailableOnceTheBrokerIsGone) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  server_->Kill();
  absl::Status append =
      stream->Append(EncodeClicks({{"u1", "i1", 1700000000}}));
  EXPECT_EQ(append.code(), absl::StatusCode::kUnavailable) << append;
  EXPECT_THAT(std::string(append.message()), HasSubstr("XADD"));
}

TEST_F(RedisStreamTest, AReadBlockedWhenTheBrokerDiesFailsPromptly) {
  std::unique_ptr<RedisStream> stream = Connect();
  ASSERT_NE(stream, nullptr);
  std::vector<StreamEntry> entries;
  absl::Status read;
  std::thread reader(
      [&] { read = stream->Read("$", 10, absl::Seconds(3), &entries); });
  absl::SleepFor(absl::Milliseconds(100));  // let it block (not asserted)
  const absl::Time killed = absl::Now();
  server_->Kill();
  reader.join();
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_LT(absl::Now() - killed, absl::Seconds(2));
}

// A large append on a connection whose broker has gone: the first write
// goes out, the peer answers with a reset, and the next write of the same
// pipeline fails with EPIPE. That must come back as UNAVAILABLE, as for a
// small append, not kill the process with SIGPIPE (recallctl replay appends
// in batches). Runs in a child process so that a SIGPIPE shows as a failure
// instead of ending the test binary.
TEST(RedisStreamDeathTest, ALargeAppendToAGoneBrokerIsUnavailableNotSigpipe) {
  EXPECT_EXIT(
      {
        std::unique_ptr<RedisServerProcess> server =
            RedisServerProcess::Start();
        if (server == nullptr) std::exit(2);
        auto stream =
            RedisStream::Connect(server->address("clicks"), absl::Seconds(1));
        // A round trip first, so that the broker has accepted the
        // connection and closes it cleanly when it dies.
        if (!stream.ok() || !(*stream)->Length().ok()) std::exit(3);
        server->Kill();
        // About 10 MB of commands: more than one write() takes.
        const std::vector<ClickEvent> clicks(
            100000, {"a-user-id-of-some-length", "an-item-id-of-some-length",
                     1700000000});
        const absl::Status append = (*stream)->Append(EncodeClicks(clicks));
        std::exit(append.code() == absl::StatusCode::kUnavailable ? 0 : 4);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace recall
