// Helpers shared by the tests.
#ifndef RECALL_TESTS_TEST_UTIL_H_
#define RECALL_TESTS_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace recall {

// A fresh, uniquely named directory under the test temp dir, removed with
// everything in it when the object goes away.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix = "recall_test") {
    std::string pattern = ::testing::TempDir() + prefix + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      ADD_FAILURE() << "mkdtemp " << pattern;
    dir_ = pattern;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& dir() const { return dir_; }
  // dir()/name
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace recall

#endif  // RECALL_TESTS_TEST_UTIL_H_
