#include "minirun/build/build_config.h"

#include <cstdio>
#include <map>
#include <type_traits>

#include "minirun/dockerfile/dockerignore.h"
#include "minirun/util/go_duration.h"

namespace minirun::build {

namespace {

std::string go_quote(const std::string& s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\t': r += "\\t"; break;
      case '\r': r += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          r += buf;
        } else {
          r += static_cast<char>(c);
        }
    }
  }
  return r + "\"";
}

std::string join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string r;
  bool first = true;
  for (const auto& s : v) {
    if (!first) r += sep;
    r += s;
    first = false;
  }
  return r;
}

std::string kv_text(const std::vector<dockerfile::KeyValue>& pairs) {
  std::vector<std::string> parts;
  for (const auto& p : pairs) parts.push_back(p.key + "=" + p.value);
  return join(parts);
}

std::string with_proto(const std::string& port) {
  return port.find('/') == std::string::npos ? port + "/tcp" : port;
}

// Go's %q of an int (strconv.QuoteRune): '\x03', '\n', 'A'.
std::string go_quote_rune(int r) {
  switch (r) {
    case 7: return "'\\a'";
    case 8: return "'\\b'";
    case 9: return "'\\t'";
    case 10: return "'\\n'";
    case 11: return "'\\v'";
    case 12: return "'\\f'";
    case 13: return "'\\r'";
    case '\'': return "'\\''";
    case '\\': return "'\\\\'";
    default: break;
  }
  char buf[16];
  if (r >= 0x20 && r < 0x7f) std::snprintf(buf, sizeof buf, "'%c'", r);
  else if (r >= 0 && r < 0x80) std::snprintf(buf, sizeof buf, "'\\x%02x'", r);
  else std::snprintf(buf, sizeof buf, "'\\u%04x'", r & 0xffff);  // beyond ASCII: rare for retries
  return buf;
}

ojson& config_of(ojson& image) {
  if (!image.contains("config") || !image["config"].is_object()) image["config"] = ojson::object();
  return image["config"];
}

}  // namespace

std::string go_quoted_list(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const auto& s : v) q.push_back(go_quote(s));
  return "[" + join(q) + "]";
}

std::vector<std::string> image_shell(const ojson& image) {
  if (image.contains("config") && image["config"].is_object() && image["config"].contains("Shell") &&
      image["config"]["Shell"].is_array() && !image["config"]["Shell"].empty())
    return image["config"]["Shell"].get<std::vector<std::string>>();
  return {"/bin/sh", "-c"};
}

std::vector<std::string> command_argv(const dockerfile::CommandLine& cmd, const std::vector<std::string>& shell) {
  if (!cmd.prepend_shell) return cmd.args;
  std::vector<std::string> argv = shell;
  argv.push_back(join(cmd.args));
  return argv;
}

