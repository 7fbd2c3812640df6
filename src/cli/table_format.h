// table_format.h — the --format of the list verbs (ps, images): Docker's "table" and "json"
// forms around a template (gotemplate.h), and Go's tabwriter as Docker sets it up.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace minirun::cli {

// Docker's --format of a list verb (ps, images): "" or "table" is the verb's default table
// (returns false: the caller prints it); "json" one compact JSON object per row; "table TEMPLATE"
// a header row (TEMPLATE run over `headers`, e.g. {"ID": "CONTAINER ID"}) and one row per item,
// aligned at tabs like Docker's tabwriter; any other template one line per row. `\t` and `\n`
// typed literally become a tab and a newline, as in Docker. Returns true when it wrote `out`.
bool format_rows(const std::string& format, const nlohmann::ordered_json& headers,
                 const std::vector<nlohmann::ordered_json>& rows, std::string& out);

// Go's tabwriter as Docker sets it up (minwidth 10, padding 3, spaces): cells end at tabs; every
// cell but the last of a line is padded to its column's width.
std::string tabwrite(const std::string& text);

}  // namespace minirun::cli
