// overlay.h — mounting an overlay of store layers. Must be called inside a private mount
// namespace (or, for `minirun mount`, deliberately on the host).
#pragma once

#include <string>
#include <vector>

namespace minirun {

struct OverlayLayout {
  std::string overlay_root;              // "<store>/overlay2"; lower links are relative to it
  std::vector<std::string> lower_links;  // "l/<short>" (or an absolute path), nearest first
  // Optional, the same layers as lower_links: "<id>/diff" relative to overlay_root (or absolute).
  // The new mount API resolves these from overlay_root, with no long prefix and no short link to
  // follow per layer (500 "lowerdir+" calls: about 1.0 ms instead of 1.4 ms with absolute links).
  std::vector<std::string> lower_dirs;
  std::string upper, work;               // absolute; both empty → a read-only overlay of the lowers
};

// Mounts the overlay at target with extra MS_* flags (MS_NODEV, MS_RDONLY, …). Uses the new mount
// API with one fsconfig "lowerdir+" per layer where the kernel has it (6.8+: up to 500 layers),
// else mount(2) with relative "l/…" names from overlay_root so 128+ layers fit in one page; when
// they do not, a clear Error names the limit. Both resolve relative names from overlay_root as
// the working directory; the caller's working directory is restored.
void mount_overlay(const OverlayLayout& layout, const std::string& target, unsigned long flags);

// The same overlay as a detached mount (fsmount) for move_mount(), e.g. into a container's new
// mount namespace; bottom_fd, when not -1, is one more lower below the others, given as an open
// directory or a detached mount (another overlay: FSCONFIG_SET_FD, Linux 6.13). Returns -1 when
// the kernel cannot (no "lowerdir+", or no layer by descriptor), throws on other errors. Changes
// the calling thread's working directory for a moment: call it where that is not shared with
// another thread.
int overlay_mount_fd(const OverlayLayout& layout, unsigned long flags, int bottom_fd = -1);

// The most layers the legacy mount(2) path can stack with short links (for messages and tests).
size_t legacy_overlay_layer_limit(const OverlayLayout& layout);

}  // namespace minirun
