// complete.h — shell completion from the CLI11 registrations: `minirun __complete WORD…` (hidden,
// see main.cpp) prints the candidates for the last WORD, one per line, given the words before it
// (the command line after "minirun"). The bash and zsh scripts (contrib/completion/) only call
// it, so verbs and flags complete as --help lists them, and image and container names as the
// store holds them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace minirun::cli {

struct CompletionNames {
  std::vector<std::string> images;      // NAME:TAG of every tagged image
  std::vector<std::string> containers;  // container names
};

// Candidates for words.back() (possibly empty) after words[0..n-1]. `names` is called (with the
// store root given by --root, or "") only when a name is wanted.
std::vector<std::string> complete(const CLI::App& app, const std::vector<std::string>& words,
                                  const std::function<CompletionNames(const std::string& root)>& names);

// The names in the store at `root` (--root / $MINIRUN_ROOT / default); none when it does not
// exist or cannot be read (completion never creates a store).
CompletionNames store_names(const std::string& root);

}  // namespace minirun::cli
