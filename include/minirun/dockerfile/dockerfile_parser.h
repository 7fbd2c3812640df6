// dockerfile_parser.h — a Dockerfile's text → its instructions as BuildKit's parser
// (frontend/dockerfile/parser) reads them, before any variable is expanded.
//
// It owns: the parser directives (# escape= with \ or `, # syntax= and # check= read, only
// before the first instruction or other comment); continuation lines (comments and empty
// lines inside a continuation are skipped, as BuildKit does); the instruction word in any
// case; the --flags in front of the arguments; the JSON (exec) form and its fall-back to the
// shell form when the text is not a JSON array of strings; heredocs (<<EOF, <<-EOF, quoted
// names, several on one line); and the line numbers every instruction came from. What the
// arguments mean is the instructions module's business.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::dockerfile {

struct Heredoc {
  std::string name;      // the delimiter word, quotes removed
  unsigned fd = 0;       // the number in front of "<<", 0 when none
  bool expand = true;    // false when the delimiter was quoted
  bool chomp = false;    // <<- : leading tabs are stripped from the content
  std::string content;   // the lines up to the delimiter, each with its newline
};

// One instruction, as the parser leaves it.
struct Node {
  std::string command;              // as written: "RUN", "run", "Copy"...
  std::vector<std::string> flags;   // "--from=base", "--link"... (quotes and escapes removed)
  // The arguments, as BuildKit's nodeArgs lists them: the words or the JSON strings; for ENV
  // and LABEL triples (key, value, "=" or "" for the legacy "KEY value" form); for HEALTHCHECK
  // the type then the command; for ONBUILD the inner instruction's word then its arguments.
  std::vector<std::string> args;
  bool json = false;                // the arguments came as a JSON array
  std::unique_ptr<Node> inner;      // ONBUILD's instruction
  std::vector<Heredoc> heredocs;
  std::string original;             // the logical line (continuations joined)
  int start_line = 0;               // 1-based, in the file
  int end_line = 0;
};

struct ParseResult {
  std::vector<Node> instructions;
  char escape = '\\';
  std::string syntax;                 // the # syntax= directive's value, "" when none
  std::vector<std::string> warnings;  // "Empty continuation line found in: ..."
};

// Throws minirun::Error "dockerfile parse error on line N: ..." (N 1-based).
ParseResult parse_dockerfile(std::string_view text);

// The heredoc a single word introduces ("<<EOF", "<<-'EOF'", "3<<EOF"), or nullptr.
std::unique_ptr<Heredoc> parse_heredoc_word(std::string_view word);

// <<- content: the leading tabs of every line removed.
std::string chomp_heredoc_content(std::string_view content);

// The message of a parse error on a line, as Docker words it.
std::string parse_error_message(int line, std::string_view message);

}  // namespace minirun::dockerfile
