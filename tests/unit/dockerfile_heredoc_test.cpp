// Heredocs in a Dockerfile, against BuildKit's heredoc parser cases: which instructions take
// them, their names, contents, quoting (expansion) and <<- (chomp), and the delimiter words.
#include <gtest/gtest.h>

#include "minirun/dockerfile/dockerfile_parser.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::dockerfile::parse_dockerfile;
using minirun::dockerfile::parse_heredoc_word;

namespace {

struct Doc {
  std::string name, content;
  bool expand = true, chomp = false;
  unsigned fd = 0;
};

}  // namespace

// BuildKit's TestParseExtractsHeredoc: the heredocs of each instruction after the FROM.
TEST(DockerfileHeredoc, BuildKitCases) {
  const char* text = R"(
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
	foo
	bar
INDENT

RUN <<-UNINDENT
	baz
	quux
UNINDENT

RUN <<-UNINDENT2
	baz
	quux
	UNINDENT2

RUN <<-EXPAND
	expand $NAME
EXPAND

RUN <<-'NOEXPAND'
	don't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\'f
echo foo
eo'f

RUN <<'e'o\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
	)";
  const std::vector<std::vector<Doc>> expected = {
      {},
      {},
      {},
      {},
      {{"EMPTY", ""}},
      {{"EMPTY2", "", true, false, 3}},
      {},
      {{"INDENT", "\tfoo\n\tbar\n"}},
      {{"UNINDENT", "\tbaz\n\tquux\n", true, true}},
      {{"UNINDENT2", "\tbaz\n\tquux\n", true, true}},
      {{"EXPAND", "\texpand $NAME\n", true, true}},
      {{"NOEXPAND", "\tdon't expand $NAME\n", false, true}},
      {{"COPY", "echo hello world\necho foo bar\n"}},
      {{"COMMENT", "# internal comment\necho hello world\necho foo bar # trailing comment\n"}},
      {{"MOUNT", "echo hello\n"}},
      {{"FILE1", "content 1\n"}, {"FILE2", "content 2\n"}},
      {{"EOF", "\"foo\"\n'bar'\n"}},
      {{"X", "Y\n"}, {"Y", "X\n"}},
      {{"COMPLEX", "print('hello world')\n"}},
      {{"file.txt", "hello world\n"}},
      {{"eof", "echo foo\n", false}},
      {{"eo'f", "echo foo\n", true}},
      {{"eo'f", "echo foo\n", false}},
      {{"one two", "echo bar\n", false}},
      {{"$EOF", ""}},
      {{"EOF", ""}},
      {{"EOF", ""}},
  };
  auto r = parse_dockerfile(text);
  ASSERT_EQ(r.instructions.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& got = r.instructions[i + 1].heredocs;
    ASSERT_EQ(got.size(), expected[i].size()) << "instruction " << i + 1;
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].name, expected[i][j].name) << i;
      EXPECT_EQ(got[j].content, expected[i][j].content) << i;
      EXPECT_EQ(got[j].expand, expected[i][j].expand) << i;
      EXPECT_EQ(got[j].chomp, expected[i][j].chomp) << i;
      EXPECT_EQ(got[j].fd, expected[i][j].fd) << i;
    }
  }
}

// BuildKit's TestParseJSONHeredoc: the exec form takes no heredoc.
TEST(DockerfileHeredoc, NoneInExecForm) {
  auto r = parse_dockerfile("\nFROM alpine:3.6\n\nRUN [\"whoami\"]\nRUN [\"<<EOF\"]\nRUN [\"<<'EOF'\"]\n\t");
  ASSERT_EQ(r.instructions.size(), 4u);
  for (size_t i = 1; i <= 3; ++i) EXPECT_TRUE(r.instructions[i].heredocs.empty());
}

// BuildKit's TestParseHeredocHelpers.
TEST(DockerfileHeredoc, DelimiterWords) {
  for (const char* src : {"<<EOF", "<<'EOF'", "<<\"EOF\"", "<<-EOF", "<<-'EOF'", "<<-\"EOF\"", "<<EO\"F\"", "<< EOF",
                          "<<- EOF"}) {
    auto h = parse_heredoc_word(src);
    ASSERT_TRUE(h) << src;
    EXPECT_EQ(h->name, "EOF") << src;
  }
  for (const char* src : {"<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""}) EXPECT_THROW(parse_heredoc_word(src), Error) << src;
  for (const char* src : {"", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"})
    EXPECT_FALSE(parse_heredoc_word(src)) << src;
}
