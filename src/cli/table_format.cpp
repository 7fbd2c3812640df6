// table_format.cpp — see table_format.h.
#include "table_format.h"

#include <algorithm>
#include <functional>

#include "gotemplate.h"

namespace minirun::cli {

using ojson = nlohmann::ordered_json;

namespace {

// Characters as the terminal counts them: UTF-8 code points.
size_t runes(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) n++;
  return n;
}

std::string unescape_format(const std::string& f) {
  std::string out;
  for (size_t i = 0; i < f.size(); i++) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[++i] == 't' ? '\t' : '\n';
    } else {
      out += f[i];
    }
  }
  return out;
}

}  // namespace

bool format_rows(const std::string& format, const ojson& headers, const std::vector<ojson>& rows, std::string& out) {
  if (format.empty() || format == "table") return false;
  out.clear();
  if (format == "json") {
    for (const auto& r : rows) out += r.dump() + "\n";
    return true;
  }
  bool table = format.rfind("table", 0) == 0;
  std::string f = table ? format.substr(5) : format;
  size_t b = f.find_first_not_of(' '), e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  GoTemplate t(unescape_format(f));
  std::string text;
  // The header row is the template run over the column names; a field or function that has no
  // header prints as empty (Docker prints whatever its header context gives).
  if (table) text += t.execute_lenient(headers) + "\n";
  for (const auto& r : rows) text += t.execute(r) + "\n";
  out = table ? tabwrite(text) : text;
  return true;
}

std::string tabwrite(const std::string& text) {
  constexpr size_t minwidth = 10, padding = 3;
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> tails;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    std::string line = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
    b = e == std::string::npos ? text.size() : e + 1;
    std::vector<std::string> c;
    size_t s = 0;
    for (size_t t; (t = line.find('\t', s)) != std::string::npos; s = t + 1) c.push_back(line.substr(s, t - s));
    cells.push_back(std::move(c));
    tails.push_back(line.substr(s));
  }
  std::vector<std::vector<size_t>> width(cells.size());
  for (size_t i = 0; i < cells.size(); i++) width[i].resize(cells[i].size());
  // Go's column blocks: a column's width is taken over consecutive lines that have that cell.
  std::function<void(size_t, size_t, size_t)> block = [&](size_t l0, size_t l1, size_t col) {
    for (size_t i = l0; i < l1;) {
      if (cells[i].size() <= col) {
        i++;
        continue;
      }
      size_t j = i, w = minwidth;
      for (; j < l1 && cells[j].size() > col; j++) w = std::max(w, runes(cells[j][col]) + padding);
      for (size_t k = i; k < j; k++) width[k][col] = w;
      block(i, j, col + 1);
      i = j;
    }
  };
  block(0, cells.size(), 0);
  std::string out;
  for (size_t i = 0; i < cells.size(); i++) {
    for (size_t c = 0; c < cells[i].size(); c++) out += cells[i][c] + std::string(width[i][c] - runes(cells[i][c]), ' ');
    out += tails[i];
    if (i + 1 < cells.size() || (!text.empty() && text.back() == '\n')) out += "\n";
  }
  return out;
}

}  // namespace minirun::cli
