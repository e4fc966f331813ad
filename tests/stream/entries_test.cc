// The streams' entry formats (stream/entries.h): what producers write reads
// back as written, and every way an item entry can be wrong is refused
// with its reason and the field named.
#include "stream/entries.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

ItemEvent AnUpsert() {
  ItemEvent event;
  event.item.id = "20261206A001";
  event.item.cat1 = "sports";
  event.item.cat2 = "sports/football";
  event.item.media_id = "m7";
  event.item.tags = {{"worldcup", 0.9f}, {"messi", 0.25f}};
  event.item.publish_ts = 1796000000;
  event.item.hotness = 12.5f;
  event.item.ctr = 0.125f;
  event.vectors = {{"dssm", {0.1f, -2.5f, 1e-7f, 3.14159274f}},
                   {"title2vec", {1, 0}}};
  return event;
}

// The fields with `name` replaced by `value` (or dropped when `value` is
// null), or appended when absent.
StreamFields With(StreamFields fields, const std::string& name,
                  const char* value) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first != name) continue;
    if (value == nullptr) {
      fields.erase(it);
    } else {
      it->second = value;
    }
    return fields;
  }
  if (value != nullptr) fields.emplace_back(name, value);
  return fields;
}

TEST(EntriesTest, AnUpsertReadsBackAsWritten) {
  const ItemEvent event = AnUpsert();
  const StreamFields fields = EncodeItemEvent(event);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>("v", "1")));
  ItemEvent back;
  absl::string_view reason;
  ASSERT_TRUE(ParseItemEvent(fields, "1-0", &back, &reason).ok());
  EXPECT_EQ(back.op, ItemEvent::Op::kUpsert);
  EXPECT_EQ(back.item.id, event.item.id);
  EXPECT_EQ(back.item.cat1, event.item.cat1);
  EXPECT_EQ(back.item.cat2, event.item.cat2);
  EXPECT_EQ(back.item.media_id, event.item.media_id);
  EXPECT_EQ(back.item.tags, event.item.tags);
  EXPECT_EQ(back.item.publish_ts, event.item.publish_ts);
  EXPECT_EQ(back.item.hotness, event.item.hotness);
  EXPECT_EQ(back.item.ctr, event.item.ctr);
  EXPECT_EQ(back.vectors, event.vectors);  // every float exactly
}

TEST(EntriesTest, ADeleteCarriesTheIdOnly) {
  ItemEvent event;
  event.op = ItemEvent::Op::kDelete;
  event.item.id = "gone";
  const StreamFields fields = EncodeItemEvent(event);
  EXPECT_EQ(fields.size(), 3u);
  ItemEvent back;
  absl::string_view reason;
  ASSERT_TRUE(ParseItemEvent(fields, "1-0", &back, &reason).ok());
  EXPECT_EQ(back.op, ItemEvent::Op::kDelete);
  EXPECT_EQ(back.item.id, "gone");
}

TEST(EntriesTest, UnknownFieldsAreIgnored) {
  ItemEvent back;
  absl::string_view reason;
  EXPECT_TRUE(ParseItemEvent(With(EncodeItemEvent(AnUpsert()), "title",
                                  "a later addition"),
                             "1-0", &back, &reason)
                  .ok());
}

TEST(EntriesTest, BadItemEntriesAreRefusedWithTheirReason) {
  const StreamFields good = EncodeItemEvent(AnUpsert());
  const std::string huge(kMaxFieldBytes + 1, 'x');
  std::string many_values = "1";
  for (size_t i = 0; i < kMaxVectorValues; ++i) many_values += " 1";
  StreamFields repeated = good;
  repeated.emplace_back("cat1", "again");
  struct Case {
    StreamFields fields;
    std::string reason;
    std::string message;
  };
  const std::vector<Case> cases = {
      {With(good, "v", nullptr), "version", "format version \"\""},
      {With(good, "v", "2"), "version", "format version \"2\""},
      {With(good, "op", "patch"), "op", "\"op\" is \"patch\""},
      {With(good, "op", nullptr), "op", "want upsert or delete"},
      {With(good, "item_id", nullptr), "field", "no \"item_id\""},
      {With(good, "item_id", ""), "field", "no \"item_id\""},
      {With(good, "hotness", nullptr), "field", "no \"hotness\" field"},
      {With(good, "hotness", "-1"), "field", "bad hotness"},
      {With(good, "ctr", "2"), "field", "bad ctr"},
      {With(good, "publish_ts", "soon"), "field", "bad publish_ts"},
      {With(good, "tags", "no-weight"), "field", "malformed tag"},
      {With(good, "cat1", "\xff\xfe"), "field", "not valid UTF-8"},
      {With(good, "item_id", "a\tb"), "field", "tab or newline"},
      {repeated, "field", "\"cat1\" repeated"},
      {With(good, "cat2", huge.c_str()), "too_large", "\"cat2\" has"},
      {With(good, "vec:dssm", "1 nan 2"), "vector", "\"nan\" is not a finite"},
      {With(good, "vec:dssm", "1 inf"), "vector", "not a finite number"},
      {With(good, "vec:dssm", "1  2"), "vector", "\"\" is not a finite"},
      {With(good, "vec:dssm", "1,2"), "vector", "not a finite number"},
      {With(good, "vec:dssm", many_values.c_str()), "vector", "more than"},
      {With(good, "vec:", "1 2"), "vector", "names no space"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    ItemEvent event;
    absl::string_view reason;
    const absl::Status s =
        ParseItemEvent(cases[i].fields, "1700-3", &event, &reason);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(reason, cases[i].reason);
    EXPECT_THAT(std::string(s.message()), HasSubstr(cases[i].message));
    EXPECT_THAT(std::string(s.message()), HasSubstr("entry 1700-3"));
  }
}

TEST(EntriesTest, AClickReadsBackAsWritten) {
  ClickEvent click;
  ASSERT_TRUE(
      ParseClick(EncodeClick({"u1", "i1", 1700000000}), "1-0", &click).ok());
  EXPECT_EQ(click.user_id, "u1");
  EXPECT_EQ(click.item_id, "i1");
  EXPECT_EQ(click.ts, 1700000000);
}

}  // namespace
}  // namespace recall
