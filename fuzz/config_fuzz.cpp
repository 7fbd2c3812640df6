// config_fuzz.cpp — libFuzzer target over the JSON-facing parsers: the image config
// (parse_image_config, which validates every field's type), image references
// (normalize_reference) and archive paths (normalize_archive_path), PAX records (parse_pax).
// minirun::Error is the expected answer to bad input; anything else is a finding. Half of the
// mutations change the type of one JSON value (json_mutator.h).
#include <cstdint>
#include <string>

#include "minirun/util/error.h"
#include "minirun/image/image_config.h"
#include "minirun/image/reference.h"
#include "json_mutator.h"
#include "minirun/image/tar_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  try {
    auto cfg = minirun::parse_image_config(in);
    (void)cfg;
  } catch (const minirun::Error&) {
  }
  if (size < 512) {
    try {
      (void)minirun::normalize_reference(in);
    } catch (const minirun::Error&) {
    }
    try {
      (void)minirun::normalize_archive_path(in);
    } catch (const minirun::Error&) {
    }
  }
  std::string path, link;
  uint64_t sz = 0;
  bool has_size = false;
  try {
    minirun::parse_pax(in, path, link, sz, has_size);
  } catch (const minirun::Error&) {
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return minirun::fuzz::mutate_json(data, size, max_size, seed, 0);
}
