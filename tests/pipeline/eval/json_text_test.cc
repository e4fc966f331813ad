// JsonNumber: rounding, and no NaN written as 0 (issue 21: the old printer
// turned a NaN into 0 silently).
#include "pipeline/eval/json_text.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(JsonNumberTest, RoundsToTheGivenDigits) {
  EXPECT_EQ(JsonNumber(0.1234567, 6).dump(), "0.123457");
  EXPECT_EQ(JsonNumber(2.5, 0).dump(), "3.0");
  EXPECT_EQ(JsonNumber(-1.25, 1).dump(), "-1.3");
  EXPECT_EQ(JsonNumber(1e300, 6).dump(), "1e+300");
}

TEST(JsonNumberTest, NonFiniteValuesAreNullNotZero) {
  EXPECT_TRUE(JsonNumber(std::nan(""), 3).is_null());
  EXPECT_TRUE(JsonNumber(std::numeric_limits<double>::infinity(), 3).is_null());
  EXPECT_TRUE(
      JsonNumber(-std::numeric_limits<double>::infinity(), 3).is_null());
}

TEST(JsonNumberTest, ObjectsKeepTheOrderFieldsWereSet) {
  JsonObject o;
  o["z"] = JsonNumber(1, 0);
  o["a"] = JsonNumber(std::nan(""), 0);
  o["m \"q\"\n"] = "caf\xC3\xA9";
  EXPECT_EQ(o.dump(),
            "{\"z\":1.0,\"a\":null,\"m \\\"q\\\"\\n\":\"caf\xC3\xA9\"}");
}

}  // namespace
}  // namespace recall
