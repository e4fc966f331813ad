// The recallctl flags that several commands read with one meaning. A flag
// that one command reads is defined in that command's file (tools/cmd_*.cc).
#ifndef RECALL_TOOLS_FLAGS_H_
#define RECALL_TOOLS_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(int, dim);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, policy);
ABSL_DECLARE_FLAG(int, last_n);
ABSL_DECLARE_FLAG(std::string, test);
ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(int, concurrency);
ABSL_DECLARE_FLAG(int, k);
ABSL_DECLARE_FLAG(double, deadline_ms);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(double, wait);
ABSL_DECLARE_FLAG(double, rate);
ABSL_DECLARE_FLAG(std::vector<std::string>, channels);
ABSL_DECLARE_FLAG(std::string, items);
ABSL_DECLARE_FLAG(std::string, stream);
ABSL_DECLARE_FLAG(int64_t, maxlen);
ABSL_DECLARE_FLAG(std::string, space);
ABSL_DECLARE_FLAG(int, queries);
ABSL_DECLARE_FLAG(int, ef_search);
ABSL_DECLARE_FLAG(int, threads);

#endif  // RECALL_TOOLS_FLAGS_H_
