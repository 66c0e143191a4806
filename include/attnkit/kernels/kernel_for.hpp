#pragma once
/// \file
/// Picks the kernel that implements a normaliser's kernel family. The primary template is a trap: a
/// normaliser whose family no kernel implements fails to compile with a sentence saying so.

#include "attnkit/kernels/tiled_kernel.hpp"
#include "attnkit/policies/kernel_family.hpp"

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

} // namespace attnkit::detail
