#pragma once
/// \file
/// The decode kernel for normalisers of the `tiled_scores_family`: a few queries (Sq <= 16) against a
/// long KV cache, which is bound by memory bandwidth. It reads K and V in place (no packing), once per
/// KV head for all the query heads that share it (GQA), and splits the keys across threads
/// (flash-decoding): each split keeps its rows' normaliser states and outputs, merged in split order.

#include "attnkit/arch/row_products.hpp"
#include "attnkit/arch/row_scale.hpp"
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
  /// Row length of the score buffer: a run's scores are written a block of keys at a time, so the last run
  /// of a chunk may write up to a block (score_keys<Arch, 1>, the largest) past the chunk.
  static constexpr std::int64_t score_stride = chunk_keys + simd::score_keys<Arch, 1>;

  /// Whether a call goes to this kernel: few queries, and K/V rows contiguous (read in place as vectors).
  static bool applies(attention_problem const& p) noexcept {
    if (p.q_len() > max_decode_queries)
      return false;
    key_rows const first = p.kv.rows(0, 0, 0); // every run of a source has the same dim strides
    return first.empty() || (first.k_dim_stride == 1 && first.v_dim_stride == 1);
  }

  static void run(attention_problem const& p, policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                  policy_arg<std::tuple<Modifiers...>> modifiers) {
    if (p.batch() == 0 || p.q_len() == 0)
      return;
    std::int64_t const groups = p.batch() * p.kv_heads(); // (batch, KV head) pairs
    std::int64_t const rows = p.q_heads() / p.kv_heads() * p.q_len();
    std::int64_t const split_keys = keys_per_split(p);

    // A group's splits are the blocks of split_keys keys that hold a key it may see and the source
    // stores: a window far into the cache, or a streaming cache's gap, costs nothing.
    std::vector<std::int64_t> split_index, offsets(1, 0);
    for (std::int64_t g = 0; g < groups; ++g) {
      std::int64_t at = p.key_len();
      for (std::int64_t t = 0; t < p.q_heads() / p.kv_heads(); ++t) {
        key_range const run = mask.next_keys(block_of(p, g, t), 0);
        if (!run.empty())
          at = std::min(at, std::max<std::int64_t>(run.begin, 0));
      }
      while (at < p.key_len()) {
        key_rows const stored = p.kv.rows(g / p.kv_heads(), g % p.kv_heads(), at);
        if (stored.empty())
          break;
        std::int64_t const first = std::max(stored.begin, at) / split_keys,
                           last = (stored.end - 1) / split_keys;
        for (std::int64_t split = first; split <= last; ++split)
          split_index.push_back(split);
        at = (last + 1) * split_keys; // the next split: its keys are asked for afresh
      }
      offsets.push_back(static_cast<std::int64_t>(split_index.size()));
    }
    std::int64_t const items = offsets.back();

    // Each split's rows: the normaliser state and the un-normalised output [rows][Dv].
    std::vector<row_state> states(static_cast<std::size_t>(items * rows));
    aligned_buffer outputs(std::max<std::int64_t>(1, items * rows * p.v_dim()));
    int const threads = static_cast<int>(std::min<std::int64_t>(p.threads, std::max<std::int64_t>(items, 1)));
    std::vector<scratch> per_thread(static_cast<std::size_t>(threads));
    for (auto& s : per_thread) {
      s.q = aligned_buffer(rows * p.qk_dim());
      s.scores = aligned_buffer(rows * score_stride);
      for (chunk_plan& plan : s.plans) {
        plan.stored.resize(static_cast<std::size_t>(chunk_keys));
        plan.heads.resize(static_cast<std::size_t>(p.q_heads() / p.kv_heads()));
      }
      s.shown = aligned_buffer(chunk_keys);
      s.active.resize(static_cast<std::size_t>(rows));
      s.partial.resize(static_cast<std::size_t>(rows));
      s.runs.resize(static_cast<std::size_t>(p.q_heads() / p.kv_heads()));
    }

    parallel_for(items, threads, [&](std::int64_t item, int thread) noexcept {
      auto const next = std::upper_bound(offsets.begin(), offsets.end(), item);
      std::int64_t const g = next - offsets.begin() - 1;
      std::int64_t const split = split_index[static_cast<std::size_t>(item)];
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
  /// Up to chunk_keys keys of a split, from where the earliest head's next run of visible keys starts.
  struct chunk_plan {
    key_range keys;
    std::int64_t stored_runs = 0;
    std::vector<key_rows> stored; // the runs the source stores the chunk's keys in
    std::vector<char> heads;      // per query head of the group: its next run starts inside the chunk
    bool gaps = false;            // the source skips some positions inside the chunk

    key_rows const& run(std::int64_t k) const noexcept { return stored[static_cast<std::size_t>(k)]; }
  };

  struct scratch {
    aligned_buffer q;                 // [rows][D], pre-scaled
    aligned_buffer scores;            // [rows][score_stride]
    aligned_buffer shown;             // [chunk_keys]: 0 where a key is visible, -inf where hidden
    std::vector<std::int64_t> active; // rows that see some key of the current chunk
    std::vector<char> partial;        // per active row: its mask hides some keys of the chunk
    std::vector<key_range> runs;      // each query head's current run of keys
    chunk_plan plans[2];              // the chunk being computed and the next one, whose K/V it prefetches
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
      simd::scaled_copy<Arch>(s.q.data() + r * dim, 1,
                              p.q.pointer(b, kv_head * group + r / q_len, r % q_len, 0), p.q.stride(3), dim,
                              p.scale);
      states[r] = row_state{};
    }
    std::fill(out, out + rows * v_dim, 0.0f);

    // Each head's current run of keys; a chunk starts where the earliest head's next run does. The next
    // chunk is planned before the current one is computed, so that its K/V rows can be prefetched.
    std::fill(s.runs.begin(), s.runs.end(), key_range{keys.begin, keys.begin});
    std::int64_t from = keys.begin;
    chunk_plan* current = &s.plans[0];
    chunk_plan* next = &s.plans[1];
    bool more = plan_chunk(p, g, keys, mask, from, s.runs, *current);
    while (more) {
      bool const has_next = plan_chunk(p, g, keys, mask, from, s.runs, *next);
      run_chunk(p, g, *current, has_next ? next : nullptr, normaliser, mask, modifiers, states, out, s);
      std::swap(current, next);
      more = has_next;
    }
  }

  /// Plans the chunk that starts at or after `from` within `keys` and moves `from` past it; false when no
  /// head sees a stored key there.
  static bool plan_chunk(attention_problem const& p, std::int64_t g, key_range keys, policy_arg<Mask> mask,
                         std::int64_t& from, std::vector<key_range>& runs, chunk_plan& plan) noexcept {
    std::int64_t const group = p.q_heads() / p.kv_heads();
    std::int64_t const b = g / p.kv_heads(), kv_head = g % p.kv_heads();
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
        return false;
      // The chunk starts at a stored key (the source may skip some) and ends with its last stored run.
      key_rows run = p.kv.rows(b, kv_head, start);
      if (run.begin >= keys.end)
        return false;
      if (run.begin > start) {
        from = run.begin; // the heads' runs are asked again from there
        continue;
      }
      std::int64_t const chunk_limit = std::min(start + chunk_keys, keys.end);
      std::int64_t stored = 0, stored_count = 0;
      while (run.begin < chunk_limit) {
        run.end = std::min(run.end, chunk_limit);
        plan.stored[static_cast<std::size_t>(stored++)] = run;
        stored_count += run.size();
        if (run.end == chunk_limit)
          break;
        run = p.kv.rows(b, kv_head, run.end);
      }
      plan.stored_runs = stored;
      plan.keys = {plan.run(0).begin, plan.run(stored - 1).end};
      plan.gaps = stored_count != plan.keys.end - plan.keys.begin;
      for (std::int64_t t = 0; t < group; ++t)
        plan.heads[static_cast<std::size_t>(t)] = runs[static_cast<std::size_t>(t)].begin < plan.keys.end;
      from = plan.keys.end;
      return true;
    }
    return false;
  }

  /// Scores, weights and O += P V of one chunk for every row that sees some of it, prefetching the K rows
  /// (and, when it is stored in pieces, the V rows) of `next` (when there is one) while it computes.
  static void run_chunk(attention_problem const& p, std::int64_t g, chunk_plan const& chunk,
                        chunk_plan const* next, policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                        policy_arg<std::tuple<Modifiers...>> modifiers, row_state* states, float* out,
                        scratch& s) noexcept {
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    constexpr float hidden = -std::numeric_limits<float>::infinity();
    std::int64_t const group = p.q_heads() / p.kv_heads(), q_len = p.q_len();
    std::int64_t const dim = p.qk_dim(), v_dim = p.v_dim();
    std::int64_t const n = chunk.keys.end - chunk.keys.begin, padded = round_up(n, w);

    // ---- The rows that see a key of the chunk, and whether their mask hides some of its keys ----
    std::int64_t active = 0;
    bool partial_rows = false;
    for (std::int64_t t = 0; t < group; ++t) {
      if (!chunk.heads[static_cast<std::size_t>(t)])
        continue; // this head's next run starts after the chunk
      query_block const block = block_of(p, g, t);
      tile_kind const kind = mask.classify(block, chunk.keys);
      if (kind == tile_kind::empty)
        continue;
      for (std::int64_t i = 0; i < q_len; ++i) {
        if (kind == tile_kind::partial &&
            mask.classify(query_block{block.batch, block.head, block.q_heads, i, i + 1, block.q_len,
                                      block.key_len, block.position_offset},
                          chunk.keys) == tile_kind::empty)
          continue;
        s.active[static_cast<std::size_t>(active)] = t * q_len + i;
        s.partial[static_cast<std::size_t>(active++)] = kind == tile_kind::partial;
        partial_rows = partial_rows || kind == tile_kind::partial;
      }
    }

    // ---- Their scores, score_rows rows per pass over the chunk's K ----
    active_scores(s, active, chunk, next, dim);

    // ---- Modifiers, mask and weights, row by row ----
    for (std::int64_t a = 0; a < active; ++a) {
      std::int64_t const r = s.active[static_cast<std::size_t>(a)], i = r % q_len;
      query_block const block = block_of(p, g, r / q_len);
      float* row = s.scores.data() + r * score_stride;
      std::fill(row + n, row + padded, hidden);
      std::apply(
          [&](auto const&... m) { (m.template modify_row<Arch>(block, i, chunk.keys.begin, row, n), ...); },
          modifiers);
      if (chunk.gaps) // after the modifiers: a softcap would make -inf finite
        hide_gaps(chunk, row);
      if (s.partial[static_cast<std::size_t>(a)])
        hide_keys<Arch>(mask, block, i, chunk.keys.begin, row, n);
      float const rescale = normaliser.template weigh_row<Arch>(block, states[r], row, padded);
      if (rescale != 1.0f)
        simd::scale_row<Arch>(out + r * v_dim, v_dim, rescale);
    }

    // ---- O += P V over each stored run of the chunk, value_rows rows per pass over V ----
    for (std::int64_t k = 0; k < chunk.stored_runs; ++k) {
      key_rows const& run = chunk.run(k);
      std::int64_t const offset = run.begin - chunk.keys.begin;
      simd::rows_ahead const ahead = run_ahead(next, k, true);
      if (partial_rows && !values_finite(run.v, run.v_stride, run.size(), v_dim)) {
        // 0 * NaN is NaN: a hidden key with a non-finite value must be skipped, not weighted by 0.
        for (std::int64_t a = 0; a < active; ++a)
          accumulate_shown_keys(p, g, s.active[static_cast<std::size_t>(a)], chunk.keys, run, mask, out, s);
        continue;
      }
      constexpr auto block = static_cast<std::int64_t>(simd::value_rows<Arch>);
      std::int64_t a = 0;
      for (; a + block <= active; a += block) // the first pass prefetches the next chunk's V
        accumulate<simd::value_rows<Arch>>(s, a, offset, run, v_dim, out,
                                           a == 0 ? ahead : simd::rows_ahead{});
      if (a < active)
        accumulate_last<simd::value_rows<Arch> - 1>(active - a, s, a, offset, run, v_dim, out,
                                                    a == 0 ? ahead : simd::rows_ahead{});
    }
  }

  /// The K (or V) rows of the next chunk's stored run k, which the scores (or O += P V) of this chunk's run k
  /// prefetch; none when there is no such run. V rows only when the source stores that chunk in pieces
  /// (pages): a core keeps only so many software prefetches in flight, which the K rows already use, and
  /// the hardware prefetchers follow one long run of V by themselves (docs/design.md, "The decode kernel").
  static simd::rows_ahead run_ahead(chunk_plan const* next, std::int64_t k, bool values) noexcept {
    if (next == nullptr || k >= next->stored_runs || (values && next->stored_runs == 1))
      return {};
    key_rows const& run = next->run(k);
    return values ? simd::rows_ahead{run.v, run.v_stride, run.size()}
                  : simd::rows_ahead{run.k, run.k_stride, run.size()};
  }

  /// The scores of rows active[0, count) against the chunk's stored runs, at their offsets from the
  /// chunk's first key: score_rows rows per pass, then 2 and 1; the first pass prefetches the next chunk's
  /// K. Each run may write past its end up to a SIMD width, which the next run or the caller overwrites.
  static void active_scores(scratch& s, std::int64_t count, chunk_plan const& chunk, chunk_plan const* next,
                            std::int64_t dim) noexcept {
    static_assert(simd::score_rows<Arch> == 4, "the remainder below takes 2 rows, then 1");
    std::int64_t a = 0;
    for (; a + 4 <= count; a += 4)
      scores_of<4>(s, a, chunk, a == 0 ? next : nullptr, dim);
    if (a + 2 <= count) {
      scores_of<2>(s, a, chunk, a == 0 ? next : nullptr, dim);
      a += 2;
    }
    if (a < count)
      scores_of<1>(s, a, chunk, a == 0 ? next : nullptr, dim);
  }

  template <std::size_t Rows>
  static void scores_of(scratch& s, std::int64_t first, chunk_plan const& chunk, chunk_plan const* next,
                        std::int64_t dim) noexcept {
    float const* q[Rows];
    float* rows[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
      std::int64_t const row = s.active[static_cast<std::size_t>(first) + r];
      q[r] = s.q.data() + row * dim;
      rows[r] = s.scores.data() + row * score_stride;
    }
    for (std::int64_t k = 0; k < chunk.stored_runs; ++k) {
      key_rows const& run = chunk.run(k);
      float* at[Rows];
      for (std::size_t r = 0; r < Rows; ++r)
        at[r] = rows[r] + (run.begin - chunk.keys.begin);
      simd::rows_scores<Arch, Rows>(q, dim, run.k, run.k_stride, run.size(), at, run_ahead(next, k, false));
    }
  }

  /// Hides the keys between the chunk's stored runs (a streaming cache keeps only some positions).
  static void hide_gaps(chunk_plan const& chunk, float* row) noexcept {
    for (std::int64_t k = 0; k + 1 < chunk.stored_runs; ++k)
      std::fill(row + (chunk.run(k).end - chunk.keys.begin),
                row + (chunk.run(k + 1).begin - chunk.keys.begin), -std::numeric_limits<float>::infinity());
  }

  /// Rows active[first, first + Rows): out += P V over one stored run, whose weights start at `offset`.
  template <std::size_t Rows>
  static void accumulate(scratch const& s, std::int64_t first, std::int64_t offset, key_rows const& run,
                         std::int64_t v_dim, float* out, simd::rows_ahead const& ahead) noexcept {
    float const* weights[Rows];
    float* rows_out[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
      std::int64_t const row = s.active[static_cast<std::size_t>(first) + r];
      weights[r] = s.scores.data() + row * score_stride + offset;
      rows_out[r] = out + row * v_dim;
    }
    simd::rows_times_values<Arch, Rows>(weights, run.v, run.v_stride, run.size(), v_dim, rows_out, ahead);
  }

  /// accumulate<count> for the last count < value_rows active rows.
  template <std::size_t Rows>
  static void accumulate_last(std::int64_t count, scratch const& s, std::int64_t first, std::int64_t offset,
                              key_rows const& run, std::int64_t v_dim, float* out,
                              simd::rows_ahead const& ahead) noexcept {
    if (count == static_cast<std::int64_t>(Rows))
      accumulate<Rows>(s, first, offset, run, v_dim, out, ahead);
    else if constexpr (Rows > 1)
      accumulate_last<Rows - 1>(count, s, first, offset, run, v_dim, out, ahead);
  }

  static bool values_finite(float const* v, std::int64_t v_stride, std::int64_t n,
                            std::int64_t v_dim) noexcept {
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t d = 0; d < v_dim; ++d)
        if (!std::isfinite(v[j * v_stride + d]))
          return false;
    return true;
  }

  /// Row r's O += P V over only the keys of one stored run that its mask shows.
  static void accumulate_shown_keys(attention_problem const& p, std::int64_t g, std::int64_t r,
                                    key_range chunk, key_rows const& run, policy_arg<Mask> mask, float* out,
                                    scratch& s) noexcept {
    std::int64_t const n = run.size(), v_dim = p.v_dim();
    float* shown = s.shown.data();
    std::fill(shown, shown + n, 0.0f);
    hide_keys<Arch>(mask, block_of(p, g, r / p.q_len()), r % p.q_len(), run.begin, shown, n);
    float const* weights = s.scores.data() + r * score_stride + (run.begin - chunk.begin);
    for (std::int64_t j = 0; j < n; ++j)
      if (shown[j] == 0.0f)
        for (std::int64_t d = 0; d < v_dim; ++d)
          out[r * v_dim + d] += weights[j] * run.v[j * run.v_stride + d];
  }

  /// Merges a group's splits in order, into the first split's rows (contiguous, so the merge runs a register
  /// at a time), then finishes each row and writes O (one pass, strided or not) and LSE.
  static void finish_group(attention_problem const& p, std::int64_t g, std::int64_t first_item,
                           std::int64_t end_item, policy_arg<Normaliser> normaliser, row_state const* states,
                           float* outputs) noexcept {
    std::int64_t const q_len = p.q_len(), rows = p.q_heads() / p.kv_heads() * q_len, v_dim = p.v_dim();
    for (std::int64_t r = 0; r < rows; ++r) {
      query_block const block = block_of(p, g, r / q_len);
      std::int64_t const i = r % q_len;
      row_state state = first_item < end_item ? states[first_item * rows + r] : row_state{};
      float* merged = first_item < end_item ? outputs + (first_item * rows + r) * v_dim : nullptr;
      for (std::int64_t item = first_item + 1; item < end_item; ++item) {
        if constexpr (merges_rows<Normaliser>) {
          merge_factors const f = normaliser.merge_rows(state, states[item * rows + r]);
          simd::blend_rows<Arch>(merged, f.into, outputs + (item * rows + r) * v_dim, f.from, v_dim);
        }
      }
      row_result const result = normaliser.template finish_row<Arch>(block, i, state);
      float* dst = p.o.pointer(block.batch, block.head, i, 0);
      std::int64_t const stride = p.o.stride(3);
      if (merged == nullptr) // the group has no split: it sees no key
        for (std::int64_t d = 0; d < v_dim; ++d)
          dst[d * stride] = 0.0f * result.output_scale;
      else
        simd::scaled_copy<Arch>(dst, stride, merged, 1, v_dim, result.output_scale);
      if (p.lse.data() != nullptr)
        p.lse(block.batch, block.head, i) = result.lse;
    }
  }
};

} // namespace attnkit::detail
