// dockerignore.h — which files of a build context .dockerignore leaves out, with Docker's
// rules (moby/patternmatcher and its ignorefile reader).
//
// It owns: reading the file (comments only where a line starts with #, blank lines, white
// space trimmed, patterns cleaned as Go's filepath.Clean, a leading / dropped, ! exceptions);
// matching a context path (* and ? within one path element, ** across elements, [classes],
// \ escapes; a pattern that matches a parent directory matches everything below it; the last
// matching pattern decides); and, for the context walker, whether an excluded directory may
// still hold a file that an exception brings back.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::dockerfile {

// Go's path/filepath.Clean for slash-separated paths.
std::string clean_path(std::string_view path);

// The patterns of a .dockerignore text, as ignorefile.ReadAll returns them.
std::vector<std::string> read_dockerignore(std::string_view text);

class DockerIgnore {
 public:
  // Throws minirun::Error on a bad pattern ("illegal exclusion pattern: \"!\"",
  // "syntax error in pattern").
  explicit DockerIgnore(const std::vector<std::string>& patterns);
  static DockerIgnore from_text(std::string_view text) { return DockerIgnore(read_dockerignore(text)); }
  ~DockerIgnore();
  DockerIgnore(DockerIgnore&&) noexcept;
  DockerIgnore& operator=(DockerIgnore&&) noexcept;

  // Whether the path (relative to the context root, / separated) is left out of the context.
  // "." (the root) never is.
  bool excluded(std::string_view path) const;

  // Whether some ! exception could match a path below this directory, so that a walker must
  // enter it even when the directory itself is excluded.
  bool may_include_below(std::string_view dir) const;

  bool has_exclusions() const;
  bool empty() const;

 private:
  struct Pattern;
  std::vector<std::unique_ptr<Pattern>> patterns_;
  bool exclusions_ = false;
};

}  // namespace minirun::dockerfile
