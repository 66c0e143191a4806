#pragma once
// One randomised kernel-vs-reference case: build inputs, run the kernel on an architecture, compare.

#include "arch_sweep.hpp"
#include "compare.hpp"
#include "random_tensor.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <cstdint>

namespace attnkit::test {

struct case_shape {
  std::int64_t batch = 1, q_heads = 1, kv_heads = 1, q_len = 1, key_len = 1, dim = 16, v_dim = 16;
  layout mem = layout::bhsd;
  std::int64_t row_pad = 0;
};

/// Runs `attn` on `Arch` with random inputs of `shape` and checks o and lse against the fp64 reference.
template <class Arch, class Attention>
void check_random_case(Attention const& attn, case_shape const& s, std::uint32_t seed, int threads = 0) {
  tensor q(s.batch, s.q_heads, s.q_len, s.dim, s.mem, s.row_pad);
  tensor k(s.batch, s.kv_heads, s.key_len, s.dim, s.mem, s.row_pad);
  tensor v(s.batch, s.kv_heads, s.key_len, s.v_dim, s.mem, s.row_pad);
  tensor o(s.batch, s.q_heads, s.q_len, s.v_dim, s.mem, s.row_pad);
  fill_normal(q, seed);
  fill_normal(k, seed + 1);
  fill_normal(v, seed + 2);
  std::vector<float> lse_buf(static_cast<std::size_t>(s.batch * s.q_heads * s.q_len), 123.0f);
  auto const lse = bhs(lse_buf.data(), s.batch, s.q_heads, s.q_len);

  attn.template run_on<Arch>(q.cview(), k.cview(), v.cview(), o.view(), lse, run_options{.threads = threads});
  auto const ref = reference::attention(attn, q.cview(), k.cview(), v.cview());
  check_against_reference(ref, v.cview(), o.view(), lse);
}

/// The same check on every architecture the binary and the CPU have, with the reference computed once.
template <class Attention>
void check_random_case_every_arch(Attention const& attn, case_shape const& s, std::uint32_t seed) {
  tensor q(s.batch, s.q_heads, s.q_len, s.dim, s.mem, s.row_pad);
  tensor k(s.batch, s.kv_heads, s.key_len, s.dim, s.mem, s.row_pad);
  tensor v(s.batch, s.kv_heads, s.key_len, s.v_dim, s.mem, s.row_pad);
  fill_normal(q, seed);
  fill_normal(k, seed + 1);
  fill_normal(v, seed + 2);
  auto const ref = reference::attention(attn, q.cview(), k.cview(), v.cview());
  for_each_arch([&](auto arch) {
    tensor o(s.batch, s.q_heads, s.q_len, s.v_dim, s.mem, s.row_pad);
    std::vector<float> lse_buf(static_cast<std::size_t>(s.batch * s.q_heads * s.q_len), 123.0f);
    auto const lse = bhs(lse_buf.data(), s.batch, s.q_heads, s.q_len);
    attn.template run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), lse);
    check_against_reference(ref, v.cview(), o.view(), lse);
  });
}

} // namespace attnkit::test
