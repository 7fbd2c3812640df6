// code_points.h — a text as Unicode code points, as Go's regular expressions see it, for the
// pattern matchers of the build front end: UTF-8 decoded, each byte that is not part of valid
// UTF-8 kept as U+DC80..U+DCFF so that encoding gives the same bytes back.
#pragma once

#include <string>
#include <string_view>

namespace minirun::dockerfile {

std::u32string decode_code_points(std::string_view s);
std::string encode_code_points(std::u32string_view s);

}  // namespace minirun::dockerfile
