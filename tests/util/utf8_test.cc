#include "util/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const char* s :
       {"", "plain ascii", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
  }
}

TEST(Utf8Test, RefusesMalformedText) {
  for (const std::string& s :
       {std::string("\xff"), std::string("\xc3"),              // truncated
        std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),  // overlong
        std::string("\xed\xa0\x80"),                           // surrogate
        std::string("\xf4\x90\x80\x80"),                       // > U+10FFFF
        std::string("\x80"), std::string("ok\xe4\xb8"),
        std::string("\xe4\x41\x41")}) {
    EXPECT_FALSE(IsValidUtf8(s)) << s;
  }
}

}  // namespace
}  // namespace recall
