#include "minirun/build/builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "minirun/build/add_archive.h"
#include "minirun/build/build_cache.h"
#include "minirun/build/build_config.h"
#include "minirun/build/chown_spec.h"
#include "minirun/build/context_copy.h"
#include "minirun/build/source_checksum.h"
#include "minirun/dockerfile/dockerignore.h"
#include "minirun/dockerfile/instructions.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/image_edit.h"
#include "minirun/engine/images.h"
#include "minirun/engine/run.h"
#include "minirun/image/image_config.h"
#include "minirun/image/reference.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::build {

namespace {

using namespace dockerfile;
using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string short_id(const std::string& hex) { return hex.substr(0, 12); }

std::string join(const std::vector<std::string>& v) {
  std::string r;
  for (size_t i = 0; i < v.size(); i++) r += (i ? " " : "") + v[i];
  return r;
}

std::string with_latest(const std::string& tag) {
  auto slash = tag.rfind('/');
  auto colon = tag.rfind(':');
  if (tag.find('@') != std::string::npos) return tag;
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return tag + ":latest";
  return tag;
}

// stdout and stderr to /dev/null while it lives (-q: RUN's output is not shown).
class Silence {
 public:
  explicit Silence(bool on) {
    if (!on) return;
    std::cout.flush();
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0) return;
    saved_out_ = ::dup(1);
    saved_err_ = ::dup(2);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(null);
  }
  ~Silence() {
    if (saved_out_ >= 0) {
      ::dup2(saved_out_, 1);
      ::close(saved_out_);
    }
    if (saved_err_ >= 0) {
      ::dup2(saved_err_, 2);
      ::close(saved_err_);
    }
  }
  Silence(const Silence&) = delete;
  Silence& operator=(const Silence&) = delete;

 private:
  int saved_out_ = -1, saved_err_ = -1;
};

class Builder {
 public:
  Builder(Store& store, const BuildOptions& o, std::ostream& out) : store_(store), o_(o), out_(out) {}

