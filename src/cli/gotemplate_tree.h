// gotemplate_tree.h — the inside of the --format template engine, shared by its three files:
// the parsed tree (gotemplate_parse.cpp builds it, gotemplate.cpp runs it) and the values and
// functions (gotemplate_functions.cpp: how Go prints a JSON-decoded value, truth, the function
// table). Not for the verbs: they use gotemplate.h.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gotemplate.h"

namespace minirun::cli {

using ojson = nlohmann::ordered_json;

namespace gotemplate {

struct Pipeline;

struct Operand {
  enum Kind { field, var, literal, func, sub } kind = literal;
  std::string name;               // func name; var name ("$" or "$x")
  std::vector<std::string> path;  // .A.B after the dot or the variable
  ojson value;                    // literal
  std::shared_ptr<Pipeline> pipe;  // sub
};

struct Command {
  std::vector<Operand> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared: {"$x"} or {"$i", "$v"} (range)
  std::vector<Command> cmds;
  std::string text;  // the action as typed, for error messages
};

}  // namespace gotemplate

struct GoTemplate::Node {
  enum Kind { text, action, if_, range, with } kind = text;
  std::string str;
  gotemplate::Pipeline pipe;
  std::vector<std::unique_ptr<Node>> body, else_body;
};

using NodeList = std::vector<std::unique_ptr<GoTemplate::Node>>;

namespace gotemplate {

// Throws the template's error: minirun::Error "template: MSG", exit 125.
[[noreturn]] void fail(const std::string& msg);

// The tree of `text`; every unsupported construct refused (fail) while parsing.
NodeList parse(const std::string& text);

// Whether `name` is a function the engine has, and their list for error messages.
bool is_function(const std::string& name);
extern const char* const kFunctionList;

// Go's %v of the JSON-decoded value; `top` is false inside arrays and maps, where nil is <nil>.
std::string print_value(const ojson& v, bool top = true);
// Go's truth of a value (if, with, range, and, or, not).
bool truthy(const ojson& v);
// The kind Go would name in an error: nil, string, bool, list, map, number.
std::string kind_name(const ojson& v);
// Calls function `fn` with its arguments (a piped value last); fail() on a wrong call.
ojson call(const std::string& fn, const std::vector<ojson>& args);

}  // namespace gotemplate

}  // namespace minirun::cli
