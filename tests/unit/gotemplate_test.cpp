// The --format template engine (src/cli/gotemplate.h): what Docker users type, what Go prints
// for it, and a one-line error (exit 125) for what is not supported.
#include <gtest/gtest.h>

#include "gotemplate.h"
#include "table_format.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::cli::format_rows;
using minirun::cli::GoTemplate;
using minirun::cli::tabwrite;
using ojson = nlohmann::ordered_json;

namespace {

ojson container() {
  return ojson::parse(R"({
    "Id": "0123456789abcdef",
    "Name": "/web",
    "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0},
    "Config": {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh", "-c", "echo hi"], "Entrypoint": null,
               "Labels": {"b": "2", "a": "1"}, "Image": "busybox:latest"},
    "RootFS": {"Layers": ["sha256:aa", "sha256:bb"]},
    "Size": 1234567
  })");
}

std::string run(const std::string& t, const ojson& dot = container()) { return GoTemplate(t).execute(dot); }

std::string error_of(const std::string& t, const ojson& dot = container()) {
  try {
    GoTemplate(t).execute(dot);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125) << t;
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << t;
  return "";
}

}  // namespace

TEST(GoTemplate, FieldPathsPrintAsGoPrintsThem) {
  EXPECT_EQ(run("{{.State.Pid}}"), "4242");
  EXPECT_EQ(run("{{.Name}} {{.State.Status}} {{.State.Running}}"), "/web running true");
  EXPECT_EQ(run("pid={{ .State.Pid }}!"), "pid=4242!");
  EXPECT_EQ(run("{{.Config.Env}}"), "[PATH=/bin A=1]");
  EXPECT_EQ(run("{{.Config.Labels}}"), "map[a:1 b:2]");
  EXPECT_EQ(run("{{.Config.Entrypoint}}"), "<no value>");
  EXPECT_EQ(run("{{.Size}}"), "1234567");
  EXPECT_EQ(run("plain text"), "plain text");
  EXPECT_EQ(run("{{.}}", ojson("x")), "x");
  EXPECT_EQ(run("{{$.Name}}"), "/web");
}

TEST(GoTemplate, JsonKeepsTheObjectsOrderAndDoesNotEscapeHtml) {
  EXPECT_EQ(run("{{json .Config.Cmd}}"), R"(["sh","-c","echo hi"])");
  EXPECT_EQ(run("{{json .State}}"), R"({"Status":"running","Running":true,"Pid":4242,"ExitCode":0})");
  EXPECT_EQ(run("{{json .}}", ojson::parse(R"({"a":"<&>"})")), R"({"a":"<&>"})");
  EXPECT_EQ(run("{{json .Config.Entrypoint}}"), "null");
}

TEST(GoTemplate, DockersFunctions) {
  EXPECT_EQ(run(R"({{join .Config.Env ","}})"), "PATH=/bin,A=1");
  EXPECT_EQ(run(R"({{index .Config.Labels "a"}})"), "1");
  EXPECT_EQ(run(R"({{index .RootFS.Layers 1}})"), "sha256:bb");
  EXPECT_EQ(run(R"({{index .Config.Labels "missing"}})"), "<no value>");
  EXPECT_EQ(run("{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}}"), "RUNNING abc Hello World");
  EXPECT_EQ(run("{{len .Config.Env}} {{len .Name}}"), "2 4");
  EXPECT_EQ(run(R"({{split "a:b:c" ":"}})"), "[a b c]");
  EXPECT_EQ(run("{{truncate .Id 4}}|{{pad .Name 1 2}}|"), "0123| /web  |");
  EXPECT_EQ(run(R"({{printf "%s=%d %q %%" .Name .State.Pid "x"}})"), "/web=4242 \"x\" %");
  EXPECT_EQ(run(R"({{slice .Id 0 3}})"), "012");
  EXPECT_EQ(run(R"({{print 1 2 "a" "b"}})"), "1 2ab");
}

TEST(GoTemplate, PipelinesAndParentheses) {
  EXPECT_EQ(run("{{.State.Status | upper}}"), "RUNNING");
  // The piped value is the last argument, as in Go (so `.Env | join ","` is join(",", list): an error).
  EXPECT_EQ(run(R"({{.Name | printf "%s!"}})"), "/web!");
  EXPECT_NE(error_of(R"({{.Config.Env | join ";"}})").find("join: expected a list"), std::string::npos);
  EXPECT_EQ(run(R"({{upper (index .Config.Labels "b")}})"), "2");
  EXPECT_EQ(run("{{.Config.Cmd | json | len}}"), "21");
}

