#include "recall/executor.h"

namespace recall {
namespace {

class Inline final : public Executor {
 public:
  void RunAll(std::vector<std::function<void()>>& tasks) override {
    for (auto& task : tasks) task();
  }
};

}  // namespace

Executor& InlineExecutor() {
  static Inline* executor = new Inline();
  return *executor;
}

}  // namespace recall
