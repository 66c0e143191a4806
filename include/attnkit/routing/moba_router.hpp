#pragma once
/// \file
/// The MoBA router ("MoBA: Mixture of Block Attention for Long-Context LLMs"): a pre-pass that picks, for
/// every query, the top-k key blocks by the dot product of the query with each block's mean key. Its
/// output is a block layout with one list per query, so the attention itself is the block-sparse path.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/kernels/aligned_buffer.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/options.hpp"
#include "attnkit/policies/block_layout.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/tensor_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// How the router gates.
struct moba_options {
  std::int64_t key_block = 512; ///< Bk: keys per block (the last block may be shorter)
  std::int64_t top_k = 3;       ///< blocks per query; under causal masking this counts the query's own block
  bool causal = true;           ///< own block always chosen, later blocks never
  alignment align = alignment::bottom_right; ///< must match the attention call's
};

namespace detail {

/// How many blocks query position `position` gets (SEMANTICS.md; attnkit's choices for positions outside
/// the keys: none before key 0, the top k of all blocks past the last key).
inline std::int64_t moba_choice_count(moba_options const& o, std::int64_t position, std::int64_t key_blocks) {
  if (!o.causal)
    return std::min(o.top_k, key_blocks);
  if (position < 0)
    return 0;
  std::int64_t const own = position / o.key_block;
  return own < key_blocks ? 1 + std::min(o.top_k - 1, own) : std::min(o.top_k, key_blocks);
}

/// Does block a, scored sa, rank above block b, scored sb? Higher score first, ties to the lower index, and
/// a NaN score below every number.
inline bool moba_ranks_above(float sa, std::int64_t a, float sb, std::int64_t b) noexcept {
  if (std::isnan(sa) || std::isnan(sb))
    return !std::isnan(sa) || (std::isnan(sb) && a < b);
  return sa > sb || (sa == sb && a < b);
}

inline void check_moba_args(tensor_view<float const> const& q, tensor_view<float const> const& k,
                            moba_options const& o) {
  if (o.key_block < 1)
    policy_error("moba_route", "key_block = " + std::to_string(o.key_block) + " must be >= 1");
  if (o.top_k < 1)
    policy_error("moba_route", "top_k = " + std::to_string(o.top_k) + " must be >= 1");
  for (auto const& [view, name] : {std::pair{&q, "q"}, std::pair{&k, "k"}})
    for (std::size_t d = 0; d < 4; ++d)
      if (view->extent(d) < 0 || view->stride(d) < 0)
        policy_error("moba_route", std::string(name) + " has extent(" + std::to_string(d) + ") = " +
                                       std::to_string(view->extent(d)) + " and stride(" + std::to_string(d) +
                                       ") = " + std::to_string(view->stride(d)) + "; both must be >= 0");
  if (q.extent(0) != k.extent(0))
    policy_error("moba_route", "q has batch " + std::to_string(q.extent(0)) + " but k has batch " +
                                   std::to_string(k.extent(0)));
  if (q.extent(3) != k.extent(3))
    policy_error("moba_route", "q has head dim " + std::to_string(q.extent(3)) + " but k has " +
                                   std::to_string(k.extent(3)));
  if (q.extent(1) > 0 && (k.extent(1) < 1 || q.extent(1) % k.extent(1) != 0))
    policy_error("moba_route", "q heads = " + std::to_string(q.extent(1)) +
                                   " is not a multiple of k heads = " + std::to_string(k.extent(1)));
  if ((q.size() > 0 && q.data() == nullptr) || (k.size() > 0 && k.data() == nullptr))
    policy_error("moba_route", std::string(q.data() == nullptr ? "q" : "k") + " has a null data pointer");
}

} // namespace detail

