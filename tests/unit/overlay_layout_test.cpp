// How many layers the legacy overlay mount can stack (runtime/overlay.h): the options must fit in
// one page, so the limit follows the length of the short links and of the upper and work paths.
#include "minirun/runtime/overlay.h"

#include <gtest/gtest.h>

namespace minirun {
namespace {

TEST(OverlayLayout, TheLegacyLimitIsWhatFitsInOnePage) {
  OverlayLayout l;
  l.overlay_root = "/var/lib/minirun/overlay2";
  // Docker's short links: "l/" and 26 characters.
  l.lower_links = {"l/ABCDEFGHIJKLMNOPQRSTUVWXYZ"};
  const size_t read_only = legacy_overlay_layer_limit(l);
  // "lowerdir=" + n * 28 + (n - 1) * ":" + ",index=off" < 4096.
  EXPECT_EQ(read_only, (4096 - 1 - std::string("lowerdir=,index=off").size()) / 29);
  EXPECT_GE(read_only, 128u);

  l.upper = l.overlay_root + "/0123456789abcdef/diff";
  l.work = l.overlay_root + "/0123456789abcdef/work";
  const size_t with_upper = legacy_overlay_layer_limit(l);
  EXPECT_LT(with_upper, read_only);  // the upper and work directories take their share

  OverlayLayout longer = l;
  longer.lower_links = {"/a/much/longer/absolute/path/to/a/layer/diff"};
  EXPECT_LT(legacy_overlay_layer_limit(longer), with_upper);
}

TEST(OverlayLayout, NeverMoreThanTheKernelsStack) {
  OverlayLayout l;
  l.overlay_root = "/o";
  l.lower_links = {"l/a"};  // short enough for more than 500 in a page
  EXPECT_EQ(legacy_overlay_layer_limit(l), 500u);
}

}  // namespace
}  // namespace minirun
