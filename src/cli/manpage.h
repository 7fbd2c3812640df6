// manpage.h — the manual pages, generated from the CLI11 registrations that also make --help:
// minirun(1) and one page per verb (minirun-run(1), minirun-image-prune(1) for a verb's own
// verbs). The build runs `minirun __man DIR` (hidden, see main.cpp), so a page can never
// disagree with the binary it ships with.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

namespace minirun::cli {

// Every page as {file name ("minirun-run.1"), roff text}; `app` has every verb registered.
std::vector<std::pair<std::string, std::string>> man_pages(const CLI::App& app, const std::string& version);

// Writes man_pages() into `dir` (created if missing); returns how many were written.
size_t write_man_pages(const CLI::App& app, const std::string& version, const std::string& dir);

}  // namespace minirun::cli