/// Routes every query of q [B, Hq, Sq, D] over the key blocks of k [B, Hkv, Sk, D] (GQA: query head h uses
/// KV head h / (Hq / Hkv)). Returns a layout on a grid of B x Hq x Sq one-row query blocks and Bk-key
/// blocks: `layout.key_blocks(b, h, i)` are query i's chosen blocks in increasing order. Under causal the
/// query's own block is listed partial (a causal inner mask finishes it) and the others full; without,
/// every choice is full. Use it as `block_sparse<causal>(layout)` (or `block_sparse<>` when not causal)
/// with the same alignment. Block means are summed in double; the scores are fp32. Throws
/// std::invalid_argument on bad options or shapes.
template <class Arch>
block_layout moba_route_on(tensor_view<float const> q, tensor_view<float const> k, moba_options const& o,
                           run_options run = {}) {
  detail::check_moba_args(q, k, o);
  std::int64_t const batch = q.extent(0), q_heads = q.extent(1), q_len = q.extent(2), dim = q.extent(3);
  std::int64_t const kv_heads = std::max<std::int64_t>(1, k.extent(1)), key_len = k.extent(2);
  block_grid const grid{.batch = std::max<std::int64_t>(1, batch),
                        .heads = std::max<std::int64_t>(1, q_heads),
                        .q_len = q_len,
                        .key_len = key_len,
                        .q_block = 1,
                        .key_block = o.key_block};
  std::int64_t const key_blocks = grid.key_blocks();
  std::int64_t const offset = o.align == alignment::bottom_right ? key_len - q_len : 0;

  // Every list's length is known up front, so the lists can be filled in parallel. With no batch entry or
  // no head, the grid's single (shared) entry lists nothing.
  bool const routable = batch > 0 && q_heads > 0;
  std::vector<std::int64_t> offsets{0};
  for (std::int64_t r = 0; r < grid.lists(); ++r)
    offsets.push_back(offsets.back() +
                      (routable ? detail::moba_choice_count(o, r % q_len + offset, key_blocks) : 0));
  std::vector<std::int32_t> blocks(static_cast<std::size_t>(offsets.back()));
  std::vector<tile_kind> kinds(blocks.size(), tile_kind::full);
  if (blocks.empty())
    return {grid, std::move(offsets), std::move(blocks), std::move(kinds)};

  // ---- Block means of every KV head, [B * Hkv][key_blocks][padded D] ----
  constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
  std::int64_t const padded = (dim + w - 1) / w * w;
  detail::aligned_buffer means(batch * kv_heads * key_blocks * padded);
  int const threads = detail::resolve_thread_count(run.threads);
  std::vector<std::vector<double>> sums(static_cast<std::size_t>(threads), std::vector<double>(dim));
  detail::parallel_for(batch * kv_heads * key_blocks, threads, [&](std::int64_t item, int thread) noexcept {
    std::int64_t const kb = item % key_blocks, head = item / key_blocks;
    std::int64_t const first = kb * o.key_block, last = std::min(key_len, first + o.key_block);
    std::vector<double>& sum = sums[static_cast<std::size_t>(thread)];
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::int64_t j = first; j < last; ++j)
      for (std::int64_t d = 0; d < dim; ++d)
        sum[static_cast<std::size_t>(d)] += k(head / kv_heads, head % kv_heads, j, d);
    float* mean = means.data() + item * padded;
    for (std::int64_t d = 0; d < padded; ++d)
      mean[d] = d < dim
                    ? static_cast<float>(sum[static_cast<std::size_t>(d)] / static_cast<double>(last - first))
                    : 0.0f;
  });

  // ---- Each query: score the eligible blocks, keep the best ----
  std::int64_t const group = q_heads / kv_heads;
  std::vector<detail::aligned_buffer> rows(static_cast<std::size_t>(threads));
  std::vector<std::vector<float>> scores(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    rows[static_cast<std::size_t>(t)] = detail::aligned_buffer(padded);
    scores[static_cast<std::size_t>(t)].resize(static_cast<std::size_t>(key_blocks));
  }
  detail::parallel_for(grid.lists(), threads, [&](std::int64_t list, int thread) noexcept {
    std::int64_t const first = offsets[static_cast<std::size_t>(list)];
    std::int64_t const count = offsets[static_cast<std::size_t>(list + 1)] - first;
    if (count == 0)
      return;
    std::int64_t const i = list % q_len, h = list / q_len % q_heads, b = list / q_len / q_heads;
    std::int64_t const position = i + offset;
    // Causal: the own block is forced and only earlier blocks compete; otherwise every block does.
    bool const forced = o.causal && position / o.key_block < key_blocks;
    std::int64_t const eligible = !o.causal ? key_blocks : forced ? position / o.key_block : key_blocks;
    float* row = rows[static_cast<std::size_t>(thread)].data();
    for (std::int64_t d = 0; d < padded; ++d)
      row[d] = d < dim ? q(b, h, i, d) : 0.0f;
    float* score = scores[static_cast<std::size_t>(thread)].data();
    float const* head_means = means.data() + (b * kv_heads + h / group) * key_blocks * padded;
    for (std::int64_t kb = 0; kb < eligible; ++kb) {
      simd::float_batch<Arch> acc(0.0f);
      for (std::int64_t d = 0; d < padded; d += w)
        acc = simd::fma(simd::float_batch<Arch>::load_aligned(row + d),
                        simd::float_batch<Arch>::load_aligned(head_means + kb * padded + d), acc);
      score[kb] = simd::reduce_sum<Arch>(acc);
    }
    // Insertion into the best `wanted` so far, best first.
    std::int32_t* chosen = blocks.data() + first;
    std::int64_t const wanted = count - (forced ? 1 : 0);
    std::int64_t held = 0;
    for (std::int64_t kb = 0; kb < eligible; ++kb) {
      std::int64_t at = held;
      while (at > 0 && detail::moba_ranks_above(score[kb], kb, score[chosen[at - 1]], chosen[at - 1]))
        --at;
      if (at >= wanted)
        continue;
      for (std::int64_t s = std::min(held, wanted - 1); s > at; --s)
        chosen[s] = chosen[s - 1];
      chosen[at] = static_cast<std::int32_t>(kb);
      held = std::min(held + 1, wanted);
    }
    if (forced) {
      chosen[count - 1] = static_cast<std::int32_t>(position / o.key_block);
      kinds[static_cast<std::size_t>(first + count - 1)] = tile_kind::partial; // the own block is last
    }
    std::sort(chosen, chosen + count - (forced ? 1 : 0));
  });
  return {grid, std::move(offsets), std::move(blocks), std::move(kinds)};
}

/// moba_route_on for the architecture the translation unit is compiled for.
inline block_layout moba_route(tensor_view<float const> q, tensor_view<float const> k, moba_options const& o,
                               run_options run = {}) {
  return moba_route_on<xsimd::default_arch>(q, k, o, run);
}

} // namespace attnkit
