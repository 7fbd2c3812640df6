// Smoke check that the root test binary runs; real root tests live beside it.
#include <gtest/gtest.h>

#include <unistd.h>

#include "testutil.h"

TEST(RootSmoke, TempDirCleansUp) {
  std::string p;
  {
    minirun::test::TempDir d;
    p = d.path();
    minirun::test::write_file(d / "x", "y");
  }
  EXPECT_NE(access(p.c_str(), F_OK), 0);
}
