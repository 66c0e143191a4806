#pragma once
/// \file
/// Differential attention ("Differential Transformer", Ye et al. 2024) and its grouped form ("Grouped
/// Differential Attention", Lim et al. 2025): two attention maps over the same values, the second
/// subtracted with a weight lambda to cancel the attention noise both share.
///
///     o[b, h] = A(q_signal[b, h], k_signal, v) - lambda_h * A(q_noise[b, h / r], k_noise, v)
///
/// A is one attention functor (any normaliser, mask and modifiers) used for both maps. There are Hs
/// signal heads and Hn noise heads, r = Hs / Hn: the Differential Transformer has r = 1; GDA gives the
/// signal more heads than the noise (3:1, 4:1) and lets r consecutive signal heads share one noise head,
/// the way GQA shares K/V heads. Each noise head is computed once, not r times. Per-head normalisation and
/// the (1 - lambda_init) factor of the papers are the model's business and stay outside.

#include "attnkit/attention.hpp"
#include "attnkit/options.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnkit {

namespace detail {

/// lambda holds one weight per signal head, or one for all; every weight finite.
inline void check_lambda(std::span<float const> lambda, std::int64_t signal_heads, char const* where) {
  auto const n = static_cast<std::int64_t>(lambda.size());
  if (n != 1 && n != signal_heads)
    fail("lambda has " + std::to_string(n) +
             " values; expected 1 or one per signal head (q_signal.extent(1) = " +
             std::to_string(signal_heads) + ")",
         where);
  for (std::int64_t h = 0; h < n; ++h)
    if (!std::isfinite(lambda[static_cast<std::size_t>(h)]))
      fail("lambda[" + std::to_string(h) + "] must be finite, got " +
               std::to_string(lambda[static_cast<std::size_t>(h)]),
           where);
}

} // namespace detail

/// o = A(q_signal, k_signal, v) - lambda * A(q_noise, k_noise, v), with A = `attn`.
///   q_signal [B, Hs, Sq, D], q_noise [B, Hn, Sq, D], Hn divides Hs (signal head h pairs with noise head
///   h / (Hs / Hn)); k_signal, k_noise [B, Hkv, Sk, D] and v [B, Hkv, Sk, Dv], Hkv dividing Hn;
///   lambda: one weight per signal head, or a single one for all; o [B, Hs, Sq, Dv].
/// The noise map is a call with Hn query heads: a policy whose parameters go by query head (per-head sinks,
/// ALiBi slopes) sees head indices 0..Hn-1 there, and per-head parameters must fit both Hs and Hn.
/// Allocates a [B, Hn, Sq, Dv] buffer for the noise map's output. Throws std::invalid_argument naming the
/// argument on a bad shape, stride, pointer or lambda; the kernel's own checks cover the rest (an error
/// from the second call leaves o holding the signal map).
template <class Normaliser, class Mask, class... Modifiers>
void differential_attention(attention<Normaliser, Mask, Modifiers...> const& attn,
                            tensor_view<float const> q_signal, tensor_view<float const> k_signal,
                            tensor_view<float const> q_noise, tensor_view<float const> k_noise,
                            tensor_view<float const> v, std::span<float const> lambda, tensor_view<float> o,
                            run_options run = {}) {
  constexpr char const* where = "attnkit::differential_attention";
  detail::check_view(q_signal, "q_signal", where);
  detail::check_view(k_signal, "k_signal", where);
  detail::check_view(q_noise, "q_noise", where);
  detail::check_view(k_noise, "k_noise", where);
  detail::check_view(v, "v", where);
  detail::check_output(o, "o", where);
  detail::check_same_shape(k_noise, "k_noise", k_signal, "k_signal", where);
  for (std::size_t d : {0u, 2u, 3u})
    detail::check_equal(q_noise.extent(d), q_signal.extent(d), detail::dim_label("q_noise", d),
                        detail::dim_label("q_signal", d), where);
  std::int64_t const signal_heads = q_signal.extent(1), noise_heads = q_noise.extent(1);
  if (noise_heads <= 0 || signal_heads % noise_heads != 0)
    detail::fail("q_noise.extent(1) (noise heads) = " + std::to_string(noise_heads) +
                     " must be positive and divide q_signal.extent(1) (signal heads) = " +
                     std::to_string(signal_heads),
                 where);
  std::int64_t const kv_heads = k_noise.extent(1);
  if (kv_heads <= 0 || noise_heads % kv_heads != 0)
    detail::fail(
        "k_noise.extent(1) (K/V heads) = " + std::to_string(kv_heads) +
            " must be positive and divide q_noise.extent(1) (noise heads) = " + std::to_string(noise_heads),
        where);
  detail::check_lambda(lambda, signal_heads, where);
  detail::check_disjoint(o, "o", q_signal, "q_signal", where);
  detail::check_disjoint(o, "o", k_signal, "k_signal", where);
  detail::check_disjoint(o, "o", q_noise, "q_noise", where);
  detail::check_disjoint(o, "o", k_noise, "k_noise", where);
  detail::check_disjoint(o, "o", v, "v", where);

  // The signal map goes straight into o (its own checks name q, k, v and o); the noise map into a buffer.
  attn(q_signal, k_signal, v, o, run);
  std::int64_t const batch = o.extent(0), q_len = o.extent(2), v_dim = o.extent(3);
  std::vector<float> noise(static_cast<std::size_t>(batch * noise_heads * q_len * v_dim));
  auto const noise_out = bhsd(noise.data(), batch, noise_heads, q_len, v_dim);
  attn(q_noise, k_noise, v, noise_out, run);

  std::int64_t const group = signal_heads / noise_heads;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < signal_heads; ++h) {
      float const weight = lambda[lambda.size() == 1 ? 0 : static_cast<std::size_t>(h)];
      for (std::int64_t i = 0; i < q_len; ++i)
        for (std::int64_t d = 0; d < v_dim; ++d)
          o(b, h, i, d) -= weight * noise_out(b, h / group, i, d);
    }
}

} // namespace attnkit
