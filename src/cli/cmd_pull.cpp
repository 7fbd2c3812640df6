// minirun pull [-q] [--platform OS/ARCH[/VARIANT]] [--max-concurrent-downloads N] [--cert-dir DIR]
// NAME[:TAG|@DIGEST] — pull an image from a registry, as docker pull does (its progress lines,
// its last line the full name, exit 1 on failure; on a terminal each layer's line is rewritten
// in place); registries.conf for short names and mirrors.
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "cli.h"
#include "pull_progress.h"
#include "minirun/engine/pull_reference.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

// docker pull's lines. Not on a terminal: one per layer and state, as docker prints them there.
// On a terminal (`term` set): one line per layer, rewritten in place (pull_progress.h).
struct PullPrinter {
  std::ostream& out;
  bool quiet = false;
  std::optional<TerminalProgress> term;
  std::vector<LayerState> shown;

  void line(const std::string& s) {
    if (quiet) return;
    if (term)
      out << term->line(s) << std::flush;
    else
      out << s << std::endl;
  }
  void layer_line(const LayerProgress& p) {
    if (quiet) return;
    if (term)
      out << term->layer(p) << std::flush;
    else
      out << p.id << (p.state == LayerState::kExists ? ": Already exists" : ": Pulling fs layer") << std::endl;
  }
  // Every layer already there: docker says nothing of them when the image is too ("up to
  // date"); held until the result tells.
  std::vector<LayerProgress> held;
  void layers(const std::vector<LayerProgress>& all) {
    shown.assign(all.size(), LayerState::kWaiting);
    bool all_there = true;
    for (const auto& l : all) all_there &= l.state == LayerState::kExists;
    for (const auto& l : all) {
      shown[l.index] = l.state;
      if (all_there)
        held.push_back(l);
      else
        layer_line(l);
    }
  }
  void progress(const LayerProgress& p) {
    if (p.index >= shown.size()) return;
    if (term) {  // every event: the byte counts move
      shown[p.index] = p.state;
      layer_line(p);
      return;
    }
    if (shown[p.index] == p.state) return;
    shown[p.index] = p.state;
    switch (p.state) {
      case LayerState::kDownloading: line(p.id + ": Downloading"); break;
      case LayerState::kExtracting:
        line(p.id + ": Verifying Checksum");
        line(p.id + ": Download complete");
        break;
      case LayerState::kComplete: line(p.id + ": Pull complete"); break;
      default: break;
    }
  }
};

// The terminal `out` writes to, as its width in columns; nullopt when it is not one.
std::optional<size_t> terminal_width(const std::ostream& out) {
  int fd = &out == &std::cout ? STDOUT_FILENO : &out == &std::cerr ? STDERR_FILENO : -1;
  if (fd < 0 || !::isatty(fd)) return std::nullopt;
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return size_t{0};
  return size_t{ws.ws_col};
}

}  // namespace

std::string pull_with_progress(Store& store, const std::string& name, std::ostream& out, bool quiet,
                               const std::string& platform, size_t max_concurrent, const std::string& cert_dir,
                               std::string* full_name) {
  PullPrinter printer{out, quiet, std::nullopt, {}};
  if (auto width = terminal_width(out)) printer.term.emplace(*width);
  PullRequest req;
  req.input = name;
  if (!platform.empty()) req.platform = registry::parse_platform(platform);
  req.max_concurrent = max_concurrent;
  req.source.cert_dir = cert_dir;
  Reference typed = parse_normalized_reference(name);
  if (typed.tag.empty() && typed.digest.empty()) printer.line("Using default tag: latest");
  req.trying = [&](const Reference& ref, const registry::PullSource&) {
    printer.line((ref.digest.empty() ? ref.tag : ref.digest) + ": Pulling from " + ref.path);
  };
  req.layers = [&](const std::vector<LayerProgress>& all) { printer.layers(all); };
  req.progress = [&](const LayerProgress& p) { printer.progress(p); };
  registry::RegistriesConf conf = registry::load_registries_conf();
  PulledImage img = pull_reference(store, conf, req);
  if (img.result.downloaded)
    for (const auto& l : printer.held) printer.layer_line(l);
  printer.line("Digest: " + img.result.digest);
  printer.line(std::string(img.result.downloaded ? "Status: Downloaded newer image for "
                                                 : "Status: Image is up to date for ") +
               img.ref.familiar_string());
  if (full_name) *full_name = img.ref.string();
  return img.result.image_id;
}

void register_pull(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("pull", "Download an image from a registry: minirun pull [OPTIONS] NAME[:TAG|@DIGEST]");
  auto name = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto platform = std::make_shared<std::string>();
  auto concurrent = std::make_shared<size_t>(3);
  auto cert_dir = std::make_shared<std::string>();
  cmd->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
  cmd->add_option("--platform", *platform, "Set platform if server is multi-platform capable (OS/ARCH[/VARIANT])");
  cmd->add_option("--max-concurrent-downloads", *concurrent, "Layers downloaded at once (default 3)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--cert-dir", *cert_dir,
                  "Use the certificates in DIR (*.crt CAs, *.cert/*.key client pair) instead of "
                  "/etc/containers/certs.d and /etc/docker/certs.d")
      ->type_name("DIR");
  cmd->add_option("name", *name, "NAME[:TAG|@DIGEST]")->required();
  cmd->footer(
      "Short names resolve with containers-registries.conf ($CONTAINERS_REGISTRIES_CONF): aliases, "
      "unqualified-search registries, else Docker Hub; mirrors are tried before the registry. Credentials "
      "from $REGISTRY_AUTH_FILE, /run/containers/0/auth.json or ~/.docker/config.json.\n"
      "Examples:\n  minirun pull busybox\n  minirun pull --platform linux/arm64 localhost:5000/app:1\n"
      "  minirun pull -q debian@sha256:…");
  cmd->callback([&g, name, quiet, platform, concurrent, cert_dir] {
    try {
      Store store = open_store(g);
      std::string full;
      pull_with_progress(store, *name, std::cout, *quiet, *platform, *concurrent, *cert_dir, &full);
      std::cout << full << std::endl;
    } catch (const Error& e) {
      throw Error(e.what(), 1);  // docker pull's status when the pull fails
    }
  });
}

}  // namespace minirun::cli
