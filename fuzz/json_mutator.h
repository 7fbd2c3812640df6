// json_mutator.h — a structure-aware libFuzzer mutator for targets whose input is (mostly) a JSON
// document after `skip` leading bytes. Byte mutations rarely turn a string into a number or an
// object into an array while keeping the document valid, which is exactly the "JSON with wrong
// types" class of bugs; half of the mutations therefore parse the document, replace one value
// (or object member) by a value of another type, and write it back. The other half are
// libFuzzer's own. Include from exactly one translation unit per target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace minirun::fuzz {

inline void collect(nlohmann::json& j, std::vector<nlohmann::json*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (auto& e : j) collect(e, out);
}

inline size_t mutate_json(uint8_t* data, size_t size, size_t max_size, unsigned seed, size_t skip) {
  std::minstd_rand rng(seed);
  if (size <= skip || rng() % 2) return LLVMFuzzerMutate(data, size, max_size);
  using nlohmann::json;
  json doc = json::parse(data + skip, data + size, nullptr, false);
  if (doc.is_discarded()) return LLVMFuzzerMutate(data, size, max_size);
  std::vector<json*> nodes;
  collect(doc, nodes);
  json& victim = *nodes[rng() % nodes.size()];
  switch (rng() % 12) {
    case 0: victim = nullptr; break;
    case 1: victim = 0; break;
    case 2: victim = -1; break;
    case 3: victim = 1.5; break;
    case 4: victim = "x"; break;
    case 5: victim = true; break;
    case 6: victim = json::array(); break;
    case 7: victim = json::object(); break;
    case 8: victim = json::array({victim}); break;  // one level deeper
    case 9: victim = json{{"k", victim}}; break;
    case 10:  // drop a member or an element
      if (victim.is_object() && !victim.empty()) victim.erase(victim.begin());
      else if (victim.is_array() && !victim.empty()) victim.erase(victim.begin());
      break;
    default:  // another node's value in its place
      victim = json(*nodes[rng() % nodes.size()]);
      break;
  }
  std::string out = doc.dump();
  if (skip + out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data + skip, out.data(), out.size());
  return skip + out.size();
}

}  // namespace minirun::fuzz