  ~Builder() { cleanup(); }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  std::string run() {
    struct stat st;
    if (::stat(o_.context.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error("unable to prepare context: path \"" + o_.context + "\" not found", 1);
    std::string df_path = o_.dockerfile.empty() ? o_.context + "/Dockerfile" : o_.dockerfile;
    auto text = read_file_if_exists(df_path);
    if (!text)
      throw Error("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat " + df_path +
                      ": no such file or directory",
                  1);
    std::vector<std::string> tags;
    for (const auto& t : o_.tags) tags.push_back(normalize_reference(t));  // invalid → error, before any step
    if (auto ig = read_file_if_exists(o_.context + "/.dockerignore"))
      ignore_ = std::make_unique<DockerIgnore>(DockerIgnore::from_text(*ig));
    for (const auto& a : o_.build_args) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        build_args_.emplace_back(a.substr(0, eq), a.substr(eq + 1));
      } else if (const char* v = std::getenv(a.c_str())) {
        build_args_.emplace_back(a, v);
      }
    }

    Dockerfile df = parse_dockerfile_instructions(*text);
    escape_ = df.escape;
    for (const auto& w : df.warnings) out_ << "[WARNING]: " << w << "\n";
    meta_ = resolve_meta_args(df.meta_args, build_args_, escape_);
    for (const auto& m : df.meta_args)
      for (const auto& a : m.args) consumed_.insert(a.key);
    size_t last = df.stages.size() - 1;
    if (!o_.target.empty()) last = target_stage(df, o_.target);
    std::vector<bool> needed = needed_stages(df, last);
    size_t total = 0;
    for (size_t i = 0; i <= last; i++)
      if (needed[i]) total += 1 + df.stages[i].commands.size();

    size_t step = 0;
    for (size_t i = 0; i <= last; i++) {
      const auto& stage = df.stages[i];
      if (!needed[i]) {  // the target does not need it: never run (its index still counts)
        stages_.push_back({stage.from.stage_name, ""});
        continue;
      }
      busted_ = o_.no_cache;  // --no-cache: the cache is not read (its entries are still written)
      out_ << "Step " << ++step << "/" << total << " : " << stage.from.loc.original << "\n";
      from(expand_from(stage.from, meta_, escape_));
      out_ << " ---> " << short_id(hex_) << "\n";
      run_triggers();
      for (const auto& ins0 : stage.commands) {
        out_ << "Step " << ++step << "/" << total << " : " << location_of(ins0).original << "\n";
        out_.flush();
        Instruction ins = ins0;
        dispatch(ins);
        out_ << " ---> " << short_id(hex_) << "\n";
      }
      stages_.push_back({stage.from.stage_name, hex_});
    }

    std::vector<std::string> unused;
    for (const auto& [k, v] : build_args_)
      if (!consumed_.count(k) && !is_predefined_arg(k)) unused.push_back(k);
    if (!unused.empty()) out_ << "[Warning] One or more build-args [" << join(unused) << "] were not consumed\n";

    if (!o_.labels.empty()) {
      // --label: in the final image's config, with no step or history entry (as BuildKit).
      cfg_ = ojson::parse(store_.image_config(hex_));
      if (!cfg_.contains("config") || !cfg_["config"].is_object()) cfg_["config"] = ojson::object();
      ojson& labels = cfg_["config"]["Labels"];
      if (!labels.is_object()) labels = ojson::object();
      for (const auto& l : o_.labels) {
        auto eq = l.find('=');
        labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
      }
      hex_ = put(cfg_);
    }
    {
      auto lock = store_.lock();
      put_image_locked(store_, store_.image_config(hex_), tags);
    }
    keep_ = hex_;
    if (!o_.iidfile.empty()) {
      try {
        write_file_atomic(o_.iidfile, "sha256:" + hex_);
      } catch (const Error& e) {
        throw Error(std::string("failed to write image ID file: ") + e.what(), 1);
      }
    }
    out_ << "Successfully built " << short_id(hex_) << "\n";
    for (const auto& t : o_.tags) out_ << "Successfully tagged " << with_latest(t) << "\n";
    return "sha256:" + hex_;
  }

 private:
  struct StageImage {
    std::string name, hex;  // hex "" for a stage the target does not need
  };

  static std::string lower(const std::string& s) {
    std::string r;
    for (char c : s) r += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
  }

  // --target's stage index; an unknown name fails the build before any step.
  static size_t target_stage(const Dockerfile& df, const std::string& target) {
    std::string t = lower(target);
    for (size_t i = 0; i < df.stages.size(); i++)
      if (df.stages[i].from.stage_name == t) return i;
    throw Error("failed to reach build target " + target + " in Dockerfile", 1);
  }

  // The stages the stage `last` needs: itself, the stage its FROM names, the stages its COPY
  // --from name (by name or index), and theirs; every one earlier than the stage naming it.
  std::vector<bool> needed_stages(const Dockerfile& df, size_t last) const {
    std::vector<bool> need(df.stages.size(), false);
    need[last] = true;
    auto mark = [&](const std::string& ref, size_t before, bool by_index) {
      std::string r = lower(ref);
      for (size_t j = 0; j < before; j++)
        if (!df.stages[j].from.stage_name.empty() && df.stages[j].from.stage_name == r) {
          need[j] = true;
          return;
        }
      if (by_index && !r.empty() && r.size() < 10 && r.find_first_not_of("0123456789") == std::string::npos) {
        size_t j = std::stoul(r);
        if (j < before) need[j] = true;
      }
    };
    for (size_t i = last + 1; i-- > 0;) {
      if (!need[i]) continue;
      mark(expand_from(df.stages[i].from, meta_, escape_).base, i, false);
      for (const auto& ins : df.stages[i].commands)
        if (const auto* c = std::get_if<CopyInstruction>(&ins); c && !c->from.empty()) mark(c->from, i, true);
    }
    return need;
  }

