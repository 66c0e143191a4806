#pragma once
/// \file
/// The decode kernel for normalisers of the `tiled_scores_family`: a few queries (Sq <= 16) against a
/// long KV cache, which is bound by memory bandwidth. It reads K and V in place (no packing), once per
/// KV head for all the query heads that share it (GQA), and splits the keys across threads
/// (flash-decoding): each split keeps its rows' normaliser states and outputs, merged in split order.

#include "attnkit/arch/row_products.hpp"
#include "attnkit/kernels/aligned_buffer.hpp"
#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kernels/policy_arg.hpp"
#include "attnkit/kernels/tile_shape.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

namespace attnkit::detail {

/// Calls with at most this many queries use the decode kernel (speculative decoding uses a few).
inline constexpr std::int64_t max_decode_queries = 16;
/// Keys per split when the caller does not choose: a fixed number, so results never depend on the thread
/// count. Each split costs one merge of its rows' outputs, under 1 % of reading its keys.
inline constexpr std::int64_t default_decode_split_keys = 2048;

template <class Arch, class Normaliser, class Mask, class... Modifiers> struct decode_kernel {
  using row_state = typename Normaliser::row_state;
  /// Keys scored and weighed together: K and V rows of one chunk stay in L1/L2 while every query head
  /// of the group uses them.
  static constexpr std::int64_t chunk_keys = 64;

  /// Whether a call goes to this kernel: few queries, and K/V rows contiguous (read in place as vectors).
  static bool applies(attention_problem const& p) noexcept {
    return p.q_len() <= max_decode_queries &&
           (p.key_len() == 0 || (p.k.stride(3) == 1 && p.v.stride(3) == 1));
  }

  static void run(attention_problem const& p, policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                  policy_arg<std::tuple<Modifiers...>> modifiers) {
    if (p.batch() == 0 || p.q_len() == 0)
      return;
    std::int64_t const groups = p.batch() * p.kv_heads(); // (batch, KV head) pairs
    std::int64_t const rows = p.q_heads() / p.kv_heads() * p.q_len();
    std::int64_t const split_keys = keys_per_split(p);

    // Splits start at the first key a group may see (a window far into the cache skips the rest).
    std::vector<std::int64_t> first_split(static_cast<std::size_t>(groups)), offsets(1, 0);
    for (std::int64_t g = 0; g < groups; ++g) {
      std::int64_t first_key = p.key_len();
      for (std::int64_t t = 0; t < p.q_heads() / p.kv_heads(); ++t) {
        key_range const run = mask.next_keys(block_of(p, g, t), 0);
        if (!run.empty())
          first_key = std::min(first_key, std::max<std::int64_t>(run.begin, 0));
      }
      first_split[static_cast<std::size_t>(g)] = first_key / split_keys;
      std::int64_t const splits = (p.key_len() + split_keys - 1) / split_keys - first_key / split_keys;
      offsets.push_back(offsets.back() + std::max<std::int64_t>(splits, 0));
    }
    std::int64_t const items = offsets.back();

    // Each split's rows: the normaliser state and the un-normalised output [rows][Dv].
    std::vector<row_state> states(static_cast<std::size_t>(items * rows));
    aligned_buffer outputs(std::max<std::int64_t>(1, items * rows * p.v_dim()));
    int const threads = static_cast<int>(std::min<std::int64_t>(p.threads, std::max<std::int64_t>(items, 1)));
    std::vector<scratch> per_thread(static_cast<std::size_t>(threads));
    for (auto& s : per_thread) {
      s.q = aligned_buffer(rows * p.qk_dim());
      s.scores = aligned_buffer(rows * chunk_keys);
      s.shown = aligned_buffer(chunk_keys);
      s.active.resize(static_cast<std::size_t>(rows));
      s.runs.resize(static_cast<std::size_t>(p.q_heads() / p.kv_heads()));
    }

    parallel_for(items, threads, [&](std::int64_t item, int thread) noexcept {
      auto const next = std::upper_bound(offsets.begin(), offsets.end(), item);
      std::int64_t const g = next - offsets.begin() - 1;
      std::int64_t const split =
          first_split[static_cast<std::size_t>(g)] + item - offsets[static_cast<std::size_t>(g)];
      key_range const keys{split * split_keys, std::min(p.key_len(), (split + 1) * split_keys)};
      run_split(p, g, keys, normaliser, mask, modifiers, states.data() + item * rows,
                outputs.data() + item * rows * p.v_dim(), per_thread[static_cast<std::size_t>(thread)]);
    });

    parallel_for(
        groups, std::min<int>(p.threads, static_cast<int>(groups)), [&](std::int64_t g, int) noexcept {
          finish_group(p, g, offsets[static_cast<std::size_t>(g)], offsets[static_cast<std::size_t>(g) + 1],
                       normaliser, states.data(), outputs.data());
        });
  }

private:
  struct scratch {
    aligned_buffer q;                 // [rows][D], pre-scaled
    aligned_buffer scores;            // [rows][chunk_keys]
    aligned_buffer shown;             // [chunk_keys]: 0 where a key is visible, -inf where hidden
    std::vector<std::int64_t> active; // rows that see some key of the current chunk
    std::vector<key_range> runs;      // each query head's current run of keys
  };

  static std::int64_t keys_per_split(attention_problem const& p) noexcept {
    if constexpr (!merges_rows<Normaliser>) {
      return std::max<std::int64_t>(1, p.key_len()); // partial rows cannot be merged: one split
    } else {
      std::int64_t const wanted = p.decode_split_keys > 0 ? p.decode_split_keys : default_decode_split_keys;
      return round_up(wanted, chunk_keys);
    }
  }

  /// Query head t of group g (batch * Hkv + KV head), all Sq rows.
  static query_block block_of(attention_problem const& p, std::int64_t g, std::int64_t t) noexcept {
    std::int64_t const group = p.q_heads() / p.kv_heads();
    return {.batch = g / p.kv_heads(),
            .head = g % p.kv_heads() * group + t,
            .q_heads = p.q_heads(),
            .row_begin = 0,
            .row_end = p.q_len(),
            .q_len = p.q_len(),
            .key_len = p.key_len(),
            .position_offset = p.position_offset};
  }

  /// One split of one group: rows r = t * Sq + i (query head t of the group, query i) over `keys`.
  static void run_split(attention_problem const& p, std::int64_t g, key_range keys,
                        policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                        policy_arg<std::tuple<Modifiers...>> modifiers, row_state* states, float* out,
                        scratch& s) noexcept {
    std::int64_t const group = p.q_heads() / p.kv_heads(), q_len = p.q_len(), rows = group * q_len;
    std::int64_t const dim = p.qk_dim(), v_dim = p.v_dim();
    std::int64_t const b = g / p.kv_heads(), kv_head = g % p.kv_heads();
    for (std::int64_t r = 0; r < rows; ++r) {
      float const* src = p.q.pointer(b, kv_head * group + r / q_len, r % q_len, 0);
      for (std::int64_t d = 0; d < dim; ++d)
        s.q.data()[r * dim + d] = p.scale * src[d * p.q.stride(3)];
      states[r] = row_state{};
    }
    std::fill(out, out + rows * v_dim, 0.0f);

    float const* k_head = p.k.pointer(b, kv_head, 0, 0);
    float const* v_head = p.v.pointer(b, kv_head, 0, 0);
    std::int64_t const k_stride = p.k.stride(2), v_stride = p.v.stride(2);
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    constexpr float hidden = -std::numeric_limits<float>::infinity();

    // Each head's current run of keys; a chunk starts where the earliest head's next run does.
    std::vector<key_range>& runs = s.runs;
    std::fill(runs.begin(), runs.end(), key_range{keys.begin, keys.begin});
    std::int64_t from = keys.begin;
    while (from < keys.end) {
      std::int64_t start = keys.end;
      for (std::int64_t t = 0; t < group; ++t) {
        key_range& run = runs[static_cast<std::size_t>(t)];
        if (run.end <= from) {
          run = mask.next_keys(block_of(p, g, t), from);
          if (run.empty() || run.end <= from)
            run = {keys.end, std::numeric_limits<std::int64_t>::max()}; // nothing more for this head
        }
        start = std::min(start, std::max(run.begin, from));
      }
      if (start >= keys.end)
        break;
      key_range const chunk{start, std::min(start + chunk_keys, keys.end)};
      std::int64_t const n = chunk.end - chunk.begin, padded = round_up(n, w);
      from = chunk.end;

      // ---- Scores, modifiers, mask and weights of every row that sees a key of the chunk ----
      std::int64_t active = 0;
      bool partial_rows = false;
      for (std::int64_t t = 0; t < group; ++t) {
        if (runs[static_cast<std::size_t>(t)].begin >= chunk.end)
          continue; // this head's next run starts after the chunk
        query_block const block = block_of(p, g, t);
        tile_kind const kind = mask.classify(block, chunk);
        if (kind == tile_kind::empty)
          continue;
        for (std::int64_t i = 0; i < q_len; ++i) {
          if (kind == tile_kind::partial &&
              mask.classify(query_block{block.batch, block.head, block.q_heads, i, i + 1, block.q_len,
                                        block.key_len, block.position_offset},
                            chunk) == tile_kind::empty)
            continue;
          std::int64_t const r = t * q_len + i;
          float* row = s.scores.data() + r * chunk_keys;
          simd::row_scores<Arch>(s.q.data() + r * dim, dim, k_head + chunk.begin * k_stride, k_stride, n,
                                 row);
          std::fill(row + n, row + padded, hidden);
          std::apply(
              [&](auto const&... m) { (m.template modify_row<Arch>(block, i, chunk.begin, row, n), ...); },
              modifiers);
          if (kind == tile_kind::partial) {
            hide_keys<Arch>(mask, block, i, chunk.begin, row, n);
            partial_rows = true;
          }
          float const rescale = normaliser.template weigh_row<Arch>(block, states[r], row, padded);
          if (rescale != 1.0f)
            for (std::int64_t d = 0; d < v_dim; ++d)
              out[r * v_dim + d] *= rescale;
          s.active[static_cast<std::size_t>(active++)] = r;
        }
      }

      // ---- O += P V over the chunk's keys, four rows per pass over V ----
      float const* v_chunk = v_head + chunk.begin * v_stride;
      if (partial_rows && !values_finite(v_chunk, v_stride, n, v_dim)) {
        // 0 * NaN is NaN: a hidden key with a non-finite value must be skipped, not weighted by 0.
        for (std::int64_t a = 0; a < active; ++a)
          accumulate_shown_keys(p, g, s.active[static_cast<std::size_t>(a)], chunk, mask, v_chunk, v_stride,
                                out, s);
        continue;
      }
      std::int64_t a = 0;
      for (; a + 4 <= active; a += 4)
        accumulate<4>(s, a, v_chunk, v_stride, n, v_dim, out);
      switch (active - a) {
      case 3:
        accumulate<3>(s, a, v_chunk, v_stride, n, v_dim, out);
        break;
      case 2:
        accumulate<2>(s, a, v_chunk, v_stride, n, v_dim, out);
        break;
      case 1:
        accumulate<1>(s, a, v_chunk, v_stride, n, v_dim, out);
        break;
      default:
        break;
      }
    }
  }

  template <std::size_t Rows>
  static void accumulate(scratch const& s, std::int64_t first, float const* v, std::int64_t v_stride,
                         std::int64_t n, std::int64_t v_dim, float* out) noexcept {
    float const* weights[Rows];
    float* rows_out[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
      std::int64_t const row = s.active[static_cast<std::size_t>(first) + r];
      weights[r] = s.scores.data() + row * chunk_keys;
      rows_out[r] = out + row * v_dim;
    }
    simd::rows_times_values<Arch, Rows>(weights, v, v_stride, n, v_dim, rows_out);
  }

  static bool values_finite(float const* v, std::int64_t v_stride, std::int64_t n,
                            std::int64_t v_dim) noexcept {
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t d = 0; d < v_dim; ++d)
        if (!std::isfinite(v[j * v_stride + d]))
          return false;
    return true;
  }

