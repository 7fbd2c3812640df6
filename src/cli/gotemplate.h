// gotemplate.h — the part of Go's text/template that Docker users type in `--format`, over JSON
// data: `{{.State.Pid}}`, `{{.ID}} {{.Names}}`, `{{json .Config}}`, `{{join .Config.Env ","}}`,
// `{{index .Config.Labels "k"}}`, `{{range .RootFS.Layers}}…{{end}}`, `{{if .State.Running}}…{{end}}`,
// pipelines (`{{.Names | upper}}`), `$` and range variables, and Docker's `table` prefix.
//
// Supported functions: Docker's (json, join, split, upper, lower, title, truncate, pad) and Go's
// builtins index, len, slice, printf (%s %v %d %q %%), print, println, eq, ne, lt, le, gt, ge, and,
// or, not. Anything else (define/template/block, other printf verbs, method calls) is refused
// when the template is parsed, with one line naming it (minirun::Error, exit 125), before any
// output.
//
// Values print as Go prints the JSON-decoded value: strings bare, integers in decimal, null as
// `<no value>`, arrays `[a b]`, objects `map[k:v]` (keys sorted). A field missing from an object
// is an error naming the field and the fields there are.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace minirun::cli {

class GoTemplate {
 public:
  // Parses `text`; throws minirun::Error (125) on a syntax error or an unsupported construct.
  explicit GoTemplate(const std::string& text);
  ~GoTemplate();
  GoTemplate(GoTemplate&&) noexcept;
  GoTemplate& operator=(GoTemplate&&) noexcept;
  // Runs the template with `dot` as `.` and `$`; throws minirun::Error (125) on an execution
  // error (a missing field, a function given the wrong kind of value).
  std::string execute(const nlohmann::ordered_json& dot) const;
  // The same, but a missing field or a failing function prints as empty (table headers).
  std::string execute_lenient(const nlohmann::ordered_json& dot) const;

  struct Node;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::string text_;
};

// Docker's --format of a list verb (ps, images): "" or "table" is the verb's default table
// (returns false: the caller prints it); "json" one compact JSON object per row; "table TEMPLATE"
// a header row (TEMPLATE run over `headers`, e.g. {"ID": "CONTAINER ID"}) and one row per item,
// aligned at tabs like Docker's tabwriter; any other template one line per row. `\t` and `\n`
// typed literally become a tab and a newline, as in Docker. Returns true when it wrote `out`.
bool format_rows(const std::string& format, const nlohmann::ordered_json& headers,
                 const std::vector<nlohmann::ordered_json>& rows, std::string& out);

// Go's tabwriter as Docker sets it up (minwidth 10, padding 3, spaces): cells end at tabs; every
// cell but the last of a line is padded to its column's width.
std::string tabwrite(const std::string& text);

}  // namespace minirun::cli
