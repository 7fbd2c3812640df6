// The Dockerfile parser: BuildKit's parser cases (the tree dumped as its tests dump it), then
// directives, continuations, JSON vs shell form, flags, heredocs and the errors' words.
#include <gtest/gtest.h>

#include "minirun/dockerfile/dockerfile_parser.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::dockerfile::chomp_heredoc_content;
using minirun::dockerfile::Node;
using minirun::dockerfile::parse_dockerfile;
using minirun::dockerfile::parse_heredoc_word;

namespace {

struct ParserCase {
  const char* name;
  const char* dockerfile;
  const char* result;
};

const ParserCase kCases[] = {
#include "dockerfile_parser_cases.inc"
};

// Go's strconv.Quote for the texts of the cases (printable UTF-8 kept).
std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\a': out += "\\a"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// BuildKit's Node.Dump.
std::string dump(const Node& n) {
  std::string s = lower(n.command);
  if (!n.flags.empty()) {
    s += " [";
    for (size_t i = 0; i < n.flags.size(); ++i) s += (i ? " " : "") + go_quote(n.flags[i]);
    s += "]";
  }
  if (n.inner) return s + " (" + dump(*n.inner) + ")";
  for (const auto& a : n.args) s += " " + go_quote(a);
  return s;
}

std::string dump(const minirun::dockerfile::ParseResult& r) {
  std::string s;
  for (const auto& n : r.instructions) s += "(" + dump(n) + ")\n";
  return s;
}

std::string error_of(const std::string& text) {
  try {
    parse_dockerfile(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DockerfileParser, BuildKitParserCases) {
  for (const auto& c : kCases) {
    try {
      EXPECT_EQ(dump(parse_dockerfile(c.dockerfile)), c.result) << c.name;
    } catch (const Error& e) {
      ADD_FAILURE() << c.name << ": " << e.what();
    }
  }
}

TEST(DockerfileParser, LineNumbersCountContinuationsCommentsAndHeredocs) {
  auto r = parse_dockerfile(
      "# comment\n"
      "FROM busybox\n"
      "\n"
      "RUN echo a \\\n"
      "# a comment inside\n"
      "\n"
      "    b\n"
      "COPY <<EOF /x\n"
      "hello\n"
      "EOF\n"
      "cmd [\"sh\"]\n");
  ASSERT_EQ(r.instructions.size(), 4u);
  EXPECT_EQ(r.instructions[0].start_line, 2);
  EXPECT_EQ(r.instructions[1].start_line, 4);
  EXPECT_EQ(r.instructions[1].end_line, 7);
  EXPECT_EQ(r.instructions[1].args, (std::vector<std::string>{"echo a     b"}));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "Empty continuation line found in: RUN echo a     b");
  EXPECT_EQ(r.instructions[2].start_line, 8);
  EXPECT_EQ(r.instructions[2].end_line, 10);
  EXPECT_EQ(r.instructions[3].start_line, 11);
  EXPECT_TRUE(r.instructions[3].json);
  EXPECT_EQ(r.instructions[3].command, "cmd");
}

TEST(DockerfileParser, Directives) {
  auto r = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n  b\n");
  EXPECT_EQ(r.escape, '`');
  EXPECT_EQ(r.syntax, "docker/dockerfile:1");
  EXPECT_EQ(r.instructions[1].args, (std::vector<std::string>{"a   b"}));
  // After a comment, an empty line or an instruction, a directive is a comment.
  EXPECT_EQ(parse_dockerfile("# hello\n# escape=`\nFROM x\n").escape, '\\');
  EXPECT_EQ(parse_dockerfile("\n# escape=`\nFROM x\n").escape, '\\');
  EXPECT_EQ(parse_dockerfile("FROM x\n# escape=`\n").escape, '\\');
  // Unknown directives end the directives too; the key is case-insensitive, spaces allowed.
  EXPECT_EQ(parse_dockerfile("# foo=bar\n# escape=`\nFROM x\n").escape, '\\');
  EXPECT_EQ(parse_dockerfile("#  ESCAPE = ` \nFROM x\n").escape, '`');
  EXPECT_EQ(error_of("# escape=`\n# escape=\\\nFROM x\n"),
            "dockerfile parse error on line 2: only one escape parser directive can be used");
  EXPECT_EQ(error_of("# escape=x\nFROM x\n"),
            "dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\");
}

TEST(DockerfileParser, InstructionsInAnyCaseAndUnknownOnesKept) {
  auto r = parse_dockerfile("from x\nRuN true\nFOO bar\n");
  EXPECT_EQ(r.instructions[1].command, "RuN");
  EXPECT_EQ(r.instructions[2].command, "FOO");
  EXPECT_EQ(r.instructions[2].args, (std::vector<std::string>{""}));
}

TEST(DockerfileParser, JsonOrShellForm) {
  auto r = parse_dockerfile(
      "FROM x\n"
      "CMD [\"a\", \"b c\"]\n"
      "CMD ['a']\n"
      "CMD [\"a\" \n"
      "ENTRYPOINT []\n"
      "COPY [\"a b\", \"/c\"]\n"
      "COPY a  b\n");
  EXPECT_TRUE(r.instructions[1].json);
  EXPECT_EQ(r.instructions[1].args, (std::vector<std::string>{"a", "b c"}));
  EXPECT_FALSE(r.instructions[2].json);
  EXPECT_EQ(r.instructions[2].args, (std::vector<std::string>{"['a']"}));
  EXPECT_FALSE(r.instructions[3].json);
  EXPECT_EQ(r.instructions[3].args, (std::vector<std::string>{"[\"a\""}));
  EXPECT_TRUE(r.instructions[4].json);
  EXPECT_TRUE(r.instructions[4].args.empty());
  EXPECT_EQ(r.instructions[5].args, (std::vector<std::string>{"a b", "/c"}));
  EXPECT_EQ(r.instructions[6].args, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(error_of("FROM x\nCMD [\"a\", 1]\n"),
            "dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only");
}

TEST(DockerfileParser, Flags) {
  auto r = parse_dockerfile(
      "FROM --platform=$BUILDPLATFORM x AS y\n"
      "COPY --from=y --chown=\"a b\" --link src dst\n"
      "RUN --mount=type=cache,target=/c -- --not-a-flag\n"
      "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/\n");
  EXPECT_EQ(r.instructions[0].flags, (std::vector<std::string>{"--platform=$BUILDPLATFORM"}));
  EXPECT_EQ(r.instructions[0].args, (std::vector<std::string>{"x", "AS", "y"}));
  EXPECT_EQ(r.instructions[1].flags, (std::vector<std::string>{"--from=y", "--chown=a b", "--link"}));
  EXPECT_EQ(r.instructions[2].flags, (std::vector<std::string>{"--mount=type=cache,target=/c"}));
  EXPECT_EQ(r.instructions[2].args, (std::vector<std::string>{"--not-a-flag"}));
  EXPECT_EQ(r.instructions[3].flags, (std::vector<std::string>{"--interval=5s", "--retries=3"}));
  EXPECT_EQ(r.instructions[3].args, (std::vector<std::string>{"CMD", "curl -f http://x/"}));
}

TEST(DockerfileParser, EnvLabelArgWords) {
  auto r = parse_dockerfile("FROM x\nENV a=1 b=\"2 3\"\nENV k v w\nLABEL \"x y\"=z\nARG A B=2\n");
  EXPECT_EQ(r.instructions[1].args, (std::vector<std::string>{"a", "1", "=", "b", "\"2 3\"", "="}));
  EXPECT_EQ(r.instructions[2].args, (std::vector<std::string>{"k", "v w", ""}));
  EXPECT_EQ(r.instructions[3].args, (std::vector<std::string>{"\"x y\"", "z", "="}));
  EXPECT_EQ(r.instructions[4].args, (std::vector<std::string>{"A", "B=2"}));
  EXPECT_EQ(error_of("FROM x\nENV a\n"), "dockerfile parse error on line 2: ENV must have two arguments");
  EXPECT_EQ(error_of("FROM x\nENV a=1 b\n"),
            "dockerfile parse error on line 2: Syntax error - can't find = in \"b\". Must be of the form: name=value");
}

TEST(DockerfileParser, Onbuild) {
  auto r = parse_dockerfile("FROM x\nONBUILD RUN --network=none echo hi\n");
  const Node& n = r.instructions[1];
  ASSERT_TRUE(n.inner);
  EXPECT_EQ(n.inner->command, "RUN");
  EXPECT_EQ(n.inner->flags, (std::vector<std::string>{"--network=none"}));
  EXPECT_EQ(n.args, (std::vector<std::string>{"RUN", "echo hi"}));
}

TEST(DockerfileParser, Heredocs) {
  auto r = parse_dockerfile(
      "FROM x\n"
      "RUN <<EOF\n"
      "echo $HOME\n"
      "EOF\n"
      "RUN <<-'END' cat\n"
      "\t\tindented\n"
      "\tEND\n"
      "COPY <<one <<\"two\" /dst/\n"
      "1\n"
      "one\n"
      "2\n"
      "two\n"
      "RUN 3<<X cat <&3\n"
      "x\n"
      "X\n"
      "RUN [\"echo\", \"<<EOF\"]\n"
      "CMD <<EOF\n");
  ASSERT_EQ(r.instructions.size(), 7u);
  const auto& h1 = r.instructions[1].heredocs;
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_EQ(h1[0].name, "EOF");
  EXPECT_EQ(h1[0].content, "echo $HOME\n");
  EXPECT_TRUE(h1[0].expand);
  EXPECT_FALSE(h1[0].chomp);
  const auto& h2 = r.instructions[2].heredocs;
  ASSERT_EQ(h2.size(), 1u);
  EXPECT_EQ(h2[0].name, "END");
  EXPECT_FALSE(h2[0].expand);
  EXPECT_TRUE(h2[0].chomp);
  EXPECT_EQ(h2[0].content, "\t\tindented\n");
  EXPECT_EQ(chomp_heredoc_content(h2[0].content), "indented\n");
  const auto& h3 = r.instructions[3].heredocs;
  ASSERT_EQ(h3.size(), 2u);
  EXPECT_EQ(h3[0].name, "one");
  EXPECT_EQ(h3[0].content, "1\n");
  EXPECT_TRUE(h3[0].expand);
  EXPECT_EQ(h3[1].name, "two");
  EXPECT_EQ(h3[1].content, "2\n");
  EXPECT_FALSE(h3[1].expand);
  EXPECT_EQ(r.instructions[3].args, (std::vector<std::string>{"<<one", "<<\"two\"", "/dst/"}));
  EXPECT_EQ(r.instructions[4].heredocs.at(0).fd, 3u);
  EXPECT_TRUE(r.instructions[5].heredocs.empty());  // exec form: no heredoc
  EXPECT_TRUE(r.instructions[6].heredocs.empty());  // CMD takes none
  EXPECT_EQ(error_of("FROM x\nRUN <<EOF\nno end\n"), "dockerfile parse error on line 2: unterminated heredoc");
}

TEST(DockerfileParser, HeredocWords) {
  auto h = parse_heredoc_word("<<-\"EOF\"");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "EOF");
  EXPECT_TRUE(h->chomp);
  EXPECT_FALSE(h->expand);
  EXPECT_FALSE(parse_heredoc_word("<<"));
  EXPECT_FALSE(parse_heredoc_word("a<<EOF"));
  EXPECT_FALSE(parse_heredoc_word("<<EOF<"));
  h = parse_heredoc_word("<<E'O'F");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "EOF");
  EXPECT_FALSE(h->expand);
}

TEST(DockerfileParser, Errors) {
  EXPECT_EQ(error_of(""), "dockerfile parse error on line 0: file with no instructions");
  EXPECT_EQ(error_of("# only\n\n"), "dockerfile parse error on line 2: file with no instructions");
  // A byte order mark at the start is dropped.
  EXPECT_EQ(parse_dockerfile("\xEF\xBB\xBF" "FROM x\n").instructions[0].command, "FROM");
}

// BuildKit's negative parser files (testfiles-negative).
TEST(DockerfileParser, BuildKitNegativeFiles) {
  EXPECT_EQ(error_of(""), "dockerfile parse error on line 0: file with no instructions");
  EXPECT_EQ(error_of("# Hello\n# These are just comments\n\n"),
            "dockerfile parse error on line 3: file with no instructions");
  EXPECT_EQ(error_of("FROM busybox\n\nENV PATH\n"), "dockerfile parse error on line 3: ENV must have two arguments");
  EXPECT_EQ(error_of("CMD [ \"echo\", [ \"nested json\" ] ]\n"),
            "dockerfile parse error on line 1: when using JSON array syntax, arrays must be comprised of strings only");
}

// BuildKit's TestParseWords, through ENV's key=value words (parseWords keeps quotes and escapes).
TEST(DockerfileParser, BuildKitWordsCases) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"foo", {"foo"}},
      {"foo bar", {"foo", "bar"}},
      {"foo\\ bar", {"foo\\ bar"}},
      {"foo=bar", {"foo=bar"}},
      {"foo bar 'abc xyz'", {"foo", "bar", "'abc xyz'"}},
      {"foo bar \"abc xyz\"", {"foo", "bar", "\"abc xyz\""}},
      {"àöû", {"àöû"}},
      {"föo bàr \"âbc xÿz\"", {"föo", "bàr", "\"âbc xÿz\""}},
  };
  for (const auto& [input, expected] : cases) {
    // ARG keeps parseWords' words as its arguments.
    auto r = parse_dockerfile("ARG " + input + "\n");
    EXPECT_EQ(r.instructions.at(0).args, expected) << input;
  }
}

