#pragma once
/// \file
/// Picks the kernel that implements a normaliser's kernel family. The primary template is a trap: a
/// normaliser whose family no kernel implements fails to compile with a sentence saying so.

#include "attnkit/kernels/linear_kernel.hpp"
#include "attnkit/kernels/tiled_kernel.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/no_mask.hpp"

#include <type_traits>

namespace attnkit::detail {

template <class...> inline constexpr bool dependent_false = false;

template <class Family, class Arch, class Normaliser, class Mask, class... Modifiers> struct kernel_for {
  static_assert(dependent_false<Family>,
                "attnkit: no kernel implements this normaliser's kernel_family. Use an existing family "
                "(attnkit::tiled_scores_family) or add a kernel_for specialisation (docs/design.md).");
};

template <class Arch, class Normaliser, class Mask, class... Modifiers>
struct kernel_for<tiled_scores_family, Arch, Normaliser, Mask, Modifiers...> {
  using type = tiled_kernel<Arch, Normaliser, Mask, Modifiers...>;
};

/// Linear attention keeps prefix sums over keys, which only the masks none and causal can be written as;
/// scores are never formed, so there is nothing a score modifier could rewrite.
template <class Arch, class Normaliser, class Mask, class... Modifiers>
struct kernel_for<linear_family, Arch, Normaliser, Mask, Modifiers...> {
  static_assert(
      std::is_same_v<Mask, no_mask> || std::is_same_v<Mask, causal>,
      "attnkit: linear attention supports only the masks attnkit::no_mask and attnkit::causal: its "
      "kernel keeps prefix sums over the keys, which cannot express windows, documents, block-sparse "
      "layouts or other masks.");
  static_assert(sizeof...(Modifiers) == 0,
                "attnkit: linear attention takes no score modifiers (alibi, softcap, biases): it never forms "
                "the scores q.k, so there is nothing to modify; use a decay in linear_options instead of "
                "alibi.");
  using type = linear_kernel<Arch, Normaliser, Mask>;
};

} // namespace attnkit::detail
