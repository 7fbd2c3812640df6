// pull_progress.h's terminal lines, played on a fake terminal (a grid of lines that understands
// \n, \r, ESC[nA, ESC[nB and ESC[2K): what a user sees after each event, and Docker's sizes.
#include "pull_progress.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

using namespace minirun;
using namespace minirun::cli;

namespace {

// A terminal as tall as needed: the bytes written, applied to its lines.
struct FakeTerminal {
  std::vector<std::string> rows{""};
  size_t row = 0, col = 0;

  void write(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); i++) {
      char c = bytes[i];
      if (c == '\x1b') {
        ASSERT_LT(i + 1, bytes.size());
        ASSERT_EQ(bytes[i + 1], '[') << "only CSI sequences";
        size_t j = i + 2, n = 0;
        bool digits = false;
        while (j < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[j]))) n = n * 10 + (bytes[j++] - '0'), digits = true;
        ASSERT_LT(j, bytes.size());
        if (!digits) n = 1;
        switch (bytes[j]) {
          case 'A': ASSERT_GE(row, n) << "moved above the screen"; row -= n; break;
          case 'B':
            row += n;
            ASSERT_LT(row, rows.size()) << "moved below the last line";
            break;
          case 'K': ASSERT_EQ(n, 2u); rows[row].clear(); break;
          default: FAIL() << "unexpected sequence " << bytes[j];
        }
        i = j;
      } else if (c == '\n') {
        row++, col = 0;
        if (row == rows.size()) rows.emplace_back();
      } else if (c == '\r') {
        col = 0;
      } else {
        std::string& r = rows[row];
        if (r.size() < col + 1) r.resize(col + 1, ' ');
        r[col++] = c;
      }
    }
  }
  // The screen without its last line when that is the empty one the cursor waits on.
  std::vector<std::string> screen() const {
    std::vector<std::string> out = rows;
    if (!out.empty() && out.back().empty()) out.pop_back();
    return out;
  }
};

LayerProgress ev(size_t i, const std::string& id, LayerState s, uint64_t done = 0, uint64_t total = 0) {
  return {i, id, s, done, total};
}

}  // namespace

TEST(PullProgress, DockerSizes) {
  EXPECT_EQ(progress_size(0), "0B");
  EXPECT_EQ(progress_size(512), "512B");
  EXPECT_EQ(progress_size(12300000), "12.3MB");
  EXPECT_EQ(progress_size(12345678), "12.35MB");
  EXPECT_EQ(progress_size(95000000), "95MB");
  EXPECT_EQ(progress_size(1500), "1.5kB");
  EXPECT_EQ(progress_bar(12300000, 95000000, 80), "  12.3MB/95MB");
  EXPECT_EQ(progress_bar(0, 0, 200), "");
  EXPECT_EQ(progress_bar(50, 100, 120), "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]      50B/100B");
  EXPECT_EQ(progress_bar(100, 100, 120), "[" + std::string(50, '=') + ">]     100B/100B");
  EXPECT_EQ(progress_bar(200, 100, 80), "    200B");
}

TEST(PullProgress, EachLayerKeepsItsLineAndIsRewrittenInPlace) {
  FakeTerminal term;
  TerminalProgress p(80);
  term.write(p.line("1: Pulling from test/app"));
  term.write(p.layer(ev(0, "aaaaaaaaaaaa", LayerState::kExists)));
  term.write(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kWaiting, 0, 95000000)));
  term.write(p.layer(ev(2, "cccccccccccc", LayerState::kWaiting, 0, 2000)));
  EXPECT_EQ(term.screen(), (std::vector<std::string>{"1: Pulling from test/app", "aaaaaaaaaaaa: Already exists",
                                                     "bbbbbbbbbbbb: Waiting", "cccccccccccc: Waiting"}));
  term.write(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kDownloading, 12300000, 95000000)));
  term.write(p.layer(ev(2, "cccccccccccc", LayerState::kDownloading, 1500, 2000)));
  EXPECT_EQ(term.screen(), (std::vector<std::string>{"1: Pulling from test/app", "aaaaaaaaaaaa: Already exists",
                                                     "bbbbbbbbbbbb: Downloading   12.3MB/95MB",
                                                     "cccccccccccc: Downloading    1.5kB/2kB"}));
  // A shorter status clears what the longer one left.
  term.write(p.layer(ev(2, "cccccccccccc", LayerState::kExtracting, 2000, 2000)));
  term.write(p.layer(ev(2, "cccccccccccc", LayerState::kComplete, 2000, 2000)));
  term.write(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kDownloading, 95000000, 95000000)));
  term.write(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kExtracting, 95000000, 95000000)));
  EXPECT_EQ(term.screen(), (std::vector<std::string>{"1: Pulling from test/app", "aaaaaaaaaaaa: Already exists",
                                                     "bbbbbbbbbbbb: Extracting", "cccccccccccc: Pull complete"}));
  term.write(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kComplete, 95000000, 95000000)));
  term.write(p.line("Digest: sha256:1234"));
  term.write(p.line("Status: Downloaded newer image for 127.0.0.1:5000/test/app:1"));
  EXPECT_EQ(term.screen(),
            (std::vector<std::string>{"1: Pulling from test/app", "aaaaaaaaaaaa: Already exists",
                                      "bbbbbbbbbbbb: Pull complete", "cccccccccccc: Pull complete",
                                      "Digest: sha256:1234",
                                      "Status: Downloaded newer image for 127.0.0.1:5000/test/app:1"}));
  EXPECT_EQ(term.row, 6u);
  EXPECT_EQ(term.col, 0u);
}

TEST(PullProgress, TheExactBytesOfAnUpdate) {
  TerminalProgress p;
  EXPECT_EQ(p.layer(ev(0, "aaaaaaaaaaaa", LayerState::kWaiting)), "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Waiting\r\x1b[1B");
  EXPECT_EQ(p.layer(ev(1, "bbbbbbbbbbbb", LayerState::kWaiting)), "\n\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Waiting\r\x1b[1B");
  EXPECT_EQ(p.layer(ev(0, "aaaaaaaaaaaa", LayerState::kComplete)),
            "\x1b[2A\x1b[2K\raaaaaaaaaaaa: Pull complete\r\x1b[2B");
  EXPECT_EQ(p.line("Digest: x"), "Digest: x\n");
}

TEST(PullProgress, WideTerminalsShowDockersBar) {
  FakeTerminal term;
  TerminalProgress p(200);
  term.write(p.layer(ev(0, "aaaaaaaaaaaa", LayerState::kDownloading, 25, 100)));
  EXPECT_EQ(term.screen(),
            (std::vector<std::string>{"aaaaaaaaaaaa: Downloading [" + std::string(12, '=') + ">" + std::string(38, ' ') +
                                      "]      25B/100B"}));
}