// BuildKit's TestParseIncludesLineNumbers (its testfile-line/Dockerfile).
TEST(DockerfileParser, BuildKitLineNumbers) {
  const char* text =
      "# ESCAPE=\\\n"
      "\n"
      "\n"
      "\n"
      "FROM brimstone/ubuntu:14.04\n"
      "\n"
      "\n"
      "# TORUN -v /var/run/docker.sock:/var/run/docker.sock\n"
      "\n"
      "\n"
      "ENV GOPATH \\\n"
      "/go\n"
      "\n"
      "\n"
      "\n"
      "# Install the packages we need, clean up after them and us\n"
      "RUN apt-get update \\\n"
      "\t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.clean \\\n"
      "\n"
      "\n"
      "    && apt-get --no-install-recommends install -y git golang ca-certificates \\\n"
      "    && apt-get clean \\\n"
      "    && rm -rf /var/lib/apt/lists \\\n"
      "\n"
      "\t&& go get -v github.com/brimstone/consuldock \\\n"
      "    && mv $GOPATH/bin/consuldock /usr/local/bin/consuldock \\\n"
      "\n"
      "\t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.dirty \\\n"
      "\t&& apt-get remove --purge -y $(diff /tmp/dpkg.clean /tmp/dpkg.dirty | awk '/^>/ {print $2}') \\\n"
      "\t&& rm /tmp/dpkg.* \\\n"
      "\t&& rm -rf $GOPATH\n"
      "\n"
      "\n"
      "\n"
      "\n";
  auto r = parse_dockerfile(text);
  ASSERT_EQ(r.instructions.size(), 3u);
  const int expected[3][2] = {{5, 5}, {11, 12}, {17, 31}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.instructions[i].start_line, expected[i][0]) << i;
    EXPECT_EQ(r.instructions[i].end_line, expected[i][1]) << i;
  }
}

// BuildKit's TestParseWarnsOnEmptyContinutationLine.
TEST(DockerfileParser, BuildKitEmptyContinuationWarnings) {
  auto r = parse_dockerfile(
      "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\n"
      "RUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\n"
      "RUN indented \\\n    # this is an indented comment\n    comment\n\t");
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("Empty continuation line found in"), std::string::npos);
  EXPECT_NE(r.warnings[0].find("RUN something     following     more"), std::string::npos);
  EXPECT_NE(r.warnings[1].find("RUN another     thing"), std::string::npos);
}
