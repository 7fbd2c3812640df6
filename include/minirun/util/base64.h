// base64.h — RFC 4648 base64 (the standard alphabet, with padding), for HTTP Basic credentials
// and the "auth" values of registry auth files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace minirun {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not base64 (a character outside the alphabet, bad padding). Ignores
// surrounding white space; accepts a missing final padding, as Docker's config files may have.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace minirun