std::vector<std::pair<std::string, std::string>> image_env(const ojson& image) {
  std::vector<std::pair<std::string, std::string>> env;
  if (!image.contains("config") || !image["config"].is_object() || !image["config"].contains("Env") ||
      !image["config"]["Env"].is_array())
    return env;
  for (const auto& e : image["config"]["Env"]) {
    if (!e.is_string()) continue;
    std::string s = e.get<std::string>();
    auto eq = s.find('=');
    if (eq == std::string::npos) env.emplace_back(s, "");
    else env.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return env;
}

std::string resolve_workdir(const std::string& current, const std::string& path) {
  std::string base = current.empty() ? "/" : current;
  std::string joined = !path.empty() && path[0] == '/' ? path : base + "/" + path;
  std::string c = dockerfile::clean_path(joined);
  return c.empty() || c[0] != '/' ? "/" + c : c;
}

bool apply_config_instruction(ojson& image, const dockerfile::Instruction& ins, bool& cmd_set) {
  using namespace dockerfile;
  return std::visit(
      [&](const auto& i) -> bool {
        using T = std::decay_t<decltype(i)>;
        if constexpr (std::is_same_v<T, EnvInstruction>) {
          ojson& c = config_of(image);
          if (!c.contains("Env") || !c["Env"].is_array()) c["Env"] = ojson::array();
          for (const auto& p : i.pairs) {
            std::string entry = p.key + "=" + p.value;
            bool replaced = false;
            for (auto& e : c["Env"]) {
              if (!e.is_string()) continue;
              std::string s = e.get<std::string>();
              if (s.substr(0, s.find('=')) == p.key) {
                e = entry;
                replaced = true;
                break;
              }
            }
            if (!replaced) c["Env"].push_back(entry);
          }
          return true;
        } else if constexpr (std::is_same_v<T, LabelInstruction>) {
          ojson& c = config_of(image);
          if (!c.contains("Labels") || !c["Labels"].is_object()) c["Labels"] = ojson::object();
          for (const auto& p : i.pairs) c["Labels"][p.key] = p.value;
          return true;
        } else if constexpr (std::is_same_v<T, WorkdirInstruction>) {
          ojson& c = config_of(image);
          std::string cur = c.contains("WorkingDir") && c["WorkingDir"].is_string() ? c["WorkingDir"].get<std::string>() : "";
          c["WorkingDir"] = resolve_workdir(cur, i.path);
          return true;
        } else if constexpr (std::is_same_v<T, UserInstruction>) {
          config_of(image)["User"] = i.user;
          return true;
        } else if constexpr (std::is_same_v<T, CmdInstruction>) {
          config_of(image)["Cmd"] = command_argv(i.cmd, image_shell(image));
          cmd_set = true;
          return true;
        } else if constexpr (std::is_same_v<T, EntrypointInstruction>) {
          ojson& c = config_of(image);
          c["Entrypoint"] = command_argv(i.cmd, image_shell(image));
          if (!cmd_set) c["Cmd"] = nullptr;
          return true;
        } else if constexpr (std::is_same_v<T, ExposeInstruction>) {
          ojson& c = config_of(image);
          if (!c.contains("ExposedPorts") || !c["ExposedPorts"].is_object()) c["ExposedPorts"] = ojson::object();
          for (const auto& p : i.ports) c["ExposedPorts"][with_proto(p)] = ojson::object();
          return true;
        } else if constexpr (std::is_same_v<T, VolumeInstruction>) {
          ojson& c = config_of(image);
          if (!c.contains("Volumes") || !c["Volumes"].is_object()) c["Volumes"] = ojson::object();
          for (const auto& v : i.volumes) c["Volumes"][v] = ojson::object();
          return true;
        } else if constexpr (std::is_same_v<T, StopsignalInstruction>) {
          config_of(image)["StopSignal"] = i.signal;
          return true;
        } else if constexpr (std::is_same_v<T, ShellInstruction>) {
          config_of(image)["Shell"] = i.shell;
          return true;
        } else if constexpr (std::is_same_v<T, HealthcheckInstruction>) {
          // Docker's HealthConfig: every field but Test omitted when zero.
          ojson h = {{"Test", i.test}};
          if (i.interval_ns) h["Interval"] = i.interval_ns;
          if (i.timeout_ns) h["Timeout"] = i.timeout_ns;
          if (i.start_period_ns) h["StartPeriod"] = i.start_period_ns;
          if (i.start_interval_ns) h["StartInterval"] = i.start_interval_ns;
          if (i.retries) h["Retries"] = i.retries;
          config_of(image)["Healthcheck"] = h;
          return true;
        } else if constexpr (std::is_same_v<T, OnbuildInstruction>) {
          ojson& c = config_of(image);
          if (!c.contains("OnBuild") || !c["OnBuild"].is_array()) c["OnBuild"] = ojson::array();
          c["OnBuild"].push_back(i.expression);
          return true;
        } else {
          return false;
        }
      },
      ins);
}

std::string created_by(const dockerfile::Instruction& ins, const std::vector<std::string>& shell,
                       const std::vector<std::pair<std::string, std::string>>& run_args) {
  using namespace dockerfile;
  return std::visit(
      [&](const auto& i) -> std::string {
        using T = std::decay_t<decltype(i)>;
        if constexpr (std::is_same_v<T, EnvInstruction>) {
          return "ENV " + kv_text(i.pairs);
        } else if constexpr (std::is_same_v<T, LabelInstruction>) {
          return "LABEL " + kv_text(i.pairs);
        } else if constexpr (std::is_same_v<T, WorkdirInstruction>) {
          return "WORKDIR " + i.path;
        } else if constexpr (std::is_same_v<T, UserInstruction>) {
          return "USER " + i.user;
        } else if constexpr (std::is_same_v<T, CmdInstruction>) {
          return "CMD " + go_quoted_list(command_argv(i.cmd, shell));
        } else if constexpr (std::is_same_v<T, EntrypointInstruction>) {
          return "ENTRYPOINT " + go_quoted_list(command_argv(i.cmd, shell));
        } else if constexpr (std::is_same_v<T, ExposeInstruction>) {
          std::map<std::string, int> ports;  // Go prints a map with its keys sorted
          for (const auto& p : i.ports) ports[with_proto(p)] = 0;
          std::string s;
          for (const auto& [p, unused] : ports) s += (s.empty() ? "" : " ") + p + ":{}";
          return "EXPOSE map[" + s + "]";
        } else if constexpr (std::is_same_v<T, VolumeInstruction>) {
          return "VOLUME [" + join(i.volumes) + "]";
        } else if constexpr (std::is_same_v<T, StopsignalInstruction>) {
          return "STOPSIGNAL " + i.signal;
        } else if constexpr (std::is_same_v<T, ShellInstruction>) {
          return "SHELL [" + join(i.shell) + "]";
        } else if constexpr (std::is_same_v<T, HealthcheckInstruction>) {
          // BuildKit's fmt.Sprintf("HEALTHCHECK %q", config.Healthcheck) of the struct pointer.
          if (i.test.size() == 1 && i.test[0] == "NONE")
            return "HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" \"0s\" '\\x00'}";
          return "HEALTHCHECK &{" + go_quoted_list(i.test) + " \"" + format_go_duration(i.interval_ns) + "\" \"" +
                 format_go_duration(i.timeout_ns) + "\" \"" + format_go_duration(i.start_period_ns) + "\" \"" +
                 format_go_duration(i.start_interval_ns) + "\" " + go_quote_rune(i.retries) + "}";
        } else if constexpr (std::is_same_v<T, OnbuildInstruction>) {
          return "ONBUILD " + i.expression;
        } else if constexpr (std::is_same_v<T, ArgInstruction>) {
          std::vector<std::string> parts;
          for (const auto& a : i.args) parts.push_back(a.value ? a.key + "=" + *a.value : a.key);
          return "ARG " + join(parts);
        } else if constexpr (std::is_same_v<T, RunInstruction>) {
          std::string args;
          if (!run_args.empty()) {
            args = "|" + std::to_string(run_args.size());
            for (const auto& [k, v] : run_args) args += " " + k + "=" + v;
            args += " ";
          }
          return "RUN " + args + join(command_argv(i.cmd, shell)) + " # buildkit";
        } else if constexpr (std::is_same_v<T, CopyInstruction>) {
          return "COPY " + join(i.sources) + " " + i.dest + " # buildkit";
        } else if constexpr (std::is_same_v<T, AddInstruction>) {
          return "ADD " + join(i.sources) + " " + i.dest + " # buildkit";
        } else {
          return location_of(ins).original;
        }
      },
      ins);
}

void add_history(ojson& image, const std::string& created_by_text, bool empty_layer, const std::string& created) {
  image["created"] = created;
  if (!image.contains("history") || !image["history"].is_array()) image["history"] = ojson::array();
  ojson h = {{"created", created}, {"created_by", created_by_text}};
  if (empty_layer) h["empty_layer"] = true;
  image["history"].push_back(h);
}

bool ensure_default_path(ojson& image) {
  for (const auto& [k, v] : image_env(image))
    if (k == "PATH") return false;
  if (!image.contains("config") || !image["config"].is_object()) image["config"] = ojson::object();
  ojson& env = image["config"]["Env"];
  if (!env.is_array()) env = ojson::array();
  env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  return true;
}

ojson scratch_config() {
#if defined(__aarch64__)
  const char* arch = "arm64";
#else
  const char* arch = "amd64";
#endif
  return ojson{{"architecture", arch},
               {"os", "linux"},
               {"config", ojson::object()},
               {"rootfs", {{"type", "layers"}, {"diff_ids", ojson::array()}}},
               {"history", ojson::array()}};
}

}  // namespace minirun::build
