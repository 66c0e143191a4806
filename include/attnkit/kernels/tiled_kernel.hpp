#pragma once
/// \file
/// The kernel of the `tiled_scores_family`: the decode kernel for a few queries against a KV cache, the
/// fused prefill kernel otherwise. Both give the same results within rounding.

#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/decode_kernel.hpp"
#include "attnkit/kernels/fused_kernel.hpp"
#include "attnkit/kernels/policy_arg.hpp"

#include <tuple>

namespace attnkit::detail {

template <class Arch, class Normaliser, class Mask, class... Modifiers> struct tiled_kernel {
  using decode = decode_kernel<Arch, Normaliser, Mask, Modifiers...>;
  using prefill = fused_kernel<Arch, Normaliser, Mask, Modifiers...>;

  static void run(attention_problem const& p, policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                  policy_arg<std::tuple<Modifiers...>> modifiers) {
    if (decode::applies(p))
      decode::run(p, normaliser, mask, modifiers);
    else
      prefill::run(p, normaliser, mask, modifiers);
  }
};

} // namespace attnkit::detail
