// gotemplate.cpp — a small Go text/template over JSON values (see gotemplate.h for the subset):
// running a parsed template.
//
// Design: the template is parsed once into a tree (gotemplate_parse.cpp; text, actions,
// if/range/with blocks; an action is a pipeline of commands, a command a list of operands).
// Execution walks the tree with `.` and the variables in scope; values are
// nlohmann::ordered_json, so objects keep the key order the verb built (what `json` prints), and
// the functions are gotemplate_functions.cpp's.
#include "gotemplate.h"

#include <map>

#include "gotemplate_tree.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

using gotemplate::call;
using gotemplate::Command;
using gotemplate::Operand;
using gotemplate::Pipeline;
using gotemplate::fail;
using gotemplate::kind_name;
using gotemplate::print_value;
using gotemplate::truthy;

class Exec {
 public:
  Exec(const ojson& root, bool lenient) : lenient_(lenient) { vars_.push_back({"$", root}); }

  void run(const NodeList& nodes, const ojson& dot, std::string& out) {
    size_t mark = vars_.size();
    for (const auto& n : nodes) node(*n, dot, out);
    vars_.resize(mark);
  }

 private:
  void node(const GoTemplate::Node& n, const ojson& dot, std::string& out) {
    using N = GoTemplate::Node;
    switch (n.kind) {
      case N::text:
        out += n.str;
        return;
      case N::action: {
        ojson v = pipeline(n.pipe, dot);
        if (!n.pipe.decl.empty()) vars_.push_back({n.pipe.decl[0], v});
        else out += print_value(v);
        return;
      }
      case N::if_:
      case N::with: {
        ojson v = pipeline(n.pipe, dot);
        size_t mark = vars_.size();
        if (!n.pipe.decl.empty()) vars_.push_back({n.pipe.decl[0], v});
        if (truthy(v)) run(n.body, n.kind == N::with ? v : dot, out);
        else run(n.else_body, dot, out);
        vars_.resize(mark);
        return;
      }
      case N::range: {
        ojson v = pipeline(n.pipe, dot);
        if (!truthy(v)) {
          run(n.else_body, dot, out);
          return;
        }
        auto each = [&](const ojson& key, const ojson& elem) {
          size_t mark = vars_.size();
          if (n.pipe.decl.size() == 1) vars_.push_back({n.pipe.decl[0], elem});
          if (n.pipe.decl.size() == 2) vars_.push_back({n.pipe.decl[0], key}), vars_.push_back({n.pipe.decl[1], elem});
          run(n.body, elem, out);
          vars_.resize(mark);
        };
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); i++) each(ojson(i), v[i]);
        } else if (v.is_object()) {
          std::map<std::string, const ojson*> sorted;
          for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = &it.value();
          for (const auto& [k, e] : sorted) each(ojson(k), *e);
        } else if (v.is_number_integer() && v.get<long long>() > 0) {
          for (long long i = 0; i < v.get<long long>(); i++) each(ojson(i), ojson(i));
        } else {
          fail("range can't iterate over " + print_value(v) + " in {{" + n.pipe.text + "}}");
        }
        return;
      }
    }
  }

  ojson pipeline(const Pipeline& p, const ojson& dot) {
    ojson v;
    bool have = false;
    for (const auto& c : p.cmds) {
      v = command(c, dot, have ? &v : nullptr, p.text);
      have = true;
    }
    return v;
  }

  ojson command(const Command& c, const ojson& dot, const ojson* piped, const std::string& text) {
    const Operand& first = c.args[0];
    if (first.kind != Operand::func) return operand(first, dot, text);
    std::vector<ojson> args;
    for (size_t i = 1; i < c.args.size(); i++) args.push_back(operand(c.args[i], dot, text));
    if (piped) args.push_back(*piped);
    try {
      return call(first.name, args);
    } catch (const Error& e) {
      if (lenient_) return "";
      throw Error(std::string(e.what()) + " in {{" + text + "}}", kExitFailed);
    }
  }

  ojson operand(const Operand& o, const ojson& dot, const std::string& text) {
    switch (o.kind) {
      case Operand::literal:
        return o.value;
      case Operand::field:
        return walk(dot, o.path, text);
      case Operand::var:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == o.name) return walk(it->second, o.path, text);
        fail("undefined variable " + o.name + " in {{" + text + "}}");
      case Operand::sub:
        return pipeline(*o.pipe, dot);
      case Operand::func:
        return call(o.name, {});
    }
    return nullptr;
  }

  ojson walk(const ojson& base, const std::vector<std::string>& path, const std::string& text) {
    const ojson* v = &base;
    std::string at;
    for (const auto& f : path) {
      at += "." + f;
      if (v->is_null()) return nullptr;
      if (!v->is_object()) {
        if (lenient_) return "";
        fail("can't evaluate field " + f + " in " + kind_name(*v) + " " + at.substr(0, at.size() - f.size() - 1) +
             " in {{" + text + "}}");
      }
      auto it = v->find(f);
      if (it == v->end()) {
        if (lenient_) return "";
        std::string fields;
        for (auto k = v->begin(); k != v->end(); ++k) fields += (fields.empty() ? "" : ", ") + k.key();
        fail("no field \"" + f + "\" at <" + at + "> in {{" + text + "}} (there: " + fields + ")");
      }
      v = &*it;
    }
    return *v;
  }

  bool lenient_;
  std::vector<std::pair<std::string, ojson>> vars_;
};

}  // namespace

GoTemplate::GoTemplate(const std::string& text) : text_(text) { nodes_ = gotemplate::parse(text_); }
GoTemplate::~GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;

std::string GoTemplate::execute(const ojson& dot) const {
  std::string out;
  Exec(dot, false).run(nodes_, dot, out);
  return out;
}

std::string GoTemplate::execute_lenient(const ojson& dot) const {
  std::string out;
  Exec(dot, true).run(nodes_, dot, out);
  return out;
}

}  // namespace minirun::cli