TEST(GoTemplate, IfRangeWithAndVariables) {
  EXPECT_EQ(run("{{if .State.Running}}up{{else}}down{{end}}"), "up");
  EXPECT_EQ(run("{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{else}}other{{end}}"), "zero");
  EXPECT_EQ(run("{{if and .State.Running (gt .State.Pid 1)}}yes{{end}}"), "yes");
  EXPECT_EQ(run("{{if not .Config.Entrypoint}}none{{end}}"), "none");
  EXPECT_EQ(run("{{range .Config.Env}}[{{.}}]{{end}}"), "[PATH=/bin][A=1]");
  EXPECT_EQ(run("{{range $i, $e := .RootFS.Layers}}{{$i}}={{$e}} {{end}}"), "0=sha256:aa 1=sha256:bb ");
  EXPECT_EQ(run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}"), "a:1,b:2,");
  EXPECT_EQ(run("{{range .Config.Entrypoint}}x{{else}}empty{{end}}"), "empty");
  EXPECT_EQ(run("{{with .State}}{{.Pid}}{{end}}"), "4242");
  EXPECT_EQ(run("{{$n := .Name}}{{range .Config.Env}}{{$n}}{{end}}"), "/web/web");
  EXPECT_EQ(run("{{range .Config.Env}}{{$.Name}} {{end}}"), "/web /web ");
}

TEST(GoTemplate, TrimMarkersAndComments) {
  EXPECT_EQ(run("a  {{- .Name -}}  \n b"), "a/webb");
  EXPECT_EQ(run("{{/* a comment */}}x"), "x");
  EXPECT_EQ(run(R"({{"}}"}})"), "}}");
}

TEST(GoTemplate, MissingFieldsAndUnsupportedConstructsAreOneLineErrors) {
  EXPECT_NE(error_of("{{.State.Pidd}}").find("no field \"Pidd\""), std::string::npos);
  EXPECT_NE(error_of("{{.State.Pidd}}").find("Pid"), std::string::npos) << "names the fields there are";
  EXPECT_NE(error_of("{{.Name.X}}").find("can't evaluate field X"), std::string::npos);
  EXPECT_NE(error_of("{{foo .Name}}").find("function \"foo\" not defined"), std::string::npos);
  EXPECT_NE(error_of("{{template \"x\"}}").find("unsupported"), std::string::npos);
  EXPECT_NE(error_of("{{define \"x\"}}{{end}}").find("unsupported"), std::string::npos);
  EXPECT_NE(error_of(R"({{printf "%x" 1}})").find("unsupported: printf verb %x"), std::string::npos);
  EXPECT_NE(error_of(R"({{.Label "a"}})").find("method call"), std::string::npos);
  EXPECT_NE(error_of("{{.Name").find("unclosed action"), std::string::npos);
  EXPECT_NE(error_of("{{if .Name}}x").find("missing {{end}}"), std::string::npos);
  EXPECT_NE(error_of("{{end}}").find("unexpected {{end}}"), std::string::npos);
  EXPECT_NE(error_of("{{$x = 1}}").find("unsupported: assignment"), std::string::npos);
  EXPECT_NE(error_of("{{index .Config.Env 5}}").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("{{$nope}}").find("undefined variable"), std::string::npos);
  EXPECT_EQ(error_of("{{.Name}").rfind("template: ", 0), 0u);
}

TEST(GoTemplate, FormatRowsLikeDockersListVerbs) {
  ojson headers = {{"ID", "CONTAINER ID"}, {"Names", "NAMES"}};
  std::vector<ojson> rows = {{{"ID", "abc"}, {"Names", "web"}}, {{"ID", "defdefdefdefdef"}, {"Names", "db"}}};
  std::string out;
  EXPECT_FALSE(format_rows("", headers, rows, out)) << "the verb's own table";
  EXPECT_FALSE(format_rows("table", headers, rows, out));
  ASSERT_TRUE(format_rows("json", headers, rows, out));
  EXPECT_EQ(out, "{\"ID\":\"abc\",\"Names\":\"web\"}\n{\"ID\":\"defdefdefdefdef\",\"Names\":\"db\"}\n");
  ASSERT_TRUE(format_rows("{{.ID}} {{.Names}}", headers, rows, out));
  EXPECT_EQ(out, "abc web\ndefdefdefdefdef db\n");
  // "\t" typed literally (as in docker's docs) is a tab; table aligns at tabs with a header.
  ASSERT_TRUE(format_rows("table {{.ID}}\\t{{.Names}}", headers, rows, out));
  EXPECT_EQ(out,
            "CONTAINER ID      NAMES\n"
            "abc               web\n"
            "defdefdefdefdef   db\n");
  EXPECT_THROW(format_rows("{{.Nope}}", headers, rows, out), Error);
  EXPECT_THROW(format_rows("{{bad}}", headers, {}, out), Error) << "parsed even when there are no rows";
}

TEST(GoTemplate, TabwriterPadsToTheWidestCellAndAtLeastTen) {
  EXPECT_EQ(tabwrite("a\tb\nlonger-than-ten\tc\n"), "a                 b\nlonger-than-ten   c\n");
  EXPECT_EQ(tabwrite("x\ty\n"), "x         y\n");
  EXPECT_EQ(tabwrite("no tabs\n"), "no tabs\n");
}
