// Which flags each recallctl command takes. absl's flags are process-wide,
// so without this every command would silently accept every other
// command's flags (a `build --k 10` that does nothing).
#ifndef RECALL_TOOLS_COMMAND_FLAGS_H_
#define RECALL_TOOLS_COMMAND_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace recall {

// Command name ("gen", "import", ..., "bench-live-index") -> the names of the
// flags it reads, sorted. absl's own flags (--help*, --flagfile, --fromenv,
// --tryfromenv, --undefok, --version, --only_check_args) are not listed:
// every command takes them.
const std::map<std::string, std::vector<std::string>>& CommandFlags();

// INVALID_ARGUMENT naming the first flag in `args` (the command line, flag
// names with '_' for '-') that `command` does not take, and the flags it
// does; or for an unknown command. Arguments that are not flags, and
// everything after "--", are ignored.
absl::Status CheckCommandFlags(const std::string& command,
                               const std::vector<std::string>& args);

}  // namespace recall

#endif  // RECALL_TOOLS_COMMAND_FLAGS_H_
