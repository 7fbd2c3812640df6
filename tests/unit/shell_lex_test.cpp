// The Dockerfile's variable substitution and word splitting, against BuildKit's own cases.
#include <gtest/gtest.h>

#include <sstream>

#include "minirun/dockerfile/shell_lex.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::dockerfile::empty_env;
using minirun::dockerfile::env_lookup;
using minirun::dockerfile::LexOptions;
using minirun::dockerfile::ShellLex;

namespace {

struct LexCase {
  const char* source;
  const char* expected;
};

const LexCase kEnvVarCases[] = {
#include "shell_lex_cases.inc"
};

const char* const kWordsFile =
#include "shell_lex_words.inc"
    ;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string expand(const std::string& word, const std::vector<std::pair<std::string, std::string>>& env,
                   char escape = '\\') {
  return ShellLex(escape).process_word(word, env_lookup(env));
}

}  // namespace

TEST(ShellLex, BuildKitEnvVarCases) {
  auto env = env_lookup({{"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}});
  ShellLex lex('\\');
  for (const auto& c : kEnvVarCases) {
    if (std::string(c.expected) == "error") {
      EXPECT_THROW(lex.process_word(c.source, env), Error) << c.source;
    } else {
      try {
        EXPECT_EQ(lex.process_word(c.source, env), c.expected) << c.source;
      } catch (const Error& e) {
        ADD_FAILURE() << c.source << ": " << e.what();
      }
    }
  }
}

TEST(ShellLex, BuildKitWordsCases) {
  std::istringstream in(kWordsFile);
  std::vector<std::pair<std::string, std::string>> env;
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("ENV ", 0) == 0) {
      std::string kv = line.substr(3);
      kv.erase(0, kv.find_first_not_of(' '));
      size_t eq = kv.find('=');
      env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      continue;
    }
    size_t bar = line.find('|');
    ASSERT_NE(bar, std::string::npos) << line;
    std::string test = trim(line.substr(0, bar));
    std::string exp = line.substr(bar + 1);
    exp.erase(0, exp.find_first_not_of(' '));
    std::vector<std::string> expected;
    std::istringstream parts(exp);
    for (std::string p; std::getline(parts, p, ',');) expected.push_back(p);
    if (!exp.empty() && exp.back() == ',') expected.emplace_back();
    std::vector<std::string> got;
    try {
      got = ShellLex('\\').process_words(test, env_lookup(env));
    } catch (const Error&) {
      got = {"error"};
    }
    EXPECT_EQ(got, expected) << test;
    ++checked;
  }
  EXPECT_GE(checked, 24);
}

TEST(ShellLex, PrefixAndSuffixRemoval) {
  std::vector<std::pair<std::string, std::string>> env = {{"P", "/usr/local/bin/tool.tar.gz"}, {"E", ""}};
  EXPECT_EQ(expand("${P#*/}", env), "usr/local/bin/tool.tar.gz");
  EXPECT_EQ(expand("${P##*/}", env), "tool.tar.gz");
  EXPECT_EQ(expand("${P%.*}", env), "/usr/local/bin/tool.tar");
  EXPECT_EQ(expand("${P%%.*}", env), "/usr/local/bin/tool");
  EXPECT_EQ(expand("${P#/usr}", env), "/local/bin/tool.tar.gz");
  EXPECT_EQ(expand("${P#nomatch}", env), "/usr/local/bin/tool.tar.gz");
  EXPECT_EQ(expand("${P%t?r.gz}", env), "/usr/local/bin/tool.");
  EXPECT_EQ(expand("${UNSET#x}", env), "");
  EXPECT_EQ(expand("${E%x}", env), "");
  // From BuildKit's lex tests.
  std::vector<std::pair<std::string, std::string>> abc = {{"ABC", "a*b*c"}};
  EXPECT_EQ(expand("${ABC#a\\*b}", abc), "*c");
  EXPECT_EQ(expand("${ABC%b\\*c}", abc), "a*");
  EXPECT_THROW(expand("${P:#x}", env), Error);
  EXPECT_THROW(expand("${P#\\x}", env), Error);
}

TEST(ShellLex, PatternReplacement) {
  std::vector<std::pair<std::string, std::string>> env = {{"V", "a-b-c"}};
  EXPECT_EQ(expand("${V/-/_}", env), "a_b-c");
  EXPECT_EQ(expand("${V//-/_}", env), "a_b_c");
  EXPECT_EQ(expand("${V/b*/x}", env), "a-x");
  EXPECT_EQ(expand("${V/zz/x}", env), "a-b-c");
  EXPECT_THROW(expand("${V/-", env), Error);
}

TEST(ShellLex, ModifiersAndTheirErrors) {
  std::vector<std::pair<std::string, std::string>> env = {{"SET", "v"}, {"EMPTY", ""}};
  EXPECT_EQ(expand("${EMPTY-def}", env), "");
  EXPECT_EQ(expand("${EMPTY:-def}", env), "def");
  EXPECT_EQ(expand("${EMPTY+alt}", env), "alt");
  EXPECT_EQ(expand("${EMPTY:+alt}", env), "");
  EXPECT_EQ(expand("${SET:+alt}", env), "alt");
  try {
    expand("${MISSING:?must be given}", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed to process \"${MISSING:?must be given}\": MISSING: must be given");
  }
  try {
    expand("${EMPTY:?}", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty");
  }
  try {
    expand("${MISSING?}", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed to process \"${MISSING?}\": MISSING: is not allowed to be unset");
  }
  try {
    expand("${SET", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed to process \"${SET\": unsupported modifier (\xEF\xBF\xBD) in substitution");
  }
  try {
    expand("${}", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed to process \"${}\": syntax error: bad substitution");
  }
  try {
    expand("'abc", env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote");
  }
}

TEST(ShellLex, BacktickEscape) {
  std::vector<std::pair<std::string, std::string>> env = {{"V", "x"}};
  EXPECT_EQ(expand("a`$V", env, '`'), "a$V");
  EXPECT_EQ(expand("a\\$V", env, '`'), "a\\x");
  EXPECT_EQ(expand("\"`\"q\"", env, '`'), "\"q");
  EXPECT_EQ(expand("c:\\dir", env, '`'), "c:\\dir");
}

TEST(ShellLex, SkipUnsetKeepsTheReferenceAndRawQuotesKeepQuotes) {
  LexOptions o;
  o.skip_unset_env = true;
  o.raw_quotes = true;
  ShellLex lex('\\', o);
  auto env = env_lookup({{"A", "1"}});
  EXPECT_EQ(lex.process_word("$A $B ${C} ${D:-x}", env), "1 $B ${C} ${D:-x}");
  EXPECT_EQ(lex.process_word("'q' \"$A\"", env), "'q' \"1\"");
  EXPECT_EQ(lex.process_words("<<EOF x", empty_env()), (std::vector<std::string>{"<<EOF", "x"}));
  EXPECT_EQ(lex.process_words("<< EOF", empty_env()), (std::vector<std::string>{"<< EOF"}));
}

TEST(ShellLex, WordsSplitOnlyUnquotedSpace) {
  auto env = env_lookup({{"PORTS", "80/tcp  443"}});
  ShellLex lex;
  EXPECT_EQ(lex.process_words("$PORTS 8080", env), (std::vector<std::string>{"80/tcp", "443", "8080"}));
  EXPECT_EQ(lex.process_words("\"$PORTS\"", env), (std::vector<std::string>{"80/tcp  443"}));
  EXPECT_EQ(lex.process_words("a\\ b c", env), (std::vector<std::string>{"a b", "c"}));
}

// BuildKit's TestProcessWithMatches cases (the result text; "!" marks a refused word).
TEST(ShellLex, BuildKitProcessCases) {
  using Env = std::vector<std::pair<std::string, std::string>>;
  const Env fbb = {{"FOO", "xxx"}, {"BAR", ""}};
  struct Case {
    const char* input;
    Env env;
    const char* expected;
  };
  const Case cases[] = {
      {"x", {{"DUMMY", "dummy"}}, "x"},
      {"x ${UNUSED}", {{"DUMMY", "dummy"}}, "x "},
      {"x ${FOO}", {{"FOO", "y"}}, "x y"},
      {"${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", fbb, "xxx  ccc"},
      {"${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", fbb, "xxx bbb ccc"},
      {"${FOO:-}", fbb, "xxx"},
      {"${FOO:-}", {}, ""},
      {"${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", fbb, "aaa bbb "},
      {"${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", fbb, "aaa  "},
      {"${FOO?aaa}", fbb, "xxx"},
      {"${BAR?bbb}", fbb, ""},
      {"${BAZ?ccc}", fbb, "!"},
      {"${FOO:?aaa}", fbb, "xxx"},
      {"${BAR:?bbb}", fbb, "!"},
      {"${BAZ:?ccc}", fbb, "!"},
      {"${BAZ:?}", fbb, "!"},
      {"${FOO=aaa}", fbb, "!"},
      {"${FOO=:aaa}", fbb, "!"},
      {"${FOO=}", {}, "!"},
      {"${FOO#()[]{\\}^$.\\*\\?|\\\\}", {{"FOO", "()[]{}^$.*?|\\x"}}, "x"},
      {"${FOO%%\\**}", {{"FOO", "xx**"}}, "xx"},
      {"${FOO#*x*y}", {{"FOO", "xxyy"}}, "y"},
      {"${FOO#*}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", "x"}}, "xyy"},
      {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy"},
      {"${FOO#}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO##*x}", {{"FOO", "xxyy"}}, "yy"},
      {"${FOO##}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO#?\\?}", {{"FOO", "???y"}}, "?y"},
      {"${ABC:-.}${FOO%x}${ABC:-.}", {{"FOO", "xxyy"}}, ".xxyy."},
      {"${FOO%%\\**\\*}", {{"FOO", "a***yy*"}}, "a"},
      {"${FOO%}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO%%$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy"},
      {"${FOO:#}", {}, "!"},
      {"${FOO:##}", {}, "!"},
      {"${FOO:%}", {}, "!"},
      {"${FOO:%%}", {}, "!"},
      {"${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {{"FOO", "/foo*/*/*.txt"}, {"NEEDLE", "\\*/"}}, "/foo.*/*.txt - /foo..*.txt"},
      {"${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {{"FOO", "/tmp/tmp/bar.txt"}, {"NEEDLE", "/tmp"}}, "/tmp/bar.txt - /bar.txt"},
      {"${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
       {{"FOO", "/a/foo/b/c.txt"}, {"NEEDLE", "/?/"}, {"REPLACEMENT", "/"}},
       "/foo/b/c.txt - /foo/c.txt"},
      {"${FOO/$NEEDLE/$REPLACEMENT}", {{"FOO", "http://google.de"}, {"NEEDLE", "http://"}, {"REPLACEMENT", "https://"}},
       "https://google.de"},
      {"${FOO//\\//\\/}", {{"FOO", "/tmp/foo.txt"}}, "\\/tmp\\/foo.txt"},
      {"${FOO/$BAR/ww}", {{"FOO", "xxyy"}, {"BAR", ""}}, "wwxxyy"},
      {"${FOO//ww}", {{"FOO", "xxyy"}}, "!"},
      {"${FOO//}", {{"FOO", "xxyy"}}, "!"},
      {"${FOO///}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO///}", {}, ""},
  };
  for (const auto& c : cases) {
    if (std::string(c.expected) == "!") {
      EXPECT_THROW(expand(c.input, c.env), Error) << c.input;
      continue;
    }
    try {
      EXPECT_EQ(expand(c.input, c.env), c.expected) << c.input;
    } catch (const Error& e) {
      ADD_FAILURE() << c.input << ": " << e.what();
    }
  }
}

// BuildKit's TestShellParserMandatoryEnvVars.
TEST(ShellLex, BuildKitMandatoryCases) {
  std::vector<std::pair<std::string, std::string>> set = {{"VAR", "plain"}, {"ARG", "x"}};
  std::vector<std::pair<std::string, std::string>> empty = {{"VAR", ""}, {"ARG", "x"}};
  std::vector<std::pair<std::string, std::string>> unset = {{"ARG", "x"}};
  const char* no_empty = "${VAR:?message here$ARG}";
  const char* no_unset = "${VAR?message here$ARG}";
  auto message = [](const char* word, const std::vector<std::pair<std::string, std::string>>& env) {
    try {
      expand(word, env);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(expand(no_empty, set), "plain");
  EXPECT_NE(message(no_empty, empty).find("VAR: message herex"), std::string::npos);
  EXPECT_NE(message(no_empty, unset).find("VAR: message herex"), std::string::npos);
  EXPECT_EQ(expand(no_unset, set), "plain");
  EXPECT_EQ(expand(no_unset, empty), "");
  EXPECT_NE(message(no_unset, unset).find("VAR: message herex"), std::string::npos);
}
