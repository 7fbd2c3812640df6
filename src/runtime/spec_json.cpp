// spec_json.cpp — config.json ⇄ runtime::Spec with the spec's names. Readers take what is there
// and leave the spec's defaults otherwise; writers leave out what is empty.
#include "minirun/runtime/spec_json.h"

#include <nlohmann/json.hpp>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::runtime {

using nlohmann::json;

namespace {

// Context for error messages: "linux.resources.memory.limit: ...".
struct Reader {
  std::string where;
  Reader at(const std::string& key) const { return {where.empty() ? key : where + "." + key}; }
  [[noreturn]] void bad(const std::string& what) const { throw Error("config.json: " + where + ": " + what); }

  template <class T>
  void get(const json& j, const char* key, T& out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    try {
      out = it->get<T>();
    } catch (const json::exception&) {
      at(key).bad("wrong type");
    }
  }
  template <class T>
  void get(const json& j, const char* key, std::optional<T>& out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    try {
      out = it->get<T>();
    } catch (const json::exception&) {
      at(key).bad("wrong type");
    }
  }
  const json* object(const json& j, const char* key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    if (!it->is_object()) at(key).bad("not an object");
    return &*it;
  }
  const json* array(const json& j, const char* key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    if (!it->is_array()) at(key).bad("not an array");
    return &*it;
  }
};

template <class T>
void put(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
void put(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
template <class T>
void put(json& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = v;
}

User read_user(const Reader& r, const json& j) {
  User u;
  r.get(j, "uid", u.uid);
  r.get(j, "gid", u.gid);
  r.get(j, "umask", u.umask);
  r.get(j, "additionalGids", u.additional_gids);
  return u;
}

Process read_process(const Reader& r, const json& j) {
  Process p;
  r.get(j, "terminal", p.terminal);
  if (const json* cs = r.object(j, "consoleSize")) {
    ConsoleSize c;
    r.at("consoleSize").get(*cs, "height", c.height);
    r.at("consoleSize").get(*cs, "width", c.width);
    p.console_size = c;
  }
  if (const json* u = r.object(j, "user")) p.user = read_user(r.at("user"), *u);
  r.get(j, "args", p.args);
  if (p.args.empty()) r.at("args").bad("at least one entry is required");
  r.get(j, "env", p.env);
  r.get(j, "cwd", p.cwd);
  if (p.cwd.empty() || p.cwd[0] != '/') r.at("cwd").bad("must be an absolute path");
  if (const json* c = r.object(j, "capabilities")) {
    Capabilities caps;
    Reader rc = r.at("capabilities");
    rc.get(*c, "bounding", caps.bounding);
    rc.get(*c, "effective", caps.effective);
    rc.get(*c, "inheritable", caps.inheritable);
    rc.get(*c, "permitted", caps.permitted);
    rc.get(*c, "ambient", caps.ambient);
    p.capabilities = caps;
  }
  if (const json* rl = r.array(j, "rlimits")) {
    for (const auto& e : *rl) {
      Rlimit l;
      r.at("rlimits").get(e, "type", l.type);
      r.at("rlimits").get(e, "soft", l.soft);
      r.at("rlimits").get(e, "hard", l.hard);
      p.rlimits.push_back(l);
    }
  }
  r.get(j, "noNewPrivileges", p.no_new_privileges);
  r.get(j, "oomScoreAdj", p.oom_score_adj);
  r.get(j, "apparmorProfile", p.apparmor_profile);
  r.get(j, "selinuxLabel", p.selinux_label);
  return p;
}

std::vector<Hook> read_hooks(const Reader& r, const json& j, const char* key) {
  std::vector<Hook> out;
  if (const json* a = r.array(j, key)) {
    Reader rh = r.at(key);
    for (const auto& e : *a) {
      Hook h;
      rh.get(e, "path", h.path);
      if (h.path.empty() || h.path[0] != '/') rh.bad("path must be absolute");
      rh.get(e, "args", h.args);
      rh.get(e, "env", h.env);
      rh.get(e, "timeout", h.timeout);
      if (h.timeout && *h.timeout <= 0) rh.bad("timeout must be greater than zero");
      out.push_back(std::move(h));
    }
  }
  return out;
}

Resources read_resources(const Reader& r, const json& j) {
  Resources res;
  if (const json* d = r.array(j, "devices")) {
    for (const auto& e : *d) {
      DeviceRule rule;
      Reader rd = r.at("devices");
      rd.get(e, "allow", rule.allow);
      rd.get(e, "type", rule.type);
      rd.get(e, "major", rule.major);
      rd.get(e, "minor", rule.minor);
      rd.get(e, "access", rule.access);
      res.devices.push_back(rule);
    }
  }
  if (const json* m = r.object(j, "memory")) {
    MemoryResources mem;
    Reader rm = r.at("memory");
    rm.get(*m, "limit", mem.limit);
    rm.get(*m, "reservation", mem.reservation);
    rm.get(*m, "swap", mem.swap);
    rm.get(*m, "kernel", mem.kernel);
    rm.get(*m, "kernelTCP", mem.kernel_tcp);
    rm.get(*m, "swappiness", mem.swappiness);
    rm.get(*m, "disableOOMKiller", mem.disable_oom_killer);
    rm.get(*m, "useHierarchy", mem.use_hierarchy);
    res.memory = mem;
  }
  if (const json* c = r.object(j, "cpu")) {
    CpuResources cpu;
    Reader rc = r.at("cpu");
    rc.get(*c, "shares", cpu.shares);
    rc.get(*c, "quota", cpu.quota);
    rc.get(*c, "period", cpu.period);
    rc.get(*c, "realtimeRuntime", cpu.realtime_runtime);
    rc.get(*c, "realtimePeriod", cpu.realtime_period);
    rc.get(*c, "cpus", cpu.cpus);
    rc.get(*c, "mems", cpu.mems);
    rc.get(*c, "idle", cpu.idle);
    res.cpu = cpu;
  }
  if (const json* p = r.object(j, "pids")) {
    int64_t limit = 0;
    r.at("pids").get(*p, "limit", limit);
    res.pids_limit = limit;
  }
  if (const json* b = r.object(j, "blockIO")) {
    BlockIoResources bio;
    Reader rb = r.at("blockIO");
    rb.get(*b, "weight", bio.weight);
    rb.get(*b, "leafWeight", bio.leaf_weight);
    if (const json* wd = rb.array(*b, "weightDevice"))
      for (const auto& e : *wd) {
        WeightDevice w;
        rb.get(e, "major", w.major);
        rb.get(e, "minor", w.minor);
        rb.get(e, "weight", w.weight);
        rb.get(e, "leafWeight", w.leaf_weight);
        bio.weight_device.push_back(w);
      }
    auto throttle = [&](const char* key, std::vector<ThrottleDevice>& out) {
      if (const json* a = rb.array(*b, key))
        for (const auto& e : *a) {
          ThrottleDevice t;
          rb.get(e, "major", t.major);
          rb.get(e, "minor", t.minor);
          rb.get(e, "rate", t.rate);
          out.push_back(t);
        }
    };
    throttle("throttleReadBpsDevice", bio.throttle_read_bps_device);
    throttle("throttleWriteBpsDevice", bio.throttle_write_bps_device);
    throttle("throttleReadIOPSDevice", bio.throttle_read_iops_device);
    throttle("throttleWriteIOPSDevice", bio.throttle_write_iops_device);
    res.block_io = bio;
  }
  if (const json* h = r.array(j, "hugepageLimits"))
    for (const auto& e : *h) {
      HugepageLimit l;
      r.at("hugepageLimits").get(e, "pageSize", l.page_size);
      r.at("hugepageLimits").get(e, "limit", l.limit);
      res.hugepage_limits.push_back(l);
    }
  if (const json* n = r.object(j, "network")) {
    NetworkResources net;
    r.at("network").get(*n, "classID", net.class_id);
    if (const json* pr = r.at("network").array(*n, "priorities"))
      for (const auto& e : *pr) {
        std::string name;
        uint32_t prio = 0;
        r.at("network.priorities").get(e, "name", name);
        r.at("network.priorities").get(e, "priority", prio);
        net.priorities.emplace_back(name, prio);
      }
    res.network = net;
  }
  r.get(j, "unified", res.unified);
  return res;
}

Seccomp read_seccomp(const Reader& r, const json& j) {
  Seccomp s;
  r.get(j, "defaultAction", s.default_action);
  r.get(j, "defaultErrnoRet", s.default_errno_ret);
  r.get(j, "architectures", s.architectures);
  r.get(j, "flags", s.flags);
  r.get(j, "listenerPath", s.listener_path);
  r.get(j, "listenerMetadata", s.listener_metadata);
  if (const json* a = r.array(j, "syscalls"))
    for (const auto& e : *a) {
      SeccompSyscall sc;
      Reader rs = r.at("syscalls");
      rs.get(e, "names", sc.names);
      rs.get(e, "action", sc.action);
      rs.get(e, "errnoRet", sc.errno_ret);
      if (const json* args = rs.array(e, "args"))
        for (const auto& ae : *args) {
          SeccompArg arg;
          rs.get(ae, "index", arg.index);
          rs.get(ae, "value", arg.value);
          rs.get(ae, "valueTwo", arg.value_two);
          rs.get(ae, "op", arg.op);
          sc.args.push_back(arg);
        }
      s.syscalls.push_back(std::move(sc));
    }
  return s;
}

Linux read_linux(const Reader& r, const json& j) {
  Linux l;
  if (const json* ns = r.array(j, "namespaces"))
    for (const auto& e : *ns) {
      Namespace n;
      r.at("namespaces").get(e, "type", n.type);
      r.at("namespaces").get(e, "path", n.path);
      static const char* known[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
      bool ok = false;
      for (const char* k : known) ok = ok || n.type == k;
      if (!ok) r.at("namespaces").bad("unknown namespace type \"" + n.type + "\"");
      for (const auto& other : l.namespaces)
        if (other.type == n.type) r.at("namespaces").bad("duplicate namespace \"" + n.type + "\"");
      l.namespaces.push_back(n);
    }
  auto mappings = [&](const char* key, std::vector<IdMapping>& out) {
    if (const json* a = r.array(j, key))
      for (const auto& e : *a) {
        IdMapping m;
        r.at(key).get(e, "containerID", m.container_id);
        r.at(key).get(e, "hostID", m.host_id);
        r.at(key).get(e, "size", m.size);
        out.push_back(m);
      }
  };
  mappings("uidMappings", l.uid_mappings);
  mappings("gidMappings", l.gid_mappings);
  if (const json* d = r.array(j, "devices"))
    for (const auto& e : *d) {
      Device dev;
      Reader rd = r.at("devices");
      rd.get(e, "type", dev.type);
      rd.get(e, "path", dev.path);
      rd.get(e, "major", dev.major);
      rd.get(e, "minor", dev.minor);
      rd.get(e, "fileMode", dev.file_mode);
      rd.get(e, "uid", dev.uid);
      rd.get(e, "gid", dev.gid);
      if (dev.path.empty() || dev.path[0] != '/') rd.bad("path must be absolute");
      if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p") rd.bad("type must be c, b, u or p");
      l.devices.push_back(dev);
    }
  r.get(j, "cgroupsPath", l.cgroups_path);
  if (const json* res = r.object(j, "resources")) l.resources = read_resources(r.at("resources"), *res);
  if (const json* sc = r.object(j, "seccomp")) l.seccomp = read_seccomp(r.at("seccomp"), *sc);
  r.get(j, "sysctl", l.sysctl);
  r.get(j, "rootfsPropagation", l.rootfs_propagation);
  r.get(j, "maskedPaths", l.masked_paths);
  r.get(j, "readonlyPaths", l.readonly_paths);
  r.get(j, "mountLabel", l.mount_label);
  if (const json* p = r.object(j, "personality")) {
    std::string domain;
    r.at("personality").get(*p, "domain", domain);
    l.personality_domain = domain;
  }
  return l;
}

json user_json(const User& u) {
  json j = {{"uid", u.uid}, {"gid", u.gid}};
  put(j, "umask", u.umask);
  put(j, "additionalGids", u.additional_gids);
  return j;
}

json process_json(const Process& p) {
  json j;
  if (p.terminal) j["terminal"] = true;
  if (p.console_size) j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  j["user"] = user_json(p.user);
  j["args"] = p.args;
  put(j, "env", p.env);
  j["cwd"] = p.cwd;
  if (p.capabilities) {
    json c = json::object();
    put(c, "bounding", p.capabilities->bounding);
    put(c, "effective", p.capabilities->effective);
    put(c, "inheritable", p.capabilities->inheritable);
    put(c, "permitted", p.capabilities->permitted);
    put(c, "ambient", p.capabilities->ambient);
    j["capabilities"] = c;
  }
  for (const auto& l : p.rlimits) j["rlimits"].push_back({{"type", l.type}, {"soft", l.soft}, {"hard", l.hard}});
  if (p.no_new_privileges) j["noNewPrivileges"] = true;
  put(j, "oomScoreAdj", p.oom_score_adj);
  put(j, "apparmorProfile", p.apparmor_profile);
  put(j, "selinuxLabel", p.selinux_label);
  return j;
}

json hooks_json(const std::vector<Hook>& hooks) {
  json a = json::array();
  for (const auto& h : hooks) {
    json e = {{"path", h.path}};
    put(e, "args", h.args);
    put(e, "env", h.env);
    put(e, "timeout", h.timeout);
    a.push_back(e);
  }
  return a;
}

json resources_json(const Resources& r) {
  json j = json::object();
  for (const auto& d : r.devices) {
    json e = {{"allow", d.allow}};
    put(e, "type", d.type);
    put(e, "major", d.major);
    put(e, "minor", d.minor);
    put(e, "access", d.access);
    j["devices"].push_back(e);
  }
  if (r.memory) {
    json m = json::object();
    put(m, "limit", r.memory->limit);
    put(m, "reservation", r.memory->reservation);
    put(m, "swap", r.memory->swap);
    put(m, "kernel", r.memory->kernel);
    put(m, "kernelTCP", r.memory->kernel_tcp);
    put(m, "swappiness", r.memory->swappiness);
    put(m, "disableOOMKiller", r.memory->disable_oom_killer);
    put(m, "useHierarchy", r.memory->use_hierarchy);
    j["memory"] = m;
  }
  if (r.cpu) {
    json c = json::object();
    put(c, "shares", r.cpu->shares);
    put(c, "quota", r.cpu->quota);
    put(c, "period", r.cpu->period);
    put(c, "realtimeRuntime", r.cpu->realtime_runtime);
    put(c, "realtimePeriod", r.cpu->realtime_period);
    put(c, "cpus", r.cpu->cpus);
    put(c, "mems", r.cpu->mems);
    put(c, "idle", r.cpu->idle);
    j["cpu"] = c;
  }
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit}};
  if (r.block_io) {
    json b = json::object();
    put(b, "weight", r.block_io->weight);
    put(b, "leafWeight", r.block_io->leaf_weight);
    for (const auto& w : r.block_io->weight_device) {
      json e = {{"major", w.major}, {"minor", w.minor}};
      put(e, "weight", w.weight);
      put(e, "leafWeight", w.leaf_weight);
      b["weightDevice"].push_back(e);
    }
    auto throttle = [&](const char* key, const std::vector<ThrottleDevice>& v) {
      for (const auto& t : v) b[key].push_back({{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}});
    };
    throttle("throttleReadBpsDevice", r.block_io->throttle_read_bps_device);
    throttle("throttleWriteBpsDevice", r.block_io->throttle_write_bps_device);
    throttle("throttleReadIOPSDevice", r.block_io->throttle_read_iops_device);
    throttle("throttleWriteIOPSDevice", r.block_io->throttle_write_iops_device);
    j["blockIO"] = b;
  }
  for (const auto& h : r.hugepage_limits) j["hugepageLimits"].push_back({{"pageSize", h.page_size}, {"limit", h.limit}});
  if (r.network) {
    json n = json::object();
    put(n, "classID", r.network->class_id);
    for (const auto& [name, prio] : r.network->priorities) n["priorities"].push_back({{"name", name}, {"priority", prio}});
    j["network"] = n;
  }
  if (!r.unified.empty()) j["unified"] = r.unified;
  return j;
}

json seccomp_json(const Seccomp& s) {
  json j = {{"defaultAction", s.default_action}};
  put(j, "defaultErrnoRet", s.default_errno_ret);
  put(j, "architectures", s.architectures);
  put(j, "flags", s.flags);
  put(j, "listenerPath", s.listener_path);
  put(j, "listenerMetadata", s.listener_metadata);
  for (const auto& sc : s.syscalls) {
    json e = {{"names", sc.names}, {"action", sc.action}};
    put(e, "errnoRet", sc.errno_ret);
    for (const auto& a : sc.args)
      e["args"].push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
    j["syscalls"].push_back(e);
  }
  return j;
}

json linux_json(const Linux& l) {
  json j = json::object();
  for (const auto& n : l.namespaces) {
    json e = {{"type", n.type}};
    put(e, "path", n.path);
    j["namespaces"].push_back(e);
  }
  auto mappings = [&](const char* key, const std::vector<IdMapping>& v) {
    for (const auto& m : v) j[key].push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  };
  mappings("uidMappings", l.uid_mappings);
  mappings("gidMappings", l.gid_mappings);
  for (const auto& d : l.devices) {
    json e = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
    put(e, "fileMode", d.file_mode);
    put(e, "uid", d.uid);
    put(e, "gid", d.gid);
    j["devices"].push_back(e);
  }
  put(j, "cgroupsPath", l.cgroups_path);
  if (l.resources) j["resources"] = resources_json(*l.resources);
  if (l.seccomp) j["seccomp"] = seccomp_json(*l.seccomp);
  if (!l.sysctl.empty()) j["sysctl"] = l.sysctl;
  put(j, "rootfsPropagation", l.rootfs_propagation);
  put(j, "maskedPaths", l.masked_paths);
  put(j, "readonlyPaths", l.readonly_paths);
  put(j, "mountLabel", l.mount_label);
  if (l.personality_domain) j["personality"] = {{"domain", *l.personality_domain}};
  return j;
}

}  // namespace

Spec spec_from_json(const json& j) {
  if (!j.is_object()) throw Error("config.json: not a JSON object");
  Reader r;
  Spec s;
  r.get(j, "ociVersion", s.oci_version);
  if (s.oci_version.rfind("1.", 0) != 0)
    throw Error("config.json: ociVersion \"" + s.oci_version + "\" is not supported (want 1.x)");
  if (const json* p = r.object(j, "process")) s.process = read_process(r.at("process"), *p);
  if (const json* root = r.object(j, "root")) {
    r.at("root").get(*root, "path", s.root.path);
    r.at("root").get(*root, "readonly", s.root.readonly);
  } else {
    throw Error("config.json: root is required");
  }
  r.get(j, "hostname", s.hostname);
  r.get(j, "domainname", s.domainname);
  if (const json* m = r.array(j, "mounts"))
    for (const auto& e : *m) {
      Mount mt;
      Reader rm = r.at("mounts");
      rm.get(e, "destination", mt.destination);
      rm.get(e, "type", mt.type);
      rm.get(e, "source", mt.source);
      rm.get(e, "options", mt.options);
      if (mt.destination.empty()) rm.bad("destination is required");
      if (e.contains("uidMappings") || e.contains("gidMappings"))
        rm.bad("idmapped mounts are not supported (" + mt.destination + ")");
      s.mounts.push_back(std::move(mt));
    }
  if (const json* h = r.object(j, "hooks")) {
    Reader rh = r.at("hooks");
    s.hooks.prestart = read_hooks(rh, *h, "prestart");
    s.hooks.create_runtime = read_hooks(rh, *h, "createRuntime");
    s.hooks.create_container = read_hooks(rh, *h, "createContainer");
    s.hooks.start_container = read_hooks(rh, *h, "startContainer");
    s.hooks.poststart = read_hooks(rh, *h, "poststart");
    s.hooks.poststop = read_hooks(rh, *h, "poststop");
  }
  r.get(j, "annotations", s.annotations);
  if (const json* l = r.object(j, "linux")) {
    s.linux = read_linux(r.at("linux"), *l);
    if (l->contains("intelRdt")) throw Error("config.json: linux.intelRdt is not supported");
  }
  return s;
}

json spec_to_json(const Spec& s) {
  json j = {{"ociVersion", s.oci_version}};
  if (s.process) j["process"] = process_json(*s.process);
  j["root"] = {{"path", s.root.path}};
  if (s.root.readonly) j["root"]["readonly"] = true;
  put(j, "hostname", s.hostname);
  put(j, "domainname", s.domainname);
  j["mounts"] = json::array();
  for (const auto& m : s.mounts) {
    json e = {{"destination", m.destination}};
    put(e, "type", m.type);
    put(e, "source", m.source);
    put(e, "options", m.options);
    j["mounts"].push_back(e);
  }
  if (!s.hooks.empty()) {
    json h = json::object();
    auto add = [&](const char* key, const std::vector<Hook>& v) {
      if (!v.empty()) h[key] = hooks_json(v);
    };
    add("prestart", s.hooks.prestart);
    add("createRuntime", s.hooks.create_runtime);
    add("createContainer", s.hooks.create_container);
    add("startContainer", s.hooks.start_container);
    add("poststart", s.hooks.poststart);
    add("poststop", s.hooks.poststop);
    j["hooks"] = h;
  }
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  j["linux"] = linux_json(s.linux);
  return j;
}

nlohmann::json resources_to_json(const Resources& r) { return ::minirun::runtime::resources_json(r); }

Resources resources_from_json(const nlohmann::json& j) { return read_resources(Reader{"resources"}, j); }

Spec load_bundle_spec(const std::string& bundle) {
  std::string path = bundle + "/config.json";
  auto text = read_file_if_exists(path, 64 << 20);
  if (!text) throw sys_error(path);
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::exception& e) {
    throw Error(path + ": " + e.what());
  }
  Spec s = spec_from_json(j);
  if (s.root.path.empty()) throw Error("config.json: root.path is required");
  if (s.root.path[0] != '/') s.root.path = bundle + "/" + s.root.path;
  return s;
}

}  // namespace minirun::runtime
