#pragma once
// One randomised kernel-vs-reference case: build inputs, run the kernel on an architecture, compare.

#include "arch_sweep.hpp"
#include "compare.hpp"
#include "random_tensor.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <cstdint>
#include <vector>

namespace attnkit::test {

struct case_shape {
  std::int64_t batch = 1, q_heads = 1, kv_heads = 1, q_len = 1, key_len = 1, dim = 16, v_dim = 16;
  layout mem = layout::bhsd;
  std::int64_t row_pad = 0;
};

/// Random q, k, v of a shape (N(0, 1) from `seed`), and a fresh output and LSE (filled with 123) per run.
struct random_case {
  case_shape s;
  tensor q, k, v;
  random_case(case_shape const& shape, std::uint32_t seed)
      : s(shape), q(s.batch, s.q_heads, s.q_len, s.dim, s.mem, s.row_pad),
        k(s.batch, s.kv_heads, s.key_len, s.dim, s.mem, s.row_pad),
        v(s.batch, s.kv_heads, s.key_len, s.v_dim, s.mem, s.row_pad) {
    fill_normal(q, seed);
    fill_normal(k, seed + 1);
    fill_normal(v, seed + 2);
  }

  /// Runs `attn` on `Arch` and checks o and lse against `ref`.
  template <class Arch, class Attention>
  void run_and_check(Attention const& attn, reference::result const& ref, run_options run = {}) {
    tensor o(s.batch, s.q_heads, s.q_len, s.v_dim, s.mem, s.row_pad);
    std::vector<float> lse_buf(static_cast<std::size_t>(s.batch * s.q_heads * s.q_len), 123.0f);
    auto const lse = bhs(lse_buf.data(), s.batch, s.q_heads, s.q_len);
    // A normaliser without an LSE gets an empty view, and only its output is compared.
    tensor_view<float, 3> const wanted = Attention::normaliser_type::has_lse ? lse : tensor_view<float, 3>{};
    attn.template run_on<Arch>(q.cview(), k.cview(), v.cview(), o.view(), wanted, run);
    check_against_reference(ref, v.cview(), o.view(), wanted);
  }
};

/// Runs `attn` on `Arch` with random inputs of `shape` and checks o and lse against the fp64 reference.
template <class Arch, class Attention>
void check_random_case(Attention const& attn, case_shape const& s, std::uint32_t seed, run_options run = {}) {
  random_case c(s, seed);
  c.run_and_check<Arch>(attn, reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview()), run);
}

/// Query rows a long test checks: the first and last 70 (every tile shape's edges) and every 61st row between
/// them (61 is prime, so the rows fall at every offset within 64-, 128- and 256-row tiles).
inline std::vector<std::int64_t> sampled_rows(std::int64_t q_len) {
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < q_len; ++i)
    if (i < 70 || i >= q_len - 70 || i % 61 == 0)
      rows.push_back(i);
  return rows;
}

/// check_random_case with the reference on sampled_rows(Sq) only: the kernel computes and writes every row,
/// the oracle (O(Sq Sk D) in double) checks a few hundred of them.
template <class Arch, class Attention>
void check_random_case_sampled(Attention const& attn, case_shape const& s, std::uint32_t seed,
                               run_options run = {}) {
  random_case c(s, seed);
  c.run_and_check<Arch>(
      attn, reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview(), sampled_rows(s.q_len)), run);
}

/// The same check on every architecture the binary and the CPU have, with the reference computed once.
template <class Attention>
void check_random_case_every_arch(Attention const& attn, case_shape const& s, std::uint32_t seed,
                                  run_options run = {}) {
  random_case c(s, seed);
  auto const ref = reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  for_each_arch([&](auto arch) { c.run_and_check<decltype(arch)>(attn, ref, run); });
}

} // namespace attnkit::test
