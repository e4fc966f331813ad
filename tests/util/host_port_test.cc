// util/host_port.h: HOST:PORT with names, IPv4 and [IPv6] literals.
#include "util/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(SplitHostPortTest, SplitsAtTheLastColonAndDropsIpv6Brackets) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:9464", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  ASSERT_TRUE(SplitHostPort("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(SplitHostPort(":50051", &host, &port));
  EXPECT_EQ(host, "");
  ASSERT_TRUE(SplitHostPort("metrics.internal:65535", &host, &port));
  EXPECT_EQ(host, "metrics.internal");
}

TEST(SplitHostPortTest, RefusesWhatIsNotHostPort) {
  std::string host;
  int port = 0;
  for (const char* bad : {"localhost", "localhost:", "localhost:x",
                          "localhost:-1", "localhost:65536", ""}) {
    EXPECT_FALSE(SplitHostPort(bad, &host, &port)) << bad;
  }
}

}  // namespace
}  // namespace recall
