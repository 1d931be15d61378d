// Runs a test body once per Highway target this CPU can execute, so every compiled SIMD path is checked on one
// machine, not only the one dispatch would pick.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgellm {

// Calls `body` once per compiled and supported target, with dispatch forced to that target. `dispatched` is the
// kernel file's report of the target it currently runs (it must follow the switch); at least `min_targets` must
// be available (x86-64 builds always have several). Restores normal dispatch afterwards.
template <class F>
void for_each_hwy_target(int64_t (*dispatched)(), F&& body, size_t min_targets = 2) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_GE(targets.size(), min_targets) << "fewer Highway targets than expected";
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    ASSERT_EQ(dispatched(), target) << "dispatch did not switch to " << hwy::TargetName(target);
    SCOPED_TRACE(hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
}

}  // namespace edgellm
