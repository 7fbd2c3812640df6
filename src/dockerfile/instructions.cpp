// instructions.cpp — Nodes → typed instructions (BuildKit's instructions/parse.go), the flag
// parser of the instructions (bflag.go), RUN --mount (commands_runmount.go) and the table of
// what the builder expands.
#include "minirun/dockerfile/instructions.h"

#include <algorithm>
#include <map>

#include "minirun/util/error.h"
#include "minirun/util/go_duration.h"

namespace minirun::dockerfile {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
std::string trim(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return std::string(s);
}

size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// BuildKit's suggest.WrapError: " (did you mean x?)" for a close option (distance < 3).
std::string with_suggestion(const std::string& msg, const std::string& val, const std::vector<std::string>& options,
                            bool case_sensitive) {
  std::string v = case_sensitive ? val : lower(val);
  std::string match;
  size_t mindist = 3;
  for (const auto& o : options) {
    std::string opt = case_sensitive ? o : lower(o);
    if (v == opt) return msg;
    size_t d = levenshtein(v, opt);
    if (d < mindist) {
      match = opt;
      if (!case_sensitive) {
        if (val == lower(val)) match = lower(opt);
        else if (val == upper(val)) match = upper(opt);
      }
      mindist = d;
    }
  }
  return match.empty() ? msg : msg + " (did you mean " + match + "?)";
}

const std::vector<std::string>& instruction_names() {
  static const std::vector<std::string> names = {"ADD",  "ARG",         "CMD",   "COPY",       "ENTRYPOINT", "ENV",
                                                 "EXPOSE", "FROM",      "HEALTHCHECK", "LABEL", "MAINTAINER",
                                                 "ONBUILD", "RUN",      "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                                                 "WORKDIR"};
  return names;
}

// The --flags of one instruction (bflag.go).
class Flags {
 public:
  enum Type { kBool, kString, kStrings };
  struct Flag {
    Type type;
    std::string value;
    std::vector<std::string> values;
    bool used = false;
  };

  explicit Flags(const std::vector<std::string>& args) : args_(args) {}

  Flag& add(const std::string& name, Type type) {
    Flag& f = flags_[name];
    f.type = type;
    if (type == kBool) f.value = "false";
    return f;
  }

  void parse() {
    for (const auto& a : args_) {
      if (a == "--") return;
      if (a.rfind("--", 0) != 0) throw Error("arg should start with -- : " + a);
      size_t eq = a.find('=');
      bool has_value = eq != std::string::npos;
      std::string flag_name = a.substr(0, eq);
      std::string value = has_value ? a.substr(eq + 1) : "";
      std::string name = flag_name.substr(2);
      auto it = flags_.find(name);
      if (it == flags_.end()) {
        std::vector<std::string> names;
        for (const auto& [n, f] : flags_) names.push_back(n);
        throw Error(with_suggestion("unknown flag: " + flag_name, name, names, true));
      }
      Flag& f = it->second;
      if (f.used && f.type != kStrings) throw Error("duplicate flag specified: " + flag_name);
      f.used = true;
      switch (f.type) {
        case kBool: {
          if (has_value && value.empty()) throw Error("missing a value on flag: " + flag_name);
          std::string v = lower(value);
          if (v == "true" || v.empty())
            f.value = "true";
          else if (v == "false")
            f.value = "false";
          else
            throw Error("expecting boolean value for flag " + flag_name + ", not: " + value);
          break;
        }
        case kString:
          if (!has_value) throw Error("missing a value on flag: " + flag_name);
          f.value = value;
          break;
        case kStrings:
          if (!has_value) throw Error("missing a value on flag: " + flag_name);
          f.values.push_back(value);
          break;
      }
    }
  }

 private:
  std::vector<std::string> args_;
  std::map<std::string, Flag> flags_;
};

Location location(const Node& n) { return {n.start_line, n.end_line, n.original}; }

Error at_least_one(const std::string& cmd) { return Error(cmd + " requires at least one argument"); }
Error exactly_one(const std::string& cmd) { return Error(cmd + " requires exactly one argument"); }
Error no_destination(const std::string& cmd) {
  return Error(cmd + " requires at least two arguments, but only one was provided. Destination could not be determined");
}

std::vector<KeyValue> parse_kvps(const std::vector<std::string>& args, const std::string& cmd) {
  if (args.empty()) throw at_least_one(cmd);
  if (args.size() % 3 != 0) throw Error("Bad input to " + cmd + ", too many arguments");
  std::vector<KeyValue> out;
  for (size_t j = 0; j < args.size(); j += 3) {
    if (args[j].empty()) throw Error(cmd + " names can not be blank");
    out.push_back({args[j], args[j + 1], args[j + 2].empty()});
  }
  return out;
}

std::unique_ptr<Heredoc> heredoc_or_null(const std::string& word) {
  try {
    return parse_heredoc_word(word);
  } catch (const Error&) {
    return nullptr;
  }
}

// COPY/ADD: the sources (paths and heredoc contents) and the destination.
void sources_and_dest(const Node& n, const std::string& cmd, std::vector<std::string>& sources,
                      std::vector<SourceContent>& contents, std::string& dest) {
  dest = n.args.back();
  if (heredoc_or_null(dest)) throw Error(cmd + " cannot accept a heredoc as a destination");
  for (size_t i = 0; i + 1 < n.args.size(); ++i) {
    const std::string& src = n.args[i];
    if (auto h = heredoc_or_null(src)) {
      std::string content;
      for (const auto& d : n.heredocs)
        if (d.name == h->name) content = d.content;
      if (h->chomp) content = chomp_heredoc_content(content);
      contents.push_back({h->name, content, h->expand});
    } else {
      sources.push_back(src);
    }
  }
}

// handleJSONArgs: exec form as is, shell form as one line.
std::vector<std::string> json_args(const std::vector<std::string>& args, bool json) {
  if (args.empty()) return {};
  if (json) return args;
  std::string line;
  for (size_t i = 0; i < args.size(); ++i) line += (i ? " " : "") + args[i];
  return {line};
}

CommandLine command_line(const Node& n) {
  CommandLine c;
  for (const auto& h : n.heredocs) c.files.push_back({h.name, h.content, h.chomp});
  c.args = json_args(n.args, n.json);
  c.prepend_shell = !n.json;
  return c;
}

bool valid_stage_name(const std::string& s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

FromInstruction parse_from(const Node& n) {
  FromInstruction f;
  const auto& a = n.args;
  if (a.size() == 3 && lower(a[1]) == "as") {
    f.stage_name = lower(a[2]);
    if (!valid_stage_name(f.stage_name))
      throw Error("invalid name for build stage: \"" + a[2] + "\", name can't start with a number or contain symbols");
  } else if (a.size() != 1) {
    throw Error("FROM requires either one or three arguments");
  }
  Flags flags(n.flags);
  auto& platform = flags.add("platform", Flags::kString);
  flags.parse();
  f.loc = location(n);
  f.base = a[0];
  f.platform = platform.value;
  return f;
}

int64_t interval(const std::string& name, const std::string& value) {
  if (value.empty()) return 0;
  auto d = parse_go_duration(value);
  if (!d) throw Error("time: invalid duration \"" + value + "\"");
  if (*d == 0) return 0;
  if (*d < 1000000) throw Error("Interval \"" + name + "\" cannot be less than 1ms");
  return *d;
}

HealthcheckInstruction parse_healthcheck(const Node& n) {
  if (n.args.empty()) throw at_least_one("HEALTHCHECK");
  HealthcheckInstruction h;
  h.loc = location(n);
  std::string typ = upper(n.args[0]);
  std::vector<std::string> args(n.args.begin() + 1, n.args.end());
  if (typ == "NONE") {
    if (!args.empty()) throw Error("HEALTHCHECK NONE takes no arguments");
    h.test = {typ};
    return h;
  }
  Flags flags(n.flags);
  auto& fi = flags.add("interval", Flags::kString);
  auto& ft = flags.add("timeout", Flags::kString);
  auto& fs = flags.add("start-period", Flags::kString);
  auto& fsi = flags.add("start-interval", Flags::kString);
  auto& fr = flags.add("retries", Flags::kString);
  flags.parse();
  if (typ != "CMD") throw Error("Unknown type \"" + typ + "\" in HEALTHCHECK (try CMD)");
  auto cmd = json_args(args, n.json);
  if (cmd.empty()) throw Error("Missing command after HEALTHCHECK CMD");
  h.test = {n.json ? "CMD" : "CMD-SHELL"};
  h.test.insert(h.test.end(), cmd.begin(), cmd.end());
  h.interval_ns = interval("interval", fi.value);
  h.timeout_ns = interval("timeout", ft.value);
  h.start_period_ns = interval("start-period", fs.value);
  h.start_interval_ns = interval("start-interval", fsi.value);
  if (!fr.value.empty()) {
    long long r = 0;
    try {
      size_t used = 0;
      r = std::stoll(fr.value, &used, 10);
      if (used != fr.value.size() || r > INT32_MAX || r < INT32_MIN) throw std::out_of_range("retries");
    } catch (const std::exception&) {
      throw Error("strconv.ParseInt: parsing \"" + fr.value + "\": invalid syntax");
    }
    if (r < 0) throw Error("--retries cannot be negative (" + std::to_string(r) + ")");
    h.retries = static_cast<int>(r);
  }
  return h;
}

OnbuildInstruction parse_onbuild(const Node& n) {
  if (n.args.empty()) throw at_least_one("ONBUILD");
  Flags(n.flags).parse();
  std::string trigger = upper(trim(n.args[0]));
  if (trigger == "ONBUILD") throw Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger == "MAINTAINER" || trigger == "FROM") throw Error(trigger + " isn't allowed as an ONBUILD trigger");
  // (?i)^\s*ONBUILD\s*
  std::string_view o = n.original;
  size_t i = 0;
  while (i < o.size() && std::isspace(static_cast<unsigned char>(o[i]))) ++i;
  if (lower(o.substr(i, 7)) == "onbuild") {
    i += 7;
    while (i < o.size() && std::isspace(static_cast<unsigned char>(o[i]))) ++i;
    o.remove_prefix(i);
  }
  OnbuildInstruction ins;
  ins.loc = location(n);
  ins.expression = std::string(o);
  for (const auto& h : n.heredocs) ins.expression += "\n" + h.content + h.name;
  return ins;
}

}  // namespace

Instruction parse_instruction(const Node& n) {
  const std::string cmd = lower(n.command);
  const auto& args = n.args;
  Location loc = location(n);
  if (cmd == "env" || cmd == "label") {
    Flags(n.flags).parse();
    auto pairs = parse_kvps(args, upper(cmd));
    if (cmd == "env") return EnvInstruction{loc, pairs};
    return LabelInstruction{loc, pairs};
  }
  if (cmd == "maintainer") {
    if (args.size() != 1) throw exactly_one("MAINTAINER");
    Flags(n.flags).parse();
    return MaintainerInstruction{loc, args[0]};
  }
  if (cmd == "add") {
    if (args.size() < 2) throw no_destination("ADD");
    Flags flags(n.flags);
    auto& chown = flags.add("chown", Flags::kString);
    auto& chmod = flags.add("chmod", Flags::kString);
    auto& link = flags.add("link", Flags::kBool);
    auto& keep = flags.add("keep-git-dir", Flags::kBool);
    auto& checksum = flags.add("checksum", Flags::kString);
    auto& unpack = flags.add("unpack", Flags::kBool);
    auto& exclude = flags.add("exclude", Flags::kStrings);
    flags.parse();
    AddInstruction a;
    a.loc = loc;
    sources_and_dest(n, "ADD", a.sources, a.contents, a.dest);
    a.chown = chown.value;
    a.chmod = chmod.value;
    a.link = link.value == "true";
    if (keep.used) a.keep_git_dir = keep.value == "true";
    a.checksum = checksum.value;
    if (unpack.used) a.unpack = unpack.value == "true";
    a.excludes = exclude.values;
    return a;
  }
  if (cmd == "copy") {
    if (args.size() < 2) throw no_destination("COPY");
    Flags flags(n.flags);
    auto& chown = flags.add("chown", Flags::kString);
    auto& from = flags.add("from", Flags::kString);
    auto& chmod = flags.add("chmod", Flags::kString);
    auto& link = flags.add("link", Flags::kBool);
    auto& exclude = flags.add("exclude", Flags::kStrings);
    auto& parents = flags.add("parents", Flags::kBool);
    flags.parse();
    CopyInstruction c;
    c.loc = loc;
    sources_and_dest(n, "COPY", c.sources, c.contents, c.dest);
    c.from = from.value;
    c.chown = chown.value;
    c.chmod = chmod.value;
    c.link = link.value == "true";
    c.parents = parents.value == "true";
    c.excludes = exclude.values;
    return c;
  }
  if (cmd == "from") return parse_from(n);
  if (cmd == "onbuild") return parse_onbuild(n);
  if (cmd == "workdir") {
    if (args.size() != 1) throw exactly_one("WORKDIR");
    Flags(n.flags).parse();
    return WorkdirInstruction{loc, args[0]};
  }
  if (cmd == "run") {
    Flags flags(n.flags);
    auto& mount = flags.add("mount", Flags::kStrings);
    auto& network = flags.add("network", Flags::kString);
    auto& security = flags.add("security", Flags::kString);
    auto& device = flags.add("device", Flags::kStrings);
    flags.parse();
    RunInstruction r;
    r.loc = loc;
    r.cmd = command_line(n);
    r.mount_flags = mount.values;
    r.device_flags = device.values;
    if (network.used) {
      if (network.value != "default" && network.value != "none" && network.value != "host")
        throw Error("invalid network mode \"" + network.value + "\"");
      r.network = network.value;
    }
    if (security.used) {
      if (security.value != "sandbox" && security.value != "insecure")
        throw Error("security \"" + security.value + "\" is not valid");
      r.security = security.value;
    }
    return r;
  }
  if (cmd == "cmd") {
    Flags(n.flags).parse();
    return CmdInstruction{loc, command_line(n)};
  }
  if (cmd == "entrypoint") {
    Flags(n.flags).parse();
    return EntrypointInstruction{loc, command_line(n)};
  }
  if (cmd == "healthcheck") return parse_healthcheck(n);
  if (cmd == "expose") {
    if (args.empty()) throw at_least_one("EXPOSE");
    Flags(n.flags).parse();
    auto ports = args;
    std::sort(ports.begin(), ports.end());
    return ExposeInstruction{loc, ports};
  }
  if (cmd == "user") {
    if (args.size() != 1) throw exactly_one("USER");
    Flags(n.flags).parse();
    return UserInstruction{loc, args[0]};
  }
  if (cmd == "volume") {
    if (args.empty()) throw at_least_one("VOLUME");
    Flags(n.flags).parse();
    VolumeInstruction v{loc, {}};
    for (const auto& a : args) {
      std::string t = trim(a);
      if (t.empty()) throw Error("VOLUME specified can not be an empty string");
      v.volumes.push_back(t);
    }
    return v;
  }
  if (cmd == "stopsignal") {
    if (args.size() != 1) throw exactly_one("STOPSIGNAL");
    return StopsignalInstruction{loc, args[0]};
  }
  if (cmd == "arg") {
    if (args.empty()) throw at_least_one("ARG");
    ArgInstruction a{loc, {}};
    for (const auto& w : args) {
      size_t eq = w.find('=');
      if (eq == std::string::npos) {
        a.args.push_back({w, std::nullopt});
      } else {
        if (eq == 0) throw Error("ARG names can not be blank");
        a.args.push_back({w.substr(0, eq), w.substr(eq + 1)});
      }
    }
    return a;
  }
  if (cmd == "shell") {
    Flags(n.flags).parse();
    auto s = json_args(args, n.json);
    if (s.empty()) throw at_least_one("SHELL");
    if (!n.json) throw Error("SHELL requires the arguments to be in JSON form");
    return ShellInstruction{loc, s};
  }
  throw Error(with_suggestion("unknown instruction: " + n.command, n.command, instruction_names(), false));
}

Dockerfile parse_instructions(const ParseResult& parsed) {
  Dockerfile df;
  df.escape = parsed.escape;
  df.warnings = parsed.warnings;
  for (const auto& n : parsed.instructions) {
    Instruction ins = [&] {
      try {
        return parse_instruction(n);
      } catch (const Error& e) {
        throw Error(parse_error_message(n.start_line, e.what()));
      }
    }();
    if (df.stages.empty() && std::holds_alternative<ArgInstruction>(ins)) {
      df.meta_args.push_back(std::get<ArgInstruction>(std::move(ins)));
      continue;
    }
    if (auto* f = std::get_if<FromInstruction>(&ins)) {
      df.stages.push_back(Stage{std::move(*f), {}});
      continue;
    }
    if (df.stages.empty())
      throw Error(parse_error_message(n.start_line, "no build stage in current context"));
    df.stages.back().commands.push_back(std::move(ins));
  }
  return df;
}

Dockerfile parse_dockerfile_instructions(std::string_view text) { return parse_instructions(parse_dockerfile(text)); }

const Location& location_of(const Instruction& ins) {
  return std::visit([](const auto& i) -> const Location& { return i.loc; }, ins);
}

const std::vector<std::string>& predefined_args() {
  static const std::vector<std::string> args = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                                "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                                "ALL_PROXY",  "all_proxy"};
  return args;
}

bool is_predefined_arg(const std::string& name) {
  const auto& a = predefined_args();
  return std::find(a.begin(), a.end(), name) != a.end();
}

bool is_automatic_arg(const std::string& name) {
  static const std::vector<std::string> args = {
      "BUILDPLATFORM",  "BUILDOS",  "BUILDOSVERSION",  "BUILDARCH",  "BUILDVARIANT", "TARGETPLATFORM",
      "TARGETOS",       "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE"};
  return std::find(args.begin(), args.end(), name) != args.end();
}

namespace {

const std::string* find_value(const std::vector<std::pair<std::string, std::string>>& values, const std::string& key) {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

void add_or_replace(std::vector<std::pair<std::string, std::string>>& values, const std::string& key,
                    const std::string& value) {
  for (auto& [k, v] : values)
    if (k == key) {
      v = value;
      return;
    }
  values.emplace_back(key, value);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> resolve_meta_args(
    const std::vector<ArgInstruction>& meta_args, const std::vector<std::pair<std::string, std::string>>& build_args,
    char escape) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : build_args)
    if (is_automatic_arg(k)) add_or_replace(out, k, v);
  ShellLex lex(escape);
  for (const auto& a : meta_args) {
    for (const auto& arg : a.args) {
      std::optional<std::string> value;
      if (const std::string* given = find_value(build_args, arg.key))
        value = *given;
      else if (arg.value)
        value = lex.process_word(*arg.value, env_lookup(out));
      if (value) add_or_replace(out, arg.key, *value);
    }
  }
  return out;
}

std::optional<std::string> resolve_stage_arg(const ArgInstruction::Arg& arg, const EnvLookup& stage_env,
                                             const std::vector<std::pair<std::string, std::string>>& meta,
                                             const std::vector<std::pair<std::string, std::string>>& build_args,
                                             char escape) {
  if (const std::string* given = find_value(build_args, arg.key)) return *given;
  if (arg.value) return ShellLex(escape).process_word(*arg.value, stage_env);
  if (const std::string* global = find_value(meta, arg.key)) return *global;
  return std::nullopt;
}

FromInstruction expand_from(const FromInstruction& from, const std::vector<std::pair<std::string, std::string>>& meta,
                            char escape) {
  ShellLex lex(escape);
  auto env = env_lookup(meta);
  FromInstruction f = from;
  f.base = lex.process_word(from.base, env);
  if (f.base.empty())
    throw Error(parse_error_message(from.loc.start_line, "base name (" + from.base + ") should not be blank"));
  f.platform = lex.process_word(from.platform, env);
  return f;
}

namespace {

struct Expander {
  const ShellLex& lex;
  const EnvLookup& env;
  void word(std::string& s) const { s = lex.process_word(s, env); }
  void words(std::vector<std::string>& v) const {
    for (auto& s : v) word(s);
  }
  void pairs(std::vector<KeyValue>& kv) const {
    for (auto& p : kv) {
      word(p.key);
      word(p.value);
    }
  }
  void contents(std::vector<SourceContent>& c) const {
    LexOptions o;
    o.skip_process_quotes = true;
    ShellLex raw('\\', o);
    for (auto& s : c)
      if (s.expand) s.data = raw.process_word(s.data, env);
  }
  void operator()(EnvInstruction& i) const { pairs(i.pairs); }
  void operator()(LabelInstruction& i) const { pairs(i.pairs); }
  void operator()(WorkdirInstruction& i) const { word(i.path); }
  void operator()(UserInstruction& i) const { word(i.user); }
  void operator()(StopsignalInstruction& i) const { word(i.signal); }
  void operator()(VolumeInstruction& i) const { words(i.volumes); }
  void operator()(ExposeInstruction& i) const {
    std::vector<std::string> out;
    for (const auto& p : i.ports)
      for (auto& w : lex.process_words(p, env)) out.push_back(std::move(w));
    i.ports = std::move(out);
  }
  void operator()(CopyInstruction& i) const {
    if (!i.from.empty() && ShellLex(lex.escape()).process_word(i.from, empty_env()) != i.from)
      throw Error(
          "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope "
          "as a workaround");
    word(i.chown);
    word(i.chmod);
    words(i.sources);
    word(i.dest);
    contents(i.contents);
  }
  void operator()(AddInstruction& i) const {
    word(i.chown);
    word(i.chmod);
    word(i.checksum);
    words(i.sources);
    word(i.dest);
    contents(i.contents);
  }
  void operator()(RunInstruction& i) const {
    for (const auto& m : i.mount_flags) parse_mount(m, env, lex.escape());
  }
  template <typename T>
  void operator()(T&) const {}
};

bool parse_bool(const std::string& v, bool& out) {
  // strconv.ParseBool
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return out = true, true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return out = false, true;
  return false;
}

std::optional<uint64_t> parse_uint(const std::string& v, int base) {
  if (v.empty()) return std::nullopt;
  uint64_t r = 0;
  for (char c : v) {
    int d = c >= '0' && c <= '9' ? c - '0' : -1;
    if (d < 0 || d >= base) return std::nullopt;
    r = r * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    if (r > UINT32_MAX) return std::nullopt;
  }
  return r;
}

// docker/go-units RAMInBytes: a number with an optional binary unit (k, m, g, t, p, with or
// without b / ib, any case).
std::optional<int64_t> ram_in_bytes(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double n = 0;
  try {
    n = std::stod(s.substr(0, i));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = lower(trim(s.substr(i)));
  static const std::map<std::string, double> units = {
      {"", 1},          {"b", 1},           {"k", 1024.0},         {"kb", 1024.0},         {"kib", 1024.0},
      {"m", 1048576.0}, {"mb", 1048576.0},  {"mib", 1048576.0},    {"g", 1073741824.0},    {"gb", 1073741824.0},
      {"gib", 1073741824.0}, {"t", 1099511627776.0}, {"tb", 1099511627776.0}, {"tib", 1099511627776.0},
      {"p", 1125899906842624.0}, {"pb", 1125899906842624.0}, {"pib", 1125899906842624.0}};
  auto it = units.find(unit);
  if (it == units.end()) return std::nullopt;
  return static_cast<int64_t>(n * it->second);
}

// Go's encoding/csv fields of one line: commas separate, double quotes group ("" is a quote).
std::vector<std::string> csv_fields(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, field_start = true;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
      continue;
    }
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
      field_start = true;
      continue;
    }
    if (c == '"' && field_start) {
      quoted = true;
      field_start = false;
      continue;
    }
    field_start = false;
    cur += c;
  }
  if (quoted) throw Error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
  out.push_back(cur);
  return out;
}

}  // namespace

