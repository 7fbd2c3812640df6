// RUN heredocs through `minirun build` on the busybox image t/bb: a heredoc alone is the
// script; with a command, the shell reads the heredoc (<<- strips tabs, a quoted delimiter keeps
// $ words). Builds use --network none.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class BuildHeredoc : public BuildTest {};

TEST_F(BuildHeredoc, RunHeredocs) {
  std::string ctx = *t_ / "ctx";
  fs::create_directories(ctx);
  write_file(ctx + "/Dockerfile",
             "FROM t/bb\n"
             "RUN <<EOF\n"
             "echo one > /h1\n"
             "echo two >> /h1\n"
             "EOF\n"
             "RUN cat > /h2 <<-EOT\n"
             "\ttabbed\n"
             "\tEOT\n"
             "RUN cat > /h3 <<'EOF'\n"
             "$NOT\n"
             "EOF\n");
  auto b = mr({"build", "--network", "none", "-t", "t/heredoc", ctx}, 120);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  auto r = mr({"run", "--rm", "--network", "none", "t/heredoc", "cat", "/h1", "/h2", "/h3"});
  EXPECT_EQ(r.out, "one\ntwo\ntabbed\n$NOT\n") << r.err;
}

}  // namespace
