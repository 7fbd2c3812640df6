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

}  // namespace minirun::cli