void expand_instruction(Instruction& ins, const EnvLookup& env, char escape) {
  ShellLex lex(escape);
  std::visit(Expander{lex, env}, ins);
}

Mount parse_mount(std::string_view val, const EnvLookup& env, char escape) {
  ShellLex lex(escape);
  Mount m;
  bool ro_auto = true;
  for (const auto& field : csv_fields(val)) {
    size_t eq = field.find('=');
    std::string key = lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        m.readonly = true;
        ro_auto = false;
      } else if (key == "readwrite" || key == "rw") {
        m.readonly = false;
        ro_auto = false;
      } else if (key == "required") {
        if (m.type != "secret" && m.type != "ssh")
          throw Error("unexpected key '" + key + "' for mount type '" + m.type + "'");
        m.required = true;
      } else {
        throw Error("invalid field '" + field + "' must be a key=value pair");
      }
      continue;
    }
    std::string value = lex.process_word(field.substr(eq + 1), env);
    auto bad_value = [&] { return Error("invalid value for " + key + ": " + value); };
    if (key == "type") {
      std::string v = lower(value);
      static const std::vector<std::string> types = {"bind", "cache", "tmpfs", "secret", "ssh"};
      if (std::find(types.begin(), types.end(), v) == types.end())
        throw Error(with_suggestion("unsupported mount type \"" + value + "\"", value, types, true));
      m.type = v;
    } else if (key == "from") {
      m.from = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = value;
    } else if (key == "readonly" || key == "ro") {
      if (!parse_bool(value, m.readonly)) throw bad_value();
      ro_auto = false;
    } else if (key == "readwrite" || key == "rw") {
      bool rw = false;
      if (!parse_bool(value, rw)) throw bad_value();
      m.readonly = !rw;
      ro_auto = false;
    } else if (key == "required") {
      if (m.type != "secret" && m.type != "ssh")
        throw Error("unexpected key '" + key + "' for mount type '" + m.type + "'");
      if (!parse_bool(value, m.required)) throw bad_value();
    } else if (key == "size") {
      if (m.type != "tmpfs") throw Error("unexpected key '" + key + "' for mount type '" + m.type + "'");
      m.size = ram_in_bytes(value);
      if (!m.size) throw bad_value();
    } else if (key == "id") {
      m.cache_id = value;
    } else if (key == "sharing") {
      std::string v = lower(value);
      static const std::vector<std::string> modes = {"shared", "private", "locked"};
      if (std::find(modes.begin(), modes.end(), v) == modes.end())
        throw Error(with_suggestion("unsupported sharing value \"" + value + "\"", value, modes, true));
      m.sharing = v;
    } else if (key == "mode" || key == "uid" || key == "gid") {
      auto n = parse_uint(value, key == "mode" ? 8 : 10);
      if (!n) throw Error("invalid value " + value + " for " + key);
      (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = static_cast<uint32_t>(*n);
    } else if (key == "env") {
      m.env = value;
    } else {
      static const std::vector<std::string> keys = {"type", "from",     "source", "target", "readonly", "id",
                                                    "sharing", "required", "size", "mode", "uid", "gid", "src",
                                                    "dst", "destination", "ro", "rw", "readwrite", "env"};
      throw Error(with_suggestion("unexpected key '" + key + "' in '" + field + "'", key, keys, true));
    }
  }
  bool file_info = m.type == "secret" || m.type == "ssh" || m.type == "cache";
  if (!file_info) {
    if (m.mode) throw Error("mode not allowed for \"" + m.type + "\" type mounts");
    if (m.uid) throw Error("uid not allowed for \"" + m.type + "\" type mounts");
    if (m.gid) throw Error("gid not allowed for \"" + m.type + "\" type mounts");
  }
  if (ro_auto) m.readonly = !(m.type == "cache" || m.type == "tmpfs");
  if (m.type == "secret") {
    if (!m.from.empty()) throw Error("secret mount should not have a from");
    if (!m.sharing.empty()) throw Error("secret mount should not define sharing");
    if (m.source.empty() && m.target.empty() && m.cache_id.empty())
      throw Error("invalid secret mount. one of source, target required");
    if (!m.source.empty() && !m.cache_id.empty()) throw Error("both source and id can't be set");
  }
  if (!m.sharing.empty() && m.type != "cache") throw Error("invalid cache sharing set for " + m.type + " mount");
  if (m.type == "cache" && m.sharing.empty()) m.sharing = "shared";
  return m;
}

}  // namespace minirun::dockerfile
