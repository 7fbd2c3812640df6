// build_fixture.h — the root tests' fixture for `minirun build`: ContainerTest's store (busybox
// imported as t/bb), an empty context directory, and what the build suites ask of a built image.
// Every suite removes its containers and checks that no mount is left.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "container_fixture.h"

namespace minirun::test {

class BuildTest : public ContainerTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // The output of `sh -c script` in a container of image (run --rm, no network), expected to succeed.
  std::string in_image(const std::string& image, const std::string& script);
  // The image's Config, as inspect shows it.
  nlohmann::json config(const std::string& image);

  std::string ctx_;  // the build context: <TempDir>/ctx
};

}  // namespace minirun::test
