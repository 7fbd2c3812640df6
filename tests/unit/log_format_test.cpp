// The json-file line format: encoding (escapes, invalid UTF-8, partial lines), the fast decoder
// and the fallback for foreign field orders, RFC 3339 both ways.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "minirun/monitor/log_format.h"
#include "minirun/util/timefmt.h"

using namespace minirun;
using namespace minirun::logs;

namespace {
std::string encode(const std::string& text, bool newline, Stream s = Stream::out, int64_t t = 1764118923123456789) {
  std::string buf(max_entry_size(text.size()), '\0');
  std::string ts = format_rfc3339_nano(t);
  char* end = encode_entry(buf.data(), text.data(), text.size(), newline, s, ts.data());
  buf.resize(static_cast<size_t>(end - buf.data()));
  return buf;
}
}  // namespace

TEST(LogFormat, EncodesDockersLine) {
  EXPECT_EQ(encode("hello", true),
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-26T01:02:03.123456789Z\"}\n");
  EXPECT_EQ(encode("partial", false, Stream::err),
            "{\"log\":\"partial\",\"stream\":\"stderr\",\"time\":\"2025-11-26T01:02:03.123456789Z\"}\n");
}

TEST(LogFormat, EscapesWhatJsonNeedsAndKeepsUtf8) {
  std::string text = "a\"b\\c\td\re\x01\x1f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 end of a longer line with text";
  std::string line = encode(text, true);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["log"], text + "\n");
  EXPECT_NE(line.find("\\u0001\\u001f"), std::string::npos);
  EXPECT_NE(line.find("\xc3\xa9"), std::string::npos);  // UTF-8 as is, not \u escapes
}

TEST(LogFormat, InvalidUtf8BecomesReplacementCharacter) {
  for (std::string bad : {"\xff", "\xc3", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    std::string line = encode("x" + bad + "y", false);
    auto j = nlohmann::json::parse(line);  // valid JSON whatever the bytes
    EXPECT_EQ(j["log"].get<std::string>().substr(0, 1), "x");
    EXPECT_NE(line.find("\\ufffd"), std::string::npos) << line;
  }
}

TEST(LogFormat, EveryByteRoundTripsThroughEncoderAndDecoder) {
  std::string text;
  for (int c = 0; c < 128; c++) text.push_back(static_cast<char>(c));
  text += "\xc3\xa9 caf\xc3\xa9";
  std::string line = encode(text, true);
  line.pop_back();
  std::string out;
  Entry e;
  ASSERT_TRUE(decode_entry(line, out, e, true));
  EXPECT_EQ(out, text + "\n");
  EXPECT_EQ(e.stream, Stream::out);
  EXPECT_EQ(e.time_ns, 1764118923123456789);
  EXPECT_EQ(e.time, "2025-11-26T01:02:03.123456789Z");
}

TEST(LogFormat, FastPathGivesStreamTextAndTime) {
  std::string line = encode("x\"y", true, Stream::err);
  line.pop_back();
  Stream s;
  std::string_view esc, time;
  ASSERT_TRUE(split_entry(line, s, esc, time));
  EXPECT_EQ(s, Stream::err);
  EXPECT_EQ(esc, "x\\\"y\\n");
  EXPECT_EQ(time, "2025-11-26T01:02:03.123456789Z");
}

TEST(LogFormat, ForeignFieldOrderAndEscapesFallBackToTheParser) {
  std::string out;
  Entry e;
  // Docker with attrs, another order, \u escapes with a surrogate pair, a shorter time.
  std::string line = R"({"stream":"stderr","attrs":{"a":"b"},"time":"2026-01-02T03:04:05.5+01:00","log":"\u00e9\ud83d\ude00\/\n"})";
  Stream fs;
  std::string_view fa, fb;
  EXPECT_FALSE(split_entry(line, fs, fa, fb));
  ASSERT_TRUE(decode_entry(line, out, e, true));
  EXPECT_EQ(out, "\xc3\xa9\xf0\x9f\x98\x80/\n");
  EXPECT_EQ(e.stream, Stream::err);
  int64_t want;
  ASSERT_TRUE(parse_rfc3339("2026-01-02T02:04:05.5Z", want));
  EXPECT_EQ(e.time_ns, want);
}

TEST(LogFormat, NotAnEntryIsRefusedAndLeavesTextAlone) {
  std::string out = "kept";
  Entry e;
  EXPECT_FALSE(decode_entry("garbage", out, e, false));
  EXPECT_FALSE(decode_entry("{\"stream\":\"stdout\"}", out, e, false));
  EXPECT_FALSE(decode_entry("{\"log\":\"a\"b\",\"stream\":\"stdout\",\"time\":\"x\"}", out, e, false));
  EXPECT_EQ(out, "kept");
}

TEST(TimeFormat, FormatsAndParsesRfc3339) {
  EXPECT_EQ(format_rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_nano(951782400000000001), "2000-02-29T00:00:00.000000001Z");
  int64_t t;
  ASSERT_TRUE(parse_rfc3339("2000-02-29T00:00:00.000000001Z", t));
  EXPECT_EQ(t, 951782400000000001);
  ASSERT_TRUE(parse_rfc3339("2000-02-29T01:30:00+01:30", t));
  EXPECT_EQ(t, 951782400000000000);
  ASSERT_TRUE(parse_rfc3339("2026-11-26T01:02:03.1Z", t));
  EXPECT_EQ(t % 1000000000, 100000000);
  for (const char* bad : {"", "2026-11-26", "2026-11-26T01:02:03", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                          "2026-11-26T01:02:03.Z", "2026-11-26T01:02:03Zx", "2026-11-26 01:02:03Z"})
    EXPECT_FALSE(parse_rfc3339(bad, t)) << bad;
  for (int64_t v : {int64_t{1}, int64_t{1764118923123456789}, int64_t{4102444800999999999}}) {
    ASSERT_TRUE(parse_rfc3339(format_rfc3339_nano(v), t));
    EXPECT_EQ(t, v);
  }
}