  /// Row r's O += P V over only the keys its mask shows.
  static void accumulate_shown_keys(attention_problem const& p, std::int64_t g, std::int64_t r,
                                    key_range chunk, policy_arg<Mask> mask, float const* v,
                                    std::int64_t v_stride, float* out, scratch& s) noexcept {
    std::int64_t const n = chunk.end - chunk.begin, v_dim = p.v_dim();
    float* shown = s.shown.data();
    std::fill(shown, shown + n, 0.0f);
    hide_keys<Arch>(mask, block_of(p, g, r / p.q_len()), r % p.q_len(), chunk.begin, shown, n);
    float const* weights = s.scores.data() + r * chunk_keys;
    for (std::int64_t j = 0; j < n; ++j)
      if (shown[j] == 0.0f)
        for (std::int64_t d = 0; d < v_dim; ++d)
          out[r * v_dim + d] += weights[j] * v[j * v_stride + d];
  }

  /// Merges a group's splits in order, then finishes each row and writes O and LSE.
  static void finish_group(attention_problem const& p, std::int64_t g, std::int64_t first_item,
                           std::int64_t end_item, policy_arg<Normaliser> normaliser, row_state const* states,
                           float const* outputs) noexcept {
    std::int64_t const q_len = p.q_len(), rows = p.q_heads() / p.kv_heads() * q_len, v_dim = p.v_dim();
    for (std::int64_t r = 0; r < rows; ++r) {
      query_block const block = block_of(p, g, r / q_len);
      std::int64_t const i = r % q_len;
      float* dst = p.o.pointer(block.batch, block.head, i, 0);
      row_state state{};
      for (std::int64_t d = 0; d < v_dim; ++d)
        dst[d * p.o.stride(3)] = 0.0f;
      for (std::int64_t item = first_item; item < end_item; ++item) {
        float const* part = outputs + (item * rows + r) * v_dim;
        merge_factors f{1.0f, 1.0f};
        if (item == first_item)
          state = states[item * rows + r];
        else if constexpr (merges_rows<Normaliser>)
          f = normaliser.merge_rows(state, states[item * rows + r]);
        for (std::int64_t d = 0; d < v_dim; ++d) {
          float& o = dst[d * p.o.stride(3)];
          o = item == first_item ? part[d] : f.into * o + f.from * part[d];
        }
      }
      row_result const result = normaliser.template finish_row<Arch>(block, i, state);
      for (std::int64_t d = 0; d < v_dim; ++d)
        dst[d * p.o.stride(3)] *= result.output_scale;
      if (p.lse.data() != nullptr)
        p.lse(block.batch, block.head, i) = result.lse;
    }
  }
};

} // namespace attnkit::detail
