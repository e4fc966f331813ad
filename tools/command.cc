#include "tools/command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "tools/flags.h"

namespace recall {

int FirstK() {
  const std::vector<std::string> k = absl::GetFlag(FLAGS_k);
  int value = 100;
  if (!k.empty() && !absl::SimpleAtoi(k[0], &value)) return 0;
  return value;
}

int Fail(const absl::Status& status) {
  fprintf(stderr, "recallctl: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace recall
