// Only in TSan builds (RECALL_SANITIZE=thread), linked into every executable.
//
// Debian's Abseil is not built with -fsanitize=thread, so TSan cannot see an
// absl::Mutex being taken and reports every access it guards as a race. This
// file defines absl::Mutex, CondVar, Notification and BlockingCounter's entry
// points in the executable, which takes precedence over the shared library's
// definitions (ELF symbol interposition, also for calls from inside the
// library); each forwards to the library's function found with
// dlsym(RTLD_NEXT) and tells TSan the happens-before edge it implies:
// __tsan_release before a lock is given up, __tsan_acquire after it is taken.
// Nothing else changes: the library still does all the locking.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

#define RECALL_STRINGIFY_(x) #x
#define RECALL_STRINGIFY(x) RECALL_STRINGIFY_(x)

// The library's definition of absl::<inline namespace>::<rest> (`rest`
// mangled, `prefix` "_ZN", or "_ZNK" for a const member), the next one after
// this executable's, or abort: a shim that silently did nothing would hide
// real races.
template <typename F>
F Real(const char* rest, const char* prefix = "_ZN") {
  const std::string ns = RECALL_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      std::string(prefix) + "4absl" + std::to_string(ns.size()) + ns + rest;
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found: %s\n", name.c_str(),
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

void* Addr(const void* p) { return const_cast<void*>(p); }

// A Condition is evaluated with the mutex held, inside the library (by the
// waiting thread, or by the one unlocking): the wrapper tells TSan the mutex
// is held before the caller's condition reads what it guards.
struct Guarded {
  absl::Mutex* mu;
  const absl::Condition* cond;
};
// The waiter publishes `guarded` (on its stack) to the thread that may
// evaluate it.
bool EvalHeld(Guarded* g) {
  __tsan_acquire(g);
  __tsan_acquire(g->mu);
  const bool result = g->cond->Eval();
  // The evaluator holds the mutex and gives it up inside the library later
  // (a waiter that goes back to sleep): whoever takes it next sees the reads.
  __tsan_release(g->mu);
  return result;
}

#define RECALL_HELD(cond)       \
  Guarded guarded{this, &cond}; \
  __tsan_release(&guarded);     \
  const Condition held(&EvalHeld, &guarded)

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// Mutex: acquire after every way of taking it, release before giving it up.
void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}
void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}
bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}
bool Mutex::ReaderTryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}
void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}
void Mutex::ReaderUnlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}
void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex8LockWhenERKNS0_9ConditionE");
  RECALL_HELD(cond);
  real(this, held);
  __tsan_acquire(this);
}
void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  RECALL_HELD(cond);
  real(this, held);
  __tsan_acquire(this);
}
bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  RECALL_HELD(cond);
  const bool result = real(this, held, timeout);
  __tsan_acquire(this);  // held either way
  return result;
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  RECALL_HELD(cond);
  const bool result = real(this, held, deadline);
  __tsan_acquire(this);
  return result;
}
// Await gives the lock up while it waits and takes it back.
void Mutex::Await(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex5AwaitERKNS0_9ConditionE");
  RECALL_HELD(cond);
  __tsan_release(this);
  real(this, held);
  __tsan_acquire(this);
}
bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  RECALL_HELD(cond);
  __tsan_release(this);
  const bool result = real(this, held, timeout);
  __tsan_acquire(this);
  return result;
}
bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  RECALL_HELD(cond);
  __tsan_release(this);
  const bool result = real(this, held, deadline);
  __tsan_acquire(this);
  return result;
}

// CondVar waits give the mutex up and take it back.
void CondVar::Wait(Mutex* mu) {
  static auto real =
      Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}
bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, absl::Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool result = real(this, mu, timeout);
  __tsan_acquire(mu);
  return result;
}
bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, absl::Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool result = real(this, mu, deadline);
  __tsan_acquire(mu);
  return result;
}

// Notification: what happened before Notify happens before a wait returns.
void Notification::Notify() {
  static auto real = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}
void Notification::WaitForNotification() const {
  static auto real = Real<void (*)(const Notification*)>(
      "12Notification19WaitForNotificationEv", "_ZNK");
  real(this);
  __tsan_acquire(Addr(this));
}
bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  static auto real = Real<bool (*)(const Notification*, absl::Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", "_ZNK");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(Addr(this));
  return notified;
}
bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  static auto real = Real<bool (*)(const Notification*, absl::Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", "_ZNK");
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(Addr(this));
  return notified;
}

// BlockingCounter: what each thread did before its DecrementCount happens
// before Wait returns (the count is an atomic inside the library).
bool BlockingCounter::DecrementCount() {
  static auto real =
      Real<bool (*)(BlockingCounter*)>("15BlockingCounter14DecrementCountEv");
  __tsan_release(this);
  return real(this);
}
void BlockingCounter::Wait() {
  static auto real =
      Real<void (*)(BlockingCounter*)>("15BlockingCounter4WaitEv");
  real(this);
  __tsan_acquire(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