  void from(const FromInstruction& f) {
    cmd_set_ = false;
    args_.clear();
    std::string base = f.base;
    if (base == "scratch") {
      cfg_ = scratch_config();
      ensure_default_path(cfg_);
      hex_ = put(cfg_);
      return;
    }
    std::string lower;
    for (char c : base) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& s : stages_)
      if (!s.name.empty() && s.name == lower) {
        hex_ = s.hex;
        cfg_ = ojson::parse(store_.image_config(hex_));
        return;
      }
    try {
      hex_ = store_.resolve_image(base);
    } catch (const Error& e) {
      throw Error("pull access denied for " + base + ": the image is not in the store (build does not pull yet): " +
                      e.what(),
                  1);
    }
    cfg_ = ojson::parse(store_.image_config(hex_));
    // BuildKit sets PATH in the config of a base that has none. The stage's config has it from
    // here; the first image a step makes gets it (path_change()), with no image of its own.
    ensure_default_path(cfg_);
  }

  // The config change that gives the image a RUN, COPY or ADD step makes the default PATH when
  // its parent (the stage's base) has none: ENV PATH=… for commit's changes, or none.
  std::vector<std::string> path_change() const {
    ojson parent = ojson::parse(store_.image_config(hex_));
    if (!ensure_default_path(parent)) return {};
    return {"ENV " + image_env(parent).back().first + "=" + image_env(parent).back().second};
  }

  // The base image's ONBUILD triggers run first, as steps of this build (Docker's rule); the
  // image made does not keep them (OnBuild null, as BuildKit writes it).
  void run_triggers() {
    if (!cfg_.contains("config") || !cfg_["config"].is_object()) return;
    ojson& c = cfg_["config"];
    if (!c.contains("OnBuild") || !c["OnBuild"].is_array() || c["OnBuild"].empty()) return;
    std::string text = "FROM scratch\n";
    size_t n = 0;
    for (const auto& t : c["OnBuild"])
      if (t.is_string()) {
        text += t.get<std::string>() + "\n";
        n++;
      }
    c["OnBuild"] = nullptr;
    hex_ = put(cfg_);
    out_ << "# Executing " << n << " build trigger" << (n == 1 ? "" : "s") << "\n";
    Dockerfile triggers = parse_dockerfile_instructions(text);
    for (const auto& t : triggers.stages.at(0).commands) {
      out_ << "Trigger: " << location_of(t).original << "\n";
      Instruction ins = t;
      dispatch(ins);
      out_ << " ---> " << short_id(hex_) << "\n";
    }
  }

  // The stage's environment for expansion: its args, then its ENV (which wins).
  Pairs stage_env() const {
    std::map<std::string, std::string> m;
    for (const auto& [k, v] : args_) m[k] = v;
    for (const auto& [k, v] : image_env(cfg_)) m[k] = v;
    return Pairs(m.begin(), m.end());
  }

  void dispatch(Instruction& ins) {
    if (auto* a = std::get_if<ArgInstruction>(&ins)) {
      ArgInstruction resolved = *a;
      for (auto& arg : resolved.args) {
        consumed_.insert(arg.key);
        auto v = resolve_stage_arg(arg, env_lookup(stage_env()), meta_, build_args_, escape_);
        std::erase_if(args_, [&](const auto& p) { return p.first == arg.key; });
        if (v) args_.emplace_back(arg.key, *v);
        arg.value = v;
      }
      config_step(created_by(Instruction(resolved), image_shell(cfg_)), [](ojson&) {});
      return;
    }
    expand_instruction(ins, env_lookup(stage_env()), escape_);
    if (auto* r = std::get_if<RunInstruction>(&ins)) return run_step(*r);
    if (auto* c = std::get_if<CopyInstruction>(&ins)) return copy_step(*c);
    if (auto* a = std::get_if<AddInstruction>(&ins)) return add_step(*a);
    if (std::holds_alternative<MaintainerInstruction>(ins)) {
      const auto& m = std::get<MaintainerInstruction>(ins);
      config_step("MAINTAINER " + m.maintainer, [&](ojson& j) { j["author"] = m.maintainer; });
      return;
    }
    std::string text = created_by(ins, image_shell(cfg_));
    bool cmd_set = cmd_set_;
    bool workdir = std::holds_alternative<WorkdirInstruction>(ins);
    if (workdir) {
      // BuildKit's history names the directory the step gives (a relative WORKDIR resolved).
      ojson next = cfg_;
      bool c = cmd_set;
      apply_config_instruction(next, ins, c);
      text = "WORKDIR " + next["config"]["WorkingDir"].get<std::string>();
    }
    // ONBUILD only adds its trigger to the config: BuildKit writes no history entry for it.
    bool history = !std::holds_alternative<OnbuildInstruction>(ins);
    bool hit = config_step(text, [&](ojson& j) { apply_config_instruction(j, ins, cmd_set); }, !workdir, history);
    cmd_set_ = cmd_set;
    if (workdir && !hit) {
      std::string wd = cfg_["config"]["WorkingDir"].get<std::string>();
      if (!is_dir_in_image(hex_, wd)) {
        // Created in the image, as Docker does: the step's history entry gets a layer.
        cfg_["history"].erase(cfg_["history"].size() - 1);
        hex_ = put(cfg_);
        layer_step(text, [&](const std::string& upper) { make_dir_in_layer(upper, wd); });
      }
      cache_record();  // the key: the parent and the config (its WorkingDir) this step gives
    }
  }

  // A step that only changes the config: edit, history entry with empty_layer, new image. Its
  // cache key is the image it makes without its times; record = false leaves the record to the
  // caller (WORKDIR may add a layer). Returns true on a cache hit.
  template <class F>
  bool config_step(const std::string& text, F&& edit, bool record = true, bool history = true) {
    edit(cfg_);
    if (history) add_history(cfg_, text, true, now_rfc3339());
    ojson timeless = cfg_;
    timeless.erase("created");
    for (auto& h : timeless["history"])
      if (h.is_object()) h.erase("created");
    if (cache_hit({{"step", "config"}, {"image", timeless}})) return true;
    hex_ = put(cfg_);
    if (record) cache_record();
    return false;
  }

  // Looks the step up in the cache (unless the stage's cache is busted): a hit makes its image
  // the current one and prints Docker's " ---> Using cache"; a miss busts every later step of
  // the stage. The key stays in key_ for cache_record once the step has made its image.
  bool cache_hit(const ojson& step) {
    key_ = step_cache_key(hex_, step);
    key_parent_ = hex_;
    if (busted_) return false;
    auto img = cached_step_image(store_, key_);
    if (!img) {
      busted_ = true;
      return false;
    }
    hex_ = *img;
    cfg_ = ojson::parse(store_.image_config(hex_));
    out_ << " ---> Using cache\n";
    return true;
  }

  void cache_record() {
    record_cached_step(store_, key_, key_parent_, hex_);
    recorded_.insert(hex_);
  }

  std::string put(const ojson& j) {
    std::string bytes = j.dump();
    std::string hex = digest_hex(sha256_digest(bytes));
    bool existed = store_.has_image(hex);
    {
      auto lock = store_.lock();
      hex = put_image_locked(store_, bytes, {});
    }
    if (!existed) created_.push_back(hex);
    return hex;
  }

  RunRequest request() const {
    RunRequest req;
    req.image = "sha256:" + hex_;
    req.entrypoint = "";
    req.network = o_.network;
    req.pull = "never";
    std::set<std::string> env_keys;
    for (const auto& [k, v] : image_env(cfg_)) env_keys.insert(k);
    for (const auto& [k, v] : args_)
      if (!env_keys.count(k)) req.env.push_back(k + "=" + v);
    return req;
  }

  void run_step(const RunInstruction& r) {
    if (!r.mount_flags.empty()) throw Error("RUN --mount is not supported by minirun build yet", 1);
    auto shell = image_shell(cfg_);
    auto argv = r.cmd.files.empty() ? command_argv(r.cmd, shell) : heredoc_argv(r.cmd, shell);
    // The key: the parent (its Env, User, WorkingDir), the argv, the ARGs in scope with their
    // values (Docker's rule: they are part of a RUN's cache key) and the step's network (not in
    // Docker's key, but what a RUN sees: a step run without a network is not reused with one).
    ojson args = ojson::array();
    for (const auto& [k, v] : args_) args.push_back({k, v});
    std::string text = created_by(Instruction(r), shell, args_);
    std::string network = r.network == "host" || r.network == "none" ? r.network : o_.network;
    if (cache_hit({{"step", "run"}, {"argv", argv}, {"args", args}, {"network", network}, {"created_by", text}}))
      return;
    RunRequest req = request();
    req.network = network;
    req.args = argv;
    std::string cid;
    int code;
    out_.flush();
    std::cout.flush();
    try {
      Silence quiet(o_.quiet);
      code = run_container(store_, req, RunHooks{}, &cid);
    } catch (const Error& e) {
      if (!cid.empty()) containers_.push_back(cid);
      throw Error("The command '" + join(argv) + "' could not be run: " + e.what(), 1);
    }
    containers_.push_back(cid);
    if (code != 0) throw Error("The command '" + join(argv) + "' returned a non-zero code: " + std::to_string(code), 1);
    commit(cid, text);
    cache_record();
  }

  // RUN with heredocs, as BuildKit runs them: a command that is one heredoc alone runs its
  // content as the shell's script; otherwise the shell gets the command line, then each
  // heredoc's body and delimiter, and reads them itself (quoting and <<- are the shell's).
  static std::vector<std::string> heredoc_argv(const CommandLine& cmd, const std::vector<std::string>& shell) {
    if (cmd.args.size() != 1 || !cmd.prepend_shell) throw Error("parsing produces more than one token", 1);
    std::vector<std::string> argv = shell;
    if (cmd.files.size() == 1 && parse_heredoc_word(cmd.args[0])) {
      const auto& f = cmd.files[0];
      std::string data = f.chomp ? chomp_heredoc_content(f.data) : f.data;
      if (data.starts_with("#!"))
        throw Error("RUN with a heredoc script starting with #! is not supported by minirun build yet", 1);
      argv.push_back(data);
      return argv;
    }
    std::string script = cmd.args[0] + "\n";
    for (const auto& f : cmd.files) script += f.data + f.name + "\n";
    argv.push_back(script);
    return argv;
  }

  void commit(const std::string& cid, const std::string& text) {
    CommitOptions co;
    co.pause = false;
    co.created_by = text;
    co.changes = path_change();
    std::string id = commit_container(store_, cid, "", co);
    hex_ = id.substr(7);
    created_.push_back(hex_);
    cfg_ = ojson::parse(store_.image_config(hex_));
    remove_container(store_, cid, true);
    std::erase(containers_, cid);
    out_ << "Removing intermediate container " << short_id(cid) << "\n";
  }

  // A step that writes files: fill writes them into a new directory (in the store's tmp/),
  // which becomes a layer on top of the current image (no container needed: FROM scratch too).
  // by_content: the step is looked up in the cache by the files it wrote (COPY): a hit drops
  // them and returns true.
  template <class F>
  bool layer_step(const std::string& text, F&& fill, bool by_content = false) {
    RemoveOnExit tmp(store_.new_temp_dir());
    std::string diff = tmp.path() + "/diff";
    if (::mkdir(diff.c_str(), 0755) != 0) throw sys_error(diff);
    fill(diff);
    if (by_content && cache_hit({{"step", "files"}, {"created_by", text}, {"files", tree_checksum(diff)}}))
      return true;
    std::vector<std::string> ids;
    CommitOptions co;
    co.changes = path_change();
    hex_ = add_layer_to_image(store_, hex_, diff, "", co, text, &ids).substr(7);
    created_.push_back(hex_);
    cfg_ = ojson::parse(store_.image_config(hex_));
    flatten_image(store_, ids);
    return false;
  }

  std::vector<std::string> layer_diffs(const std::string& hex) const {
    std::vector<std::string> dirs;
    for (const auto& id : image_layer_ids(parse_image_config(store_.image_config(hex), false)))
      dirs.push_back(store_.diff_dir(id));
    return dirs;  // bottom first
  }

  bool is_dir_in_image(const std::string& hex, const std::string& path) const {
    if (clean_path("/" + path) == "/") return true;
    return dir_in_image(hex, path).has_value();
  }

  // The directory at path in the image (the top layer that has the path decides), or none.
  std::optional<struct stat> dir_in_image(const std::string& hex, const std::string& path) const {
    std::string rel = clean_path("/" + path);
    if (rel == "/") return std::nullopt;
    auto dirs = layer_diffs(hex);
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      struct stat st;
      if (::lstat((*it + rel).c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return st;
        return std::nullopt;
      }
      std::string parent = rel.substr(0, rel.rfind('/'));
      std::string wh = *it + parent + "/.wh." + rel.substr(rel.rfind('/') + 1);
      if (::lstat(wh.c_str(), &st) == 0) return std::nullopt;
    }
    return std::nullopt;
  }

  void copy_step(const CopyInstruction& c) {
    if (!c.contents.empty()) throw Error("COPY with a heredoc is not supported by minirun build yet", 1);
    if (c.parents || !c.excludes.empty())
      throw Error("COPY --parents and --exclude are not supported by minirun build yet", 1);
    CopySpec spec;
    if (c.from.empty()) {
      spec.roots = {o_.context};
      spec.ignore = ignore_.get();
    } else {
      spec.roots = layer_diffs(source_image(c.from));
      spec.layers = true;
    }
    files_step(spec, c.sources, c.dest, c.chown, c.chmod, "COPY", created_by(Instruction(c), image_shell(cfg_)));
  }

  // ADD: local sources as COPY, a local tar archive (sniffed) extracted at the destination.
  void add_step(const AddInstruction& a) {
    if (!a.contents.empty()) throw Error("ADD with a heredoc is not supported by minirun build yet", 1);
    if (!a.excludes.empty()) throw Error("ADD --exclude is not supported by minirun build yet", 1);
    for (const auto& s : a.sources)
      if (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@"))
        throw Error("ADD " + s +
                        ": adding a URL is not supported by minirun build yet (download it into the context, then "
                        "ADD or COPY it)",
                    1);
    if (!a.checksum.empty()) throw Error("ADD --checksum is only for a URL source", 1);
    CopySpec spec;
    spec.roots = {o_.context};
    spec.ignore = ignore_.get();
    if (a.unpack.value_or(true)) {
      spec.unpack = [this](const std::string& host, const std::string& upper, const std::string& dest) {
        if (!is_tar_archive(host)) return false;
        RemoveOnExit x(store_.new_temp_dir());
        std::string dir = x.path() + "/x";
        if (::mkdir(dir.c_str(), 0755) != 0) throw sys_error(dir);
        extract_archive(host, dir);
        copy_tree_into_layer(dir, upper, dest);
        return true;
      };
    }
    files_step(spec, a.sources, a.dest, a.chown, a.chmod, "ADD", created_by(Instruction(a), image_shell(cfg_)));
  }

  // The file of the image at path (absolute), when a layer has it as a regular file.
  std::optional<std::string> image_file(const std::string& hex, const std::string& path) const {
    std::string rel = clean_path("/" + path);
    auto dirs = layer_diffs(hex);
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      struct stat st;
      if (::lstat((*it + rel).c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) return std::nullopt;
        return read_file_if_exists(*it + rel);
      }
      std::string parent = rel.substr(0, rel.rfind('/'));
      if (::lstat((*it + parent + "/.wh." + rel.substr(rel.rfind('/') + 1)).c_str(), &st) == 0) return std::nullopt;
    }
    return std::nullopt;
  }

  // COPY and ADD: the spec's sources to dest, owned by --chown (names resolved in the image, as
  // Docker), --chmod's mode; a layer cached by the files it holds.
  void files_step(CopySpec& spec, const std::vector<std::string>& sources, const std::string& dest,
                  const std::string& chown, const std::string& chmod, const std::string& kind,
                  const std::string& text) {
    spec.sources = sources;
    spec.dest_has_slash = (!dest.empty() && dest.back() == '/') || dest == "." || dest.ends_with("/.");
    std::string wd = cfg_.contains("config") && cfg_["config"].contains("WorkingDir") &&
                             cfg_["config"]["WorkingDir"].is_string()
                         ? cfg_["config"]["WorkingDir"].get<std::string>()
                         : "";
    spec.dest = resolve_workdir(wd, dest);
    std::optional<std::string> passwd, group;
    if (chown_has_names(chown)) {
      passwd = image_file(hex_, "/etc/passwd");
      group = image_file(hex_, "/etc/group");
    }
    auto [uid, gid] = resolve_chown(chown, passwd, group);
    spec.uid = uid;
    spec.gid = gid;
    spec.mode = parse_chmod(chmod, kind);
    std::string base = hex_;
    spec.image_dir = [this, base](const std::string& p) { return dir_in_image(base, p); };
    bool hit = layer_step(
        text,
        [&](const std::string& upper) {
          copy_into_layer(spec, upper, [&](const std::string& p) { return is_dir_in_image(base, p); });
        },
        true);
    if (!hit) cache_record();
  }

  // COPY --from: an earlier stage by name or index, else an image in the store.
  std::string source_image(const std::string& from) const {
    std::string lower;
    for (char ch : from) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const auto& s : stages_)
      if (!s.name.empty() && s.name == lower) return s.hex;
    if (!from.empty() && from.find_first_not_of("0123456789") == std::string::npos) {
      size_t i = std::stoul(from);
      if (i < stages_.size()) return stages_[i].hex;
    }
    try {
      return store_.resolve_image(from);
    } catch (const Error&) {
      throw Error("COPY --from=" + from + ": no such stage or image in the store", 1);
    }
  }

  // The containers of steps and the step images no one asked for go, whatever happened.
  void cleanup() noexcept {
    for (const auto& cid : containers_) {
      try {
        remove_container(store_, cid, true);
      } catch (const std::exception&) {
      }
    }
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      if (*it == keep_ || recorded_.count(*it)) continue;
      try {
        if (store_.has_image(*it) && store_.tags_of(*it).empty()) remove_image(store_, "sha256:" + *it, false);
      } catch (const std::exception&) {
      }
    }
  }

  Store& store_;
  const BuildOptions& o_;
  std::ostream& out_;
  char escape_ = '\\';
  std::unique_ptr<DockerIgnore> ignore_;
  Pairs build_args_, meta_, args_;
  std::set<std::string> consumed_;
  std::vector<StageImage> stages_;
  std::string hex_;  // the current stage's image
  ojson cfg_;        // its config
  bool cmd_set_ = false;
  bool busted_ = false;          // the stage's cache is not read: --no-cache, or a step missed
  std::string key_, key_parent_;  // the current step's cache key and the image it runs on
  std::set<std::string> recorded_;  // step images the cache holds: kept after the build
  std::vector<std::string> containers_, created_;
  std::string keep_;
};

}  // namespace

std::string build_image(Store& store, const BuildOptions& o, std::ostream& out) {
  std::ostringstream discard;
  Builder b(store, o, o.quiet ? static_cast<std::ostream&>(discard) : out);
  std::string id = b.run();
  if (o.quiet) out << id << "\n";
  return id;
}

}  // namespace minirun::build
