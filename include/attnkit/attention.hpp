#pragma once
/// \file
/// The attention functor users build from policies.

#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/kernel_for.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kv/kv_source.hpp"
#include "attnkit/kv/strided_kv.hpp"
#include "attnkit/options.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/policies/softmax.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include "attnkit/arch/simd_compat.hpp"

#include <cmath>
#include <concepts>
#include <tuple>
#include <utility>

namespace attnkit {

class linear_state; // linear_state.hpp

/// Attention composed from a normaliser (softmax, ...), a mask (no_mask, causal, ...) and score
/// modifiers applied in the order listed. Policies are types; their parameters are the objects passed
/// to the constructor. Calls are const and may run concurrently.
///
///     attnkit::attention<attnkit::softmax, attnkit::causal> attn{{.scale = 0.125f}};
///     attn(q, k, v, o);        // q [B, Hq, Sq, D], k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv], o [B, Hq, Sq, Dv]
///     attn(q, k, v, o, lse);   // also log-sum-exp [B, Hq, Sq]
template <class Normaliser = softmax, class Mask = no_mask, class... Modifiers> class attention {
  static_assert(normaliser_policy<Normaliser>,
                "attnkit::attention: the first template argument must be a normaliser policy such as "
                "attnkit::softmax (it needs a nested kernel_family type; see docs/design.md).");
  static_assert(
      mask_policy<Mask>,
      "attnkit::attention: the second template argument must be a mask policy such as attnkit::causal "
      "(it needs next_keys(), classify() and visible(); see docs/design.md).");
  static_assert((score_modifier<Modifiers> && ...),
                "attnkit::attention: every template argument after the mask must be a score modifier "
                "(it needs a modify_row<Arch>() template; see docs/design.md).");

public:
  using normaliser_type = Normaliser;
  using mask_type = Mask;
  using modifiers_type = std::tuple<Modifiers...>;

  attention() = default;
  explicit attention(attention_options options, Normaliser normaliser = {}, Mask mask = {},
                     Modifiers... modifiers)
      : options_(options), normaliser_(std::move(normaliser)), mask_(std::move(mask)),
        modifiers_(std::move(modifiers)...) {}

  attention_options const& options() const noexcept { return options_; }
  Normaliser const& normaliser() const noexcept { return normaliser_; }
  Mask const& mask() const noexcept { return mask_; }
  modifiers_type const& modifiers() const noexcept { return modifiers_; }

  /// Scale used for a given head dimension: the configured one, or 1 / sqrt(Dqk).
  float scale_for(std::int64_t qk_dim) const noexcept {
    return options_.scale.value_or(1.0f / std::sqrt(static_cast<float>(qk_dim)));
  }

  /// o = attention(q, k, v). Throws std::invalid_argument on bad shapes, strides or pointers.
  void operator()(tensor_view<float const> q, tensor_view<float const> k, tensor_view<float const> v,
                  tensor_view<float> o, run_options run = {}) const {
    run_on<xsimd::default_arch>(q, k, v, o, {}, run);
  }

  /// o = attention(q, k, v) and lse = log-sum-exp of each row's scores.
  void operator()(tensor_view<float const> q, tensor_view<float const> k, tensor_view<float const> v,
                  tensor_view<float> o, tensor_view<float, 3> lse, run_options run = {}) const {
    check_lse_wanted(lse);
    run_on<xsimd::default_arch>(q, k, v, o, lse, run);
  }

  /// Linear attention as a recurrence (attention<linear<...>, causal> only): appends the Sq = Sk new tokens
  /// q, k, v to `state` and writes their outputs to o. One token runs `step` (O(D Dv) per head: the decode
  /// path), several run `prefill` (the chunked kernel), as the other normalisers' calls pick the decode
  /// kernel for small Sq. `step` and `prefill` are in linear_state.hpp.
  template <std::same_as<linear_state> State>
  void operator()(tensor_view<float const> q, tensor_view<float const> k, tensor_view<float const> v,
                  tensor_view<float> o, State& state, run_options run = {}) const {
    constexpr bool recurrent = std::same_as<typename Normaliser::kernel_family, linear_family> &&
                               std::same_as<Mask, causal> && sizeof...(Modifiers) == 0;
    static_assert(recurrent,
                  "attnkit::attention: a linear_state continues only attention<linear<...>, causal>");
    if constexpr (recurrent) { // no second error after the sentence above
      if (q.extent(2) == 1)
        step(*this, state, q, k, v, o, run);
      else
        prefill(*this, state, q, k, v, o, run);
    }
  }

  /// o = attention(q, K/V of `kv`): a cache (kv_cache, paged_kv, streaming_kv_cache) or any kv_source.
  template <kv_source Source>
  void operator()(tensor_view<float const> q, Source const& kv, tensor_view<float> o,
                  run_options run = {}) const {
    run_on<xsimd::default_arch>(q, kv, o, {}, run);
  }

  /// o = attention(q, K/V of `kv`) and lse = log-sum-exp of each row's scores.
  template <kv_source Source>
  void operator()(tensor_view<float const> q, Source const& kv, tensor_view<float> o,
                  tensor_view<float, 3> lse, run_options run = {}) const {
    check_lse_wanted(lse);
    run_on<xsimd::default_arch>(q, kv, o, lse, run);
  }

  /// The same calls on an explicit xsimd architecture, for tests and for runtime dispatch. The caller
  /// must make sure the CPU supports `Arch`. A null `lse` means no LSE output.
  template <class Arch>
  void run_on(tensor_view<float const> q, tensor_view<float const> k, tensor_view<float const> v,
              tensor_view<float> o, tensor_view<float, 3> lse, run_options run = {}) const {
    validate_attention_args(q, k, v, o, lse);
    run_validated<Arch>(q, strided_kv{k, v}, o, lse, run);
  }

  template <class Arch, kv_source Source>
  void run_on(tensor_view<float const> q, Source const& kv, tensor_view<float> o, tensor_view<float, 3> lse,
              run_options run = {}) const {
    validate_attention_args(q, kv, o, lse);
    run_validated<Arch>(q, kv, o, lse, run);
  }

private:
  void check_lse_wanted(tensor_view<float, 3> lse) const {
    static_assert(Normaliser::has_lse,
                  "attnkit::attention: this normaliser has no log-sum-exp (sigmoid and linear attention "
                  "do not normalise with a softmax); call attn(q, k, v, o) without an lse argument.");
    if (lse.data() == nullptr && lse.size() > 0)
      detail::fail("lse has a null data pointer");
  }

  template <class Arch, kv_source Source>
  void run_validated(tensor_view<float const> q, Source const& kv, tensor_view<float> o,
                     tensor_view<float, 3> lse, run_options run) const {
    if (!Normaliser::has_lse && lse.data() != nullptr)
      detail::fail("this normaliser has no log-sum-exp: pass an empty lse view");
    if (float const scale = options_.scale.value_or(1.0f); !std::isfinite(scale))
      detail::fail("attention_options.scale must be finite, got " + std::to_string(scale));
    if (run.threads < 0)
      detail::fail("run_options.threads must be >= 0, got " + std::to_string(run.threads));
    if (run.decode_split_keys < 0)
      detail::fail("run_options.decode_split_keys must be >= 0, got " +
                   std::to_string(run.decode_split_keys));
    call_shape const shape{.batch = q.extent(0),
                           .q_heads = q.extent(1),
                           .kv_heads = kv.kv_heads(),
                           .q_len = q.extent(2),
                           .key_len = kv.key_len(),
                           .qk_dim = q.extent(3),
                           .v_dim = kv.v_dim()};
    validate_policy(normaliser_, shape);
    validate_policy(mask_, shape);
    std::apply([&](auto const&... m) { (validate_policy(m, shape), ...); }, modifiers_);
    detail::attention_problem const problem{
        .q = q,
        .kv = detail::kv_reader(kv),
        .o = o,
        .lse = lse,
        .scale = scale_for(q.extent(3)),
        .position_offset = options_.align == alignment::bottom_right ? kv.key_len() - q.extent(2) : 0,
        .threads = detail::resolve_thread_count(run.threads),
        .decode_split_keys = run.decode_split_keys};
    using kernel = typename detail::kernel_for<typename Normaliser::kernel_family, Arch, Normaliser, Mask,
                                               Modifiers...>::type;
    kernel::run(problem, normaliser_, mask_, modifiers_);
  }

  attention_options options_{};
  Normaliser normaliser_{};
  Mask mask_{};
  modifiers_type modifiers_{};
};

} // namespace attnkit
