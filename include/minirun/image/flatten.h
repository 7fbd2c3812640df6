// flatten.h — a deep image's layers merged into one directory tree: its flat layer.
//
// Every lower layer of an overlay costs `run` kernel work that no cache removes: one fsconfig
// at mount, one lookup per layer for each name resolved (/proc, /dev, /etc/passwd, the
// command…), one release at unmount. 500 layers add about 10 ms to a 5 ms start. So an image of
// kFlattenFrom layers or more also gets a flat layer in the store (store.h: flat_dir), the view
// overlayfs would give of its layers, and `run` stacks that one directory instead of the N
// layers. Everything else (a container's lower chain, diff, commit, save, export, rmi's
// reference counts) still names the N layers; the flat layer goes with its image's top layer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace minirun {

inline constexpr size_t kFlattenFrom = 32;

// Merges the layer directories `diffs` (overlay form, bottom layer first) into `dst`, an empty
// directory, as overlayfs shows them: a whiteout removes the name, an opaque directory drops
// what the layers below put in it, a name that is not a directory in a higher layer replaces the
// directory below, and a directory takes the owner, mode, extended attributes and times of the
// topmost layer that has it. Every name that is not a directory is a hard link to the layer's
// own file (a copy when that file's link count is at the file system's limit), so a flat layer
// costs directories only; a file's link count as a container sees it is one higher.
// Throws Error naming the layer and the path ("layer 3 of 40: etc/passwd: link: …").
void flatten_layers(const std::vector<std::string>& diffs, const std::string& dst);

}  // namespace minirun
