#pragma once
/// \file
/// SEMANTICS.md's visibility rule for each mask, written out independently of the kernels' policies.
/// A new mask adds one `visible` overload here.

#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/reference/pair_coords.hpp"

namespace attnkit::reference {

/// none: every key.
inline bool visible(no_mask const&, pair_coords const&) {
  return true;
}

/// causal: j <= p(i).
inline bool visible(causal const&, pair_coords const& c) {
  return c.key <= c.position;
}

} // namespace attnkit::reference
