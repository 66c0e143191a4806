#pragma once
/// \file
/// The fused, tiled attention kernel for normalisers of the `tiled_scores_family` (softmax and the
/// variants that, like it, turn a row of scores into weights). FlashAttention-2 structure: a block of
/// query rows walks the key tiles its mask allows, never materialising more than one score tile.

#include "attnkit/arch/micro_kernel.hpp"
#include "attnkit/arch/row_scale.hpp"
#include "attnkit/kernels/aligned_buffer.hpp"
#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/packed_kv.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kernels/policy_arg.hpp"
#include "attnkit/kernels/tile_shape.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <vector>

namespace attnkit::detail {

template <class Arch, class Normaliser, class Mask, class... Modifiers> struct fused_kernel {
  using row_state = typename Normaliser::row_state;

  /// Per-thread scratch, allocated before the parallel loop so that nothing inside it can throw.
  struct scratch {
    aligned_buffer q;      // [rows][D], pre-scaled
    aligned_buffer scores; // [rows][cols]
    aligned_buffer out;    // [rows][v_cols]
    aligned_buffer shown;  // [cols]: 0 where a key is visible, -inf where hidden (non-finite V tiles)
    std::vector<row_state> states;
    std::vector<std::int64_t> rows; // the block's row indices
    // The rows of a partial tile that see any of its keys, gathered (see process_span).
    std::vector<std::int64_t> live_rows;
    std::vector<std::int64_t> live_slots; // their places in the block
    aligned_buffer live_q;                // [rows][D]
    aligned_buffer live_out;              // [rows][v_cols]
    std::vector<row_state> live_states;
  };

  /// Rows a tile product runs over: their indices, and where their Q, output and states live.
  struct row_set {
    std::int64_t const* index; // query row of each entry
    std::int64_t count = 0;
    float* q;   // [padded count][D], pre-scaled, padding rows zero
    float* out; // [padded count][v_cols]
    row_state* states;
  };

  static void run(attention_problem const& p, policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                  policy_arg<std::tuple<Modifiers...>> modifiers) {
    if (p.batch() == 0 || p.q_len() == 0)
      return;
    tile_shape const tiles = choose_tile_shape<Arch>(p.q_len(), p.qk_dim(), p.v_dim());
    std::int64_t const kv_total = p.batch() * p.kv_heads();
    std::int64_t const group = p.q_heads() / p.kv_heads();
    std::int64_t const blocks_per_head = (p.q_len() + tiles.rows - 1) / tiles.rows;
    // More threads than work items would only allocate idle scratch.
    int const threads =
        static_cast<int>(std::min<std::int64_t>(p.threads, kv_total * group * blocks_per_head));

    std::vector<scratch> per_thread(static_cast<std::size_t>(threads));
    for (auto& s : per_thread) {
      s.q = aligned_buffer(tiles.rows * p.qk_dim());
      s.scores = aligned_buffer(tiles.rows * tiles.cols);
      s.out = aligned_buffer(tiles.rows * tiles.v_cols);
      s.shown = aligned_buffer(tiles.cols);
      s.states.resize(static_cast<std::size_t>(tiles.rows));
      s.rows.resize(static_cast<std::size_t>(tiles.rows));
      s.live_rows.resize(static_cast<std::size_t>(tiles.rows));
      s.live_slots.resize(static_cast<std::size_t>(tiles.rows));
      s.live_q = aligned_buffer(tiles.rows * p.qk_dim());
      s.live_out = aligned_buffer(tiles.rows * tiles.v_cols);
      s.live_states.resize(static_cast<std::size_t>(tiles.rows));
    }

    // KV heads are packed and used a chunk at a time, so the packed copy is still in cache when the
    // query blocks read it, and memory stays bounded whatever the batch and head count.
    std::int64_t const per_head = std::max<std::int64_t>(1, packed_kv<Arch>::floats_per_head(p, tiles));
    std::int64_t const chunk = std::clamp<std::int64_t>(packing_budget_floats() / per_head, 1, kv_total);
    packed_kv<Arch> kv(p, tiles, chunk);
    for (std::int64_t first = 0; first < kv_total; first += chunk) {
      std::int64_t const held = std::min(chunk, kv_total - first);
      kv.pack(p, first, held);
      parallel_for(held * group * blocks_per_head, threads, [&](std::int64_t item, int thread) noexcept {
        // Later query blocks see more keys under causal masks: within a head, hand those out first.
        std::int64_t const block_index = blocks_per_head - 1 - item % blocks_per_head;
        std::int64_t const kv_head = first + item / blocks_per_head / group; // batch * Hkv + KV head
        std::int64_t const q_head = kv_head % p.kv_heads() * group + item / blocks_per_head % group;
        query_block const block{.batch = kv_head / p.kv_heads(),
                                .head = q_head,
                                .q_heads = p.q_heads(),
                                .row_begin = block_index * tiles.rows,
                                .row_end = std::min(p.q_len(), (block_index + 1) * tiles.rows),
                                .q_len = p.q_len(),
                                .key_len = p.key_len(),
                                .position_offset = p.position_offset};
        run_block(p, tiles, kv, kv_head, block, normaliser, mask, modifiers,
                  per_thread[static_cast<std::size_t>(thread)]);
      });
    }
  }

private:
  /// The part of one packed key tile that a run of keys covers. The score product starts at a whole
  /// micro-kernel panel (K^T columns are vector lanes), so `lead` columns before the run's first key are
  /// computed and then hidden; the output product starts exactly at the run (V rows need no alignment).
  struct tile_span {
    float const* k;                // K^T panels from the panel-aligned start: [D][nr] each
    float const* v;                // V panels from the run's first key: [count][nr] each
    std::int64_t k_panel_stride{}; // floats from one K^T panel to the next
    std::int64_t v_panel_stride{}; // floats from one V panel to the next
    std::int64_t lead = 0;         // hidden columns before first_key
    key_range keys;                // the keys of the run in this tile, [first, first + count)
    bool v_finite = true;          // the packed tile's values hold no NaN or Inf
  };

  static void run_block(attention_problem const& p, tile_shape const& tiles, packed_kv<Arch> const& kv,
                        std::int64_t kv_head, query_block const& block, policy_arg<Normaliser> normaliser,
                        policy_arg<Mask> mask, policy_arg<std::tuple<Modifiers...>> modifiers,
                        scratch& s) noexcept {
    std::int64_t const rows = block.row_end - block.row_begin;
    std::int64_t const padded_rows =
        round_up(rows, static_cast<std::int64_t>(simd::register_blocking<Arch>::rows));
    std::int64_t const dim = p.qk_dim();

    // ---- Load the query block, scaled, into [rows][D]; padding rows are zero ----
    for (std::int64_t r = 0; r < rows; ++r)
      simd::scaled_copy<Arch>(s.q.data() + r * dim, 1,
                              p.q.pointer(block.batch, block.head, block.row_begin + r, 0), p.q.stride(3),
                              dim, p.scale);
    std::fill(s.q.data() + rows * dim, s.q.data() + padded_rows * dim, 0.0f);
    std::fill(s.out.data(), s.out.data() + padded_rows * tiles.v_cols, 0.0f);
    for (std::int64_t r = 0; r < rows; ++r) {
      s.states[static_cast<std::size_t>(r)] = row_state{};
      s.rows[static_cast<std::size_t>(r)] = block.row_begin + r;
    }
    row_set const all_rows{s.rows.data(), rows, s.q.data(), s.out.data(), s.states.data()};

    // ---- Walk the runs of keys the mask allows, each in pieces of at most one packed tile ----
    constexpr auto nr = static_cast<std::int64_t>(simd::register_blocking<Arch>::columns);
    std::int64_t from = 0;
    while (from < p.key_len()) {
      key_range const run = mask.next_keys(block, from);
      std::int64_t const run_begin = std::max(run.begin, from); // a run never goes back
      std::int64_t const run_end = std::min(run.end, p.key_len());
      if (run_end <= run_begin)
        break;
      // Within the mask's run, the keys the source stores (all of them, but for a streaming cache).
      for (std::int64_t at = run_begin; at < run_end;) {
        key_rows const stored = p.kv.rows(block.batch, kv_head % p.kv_heads(), at);
        std::int64_t const stored_end = std::min(stored.end, run_end);
        for (std::int64_t first = std::max(stored.begin, at); first < stored_end;) {
          std::int64_t const tile = first / tiles.cols;
          std::int64_t const tile_first = tile * tiles.cols;
          std::int64_t const panel_first = tile_first + (first - tile_first) / nr * nr;
          key_range const keys{first, std::min(tile_first + tiles.cols, stored_end)};
          first = keys.end;
          tile_kind const kind = mask.classify(block, keys);
          if (kind == tile_kind::empty)
            continue;
          tile_span const span{.k = kv.k_panels(kv_head, tile, panel_first - tile_first),
                               .v = kv.v_panels(kv_head, tile, keys.begin - tile_first),
                               .k_panel_stride = kv.k_panel_stride(),
                               .v_panel_stride = kv.v_panel_stride(),
                               .lead = keys.begin - panel_first,
                               .keys = keys,
                               .v_finite = kv.v_tile_finite(kv_head, tile)};
          process_span(p, tiles, block, span, kind, normaliser, mask, modifiers, all_rows, s);
        }
        at = stored_end; // a stored run ends past `at`; an empty one gives run_end
      }
      from = run_end;
    }

    // ---- Normalise and store ----
    std::int64_t const dv = p.v_dim();
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t const i = block.row_begin + r;
      row_result const result =
          normaliser.template finish_row<Arch>(block, i, s.states[static_cast<std::size_t>(r)]);
      float* dst = p.o.pointer(block.batch, block.head, i, 0);
      float const* acc = s.out.data() + r * tiles.v_cols;
      // A row that saw nothing has acc = 0 (hidden non-finite values never enter it) and scale 0.
      simd::scaled_copy<Arch>(dst, p.o.stride(3), acc, 1, dv, result.output_scale);
      if (p.lse.data() != nullptr)
        p.lse(block.batch, block.head, i) = result.lse;
    }
  }

  /// One tile span for the whole block. In a partial tile, rows that see none of its keys are left out
  /// when there are any: a row with nothing visible in a tile would not change. With per-query layouts
  /// (MoBA) most rows of a block see none of a tile, so only the rows that do are gathered and computed.
  static void process_span(attention_problem const& p, tile_shape const& tiles, query_block const& block,
                           tile_span const& span, tile_kind kind, policy_arg<Normaliser> normaliser,
                           policy_arg<Mask> mask, policy_arg<std::tuple<Modifiers...>> modifiers,
                           row_set const& all, scratch& s) noexcept {
    if (kind != tile_kind::partial) {
      process_tile(p, tiles, block, span, kind, normaliser, mask, modifiers, all, s);
      return;
    }
    std::int64_t live = 0;
    for (std::int64_t r = 0; r < all.count; ++r) {
      query_block one_row = block;
      one_row.row_begin = all.index[r];
      one_row.row_end = all.index[r] + 1;
      if (mask.classify(one_row, span.keys) == tile_kind::empty)
        continue;
      s.live_rows[static_cast<std::size_t>(live)] = all.index[r];
      s.live_slots[static_cast<std::size_t>(live++)] = r;
    }
    if (live == all.count) {
      process_tile(p, tiles, block, span, kind, normaliser, mask, modifiers, all, s);
      return;
    }
    if (live == 0)
      return;
    // Gather the live rows' Q, output and state, run the tile on them, scatter back.
    std::int64_t const dim = p.qk_dim(),
                       padded =
                           round_up(live, static_cast<std::int64_t>(simd::register_blocking<Arch>::rows));
    for (std::int64_t r = 0; r < live; ++r) {
      std::int64_t const slot = s.live_slots[static_cast<std::size_t>(r)];
      std::copy_n(all.q + slot * dim, dim, s.live_q.data() + r * dim);
      std::copy_n(all.out + slot * tiles.v_cols, tiles.v_cols, s.live_out.data() + r * tiles.v_cols);
      s.live_states[static_cast<std::size_t>(r)] = all.states[slot];
    }
    std::fill(s.live_q.data() + live * dim, s.live_q.data() + padded * dim, 0.0f);
    std::fill(s.live_out.data() + live * tiles.v_cols, s.live_out.data() + padded * tiles.v_cols, 0.0f);
    row_set const gathered{s.live_rows.data(), live, s.live_q.data(), s.live_out.data(),
                           s.live_states.data()};
    process_tile(p, tiles, block, span, kind, normaliser, mask, modifiers, gathered, s);
    for (std::int64_t r = 0; r < live; ++r) {
      std::int64_t const slot = s.live_slots[static_cast<std::size_t>(r)];
      std::copy_n(s.live_out.data() + r * tiles.v_cols, tiles.v_cols, all.out + slot * tiles.v_cols);
      all.states[slot] = s.live_states[static_cast<std::size_t>(r)];
    }
  }

  // Not inlined: inside run_block, GCC 12 made causal softmax 3 % slower (D 128, Zen 3).
  ATTNKIT_NOINLINE static void process_tile(attention_problem const& p, tile_shape const& tiles,
                                            query_block const& block, tile_span const& span, tile_kind kind,
                                            policy_arg<Normaliser> normaliser, policy_arg<Mask> mask,
                                            policy_arg<std::tuple<Modifiers...>> modifiers,
                                            row_set const& set, scratch& s) noexcept {
    std::int64_t const rows = set.count;
    std::int64_t const padded_rows =
        round_up(rows, static_cast<std::int64_t>(simd::register_blocking<Arch>::rows));
    std::int64_t const count = span.keys.end - span.keys.begin;
    std::int64_t const cols = tiles.cols; // leading dimension of the packed K^T tile and of the scores
    // Columns computed: lead + count rounded up to whole micro-kernel panels; all but the run's are -inf.
    std::int64_t const active =
        round_up(span.lead + count, static_cast<std::int64_t>(simd::register_blocking<Arch>::columns));
    float* scores = s.scores.data();
    constexpr auto mr = static_cast<std::int64_t>(simd::register_blocking<Arch>::rows);
    constexpr auto nr = static_cast<std::int64_t>(simd::register_blocking<Arch>::columns);
    constexpr float masked = -std::numeric_limits<float>::infinity();

    // A hidden key with a non-finite value must be skipped, not weighted by 0 (0 * NaN is NaN): such tiles
    // take their P V row by row, after every strip.
    bool const skip_hidden_values = kind == tile_kind::partial && !span.v_finite;

    // Each strip of mr rows from its scores to its P V, while its scores (mr x cols floats) are in L1.
    for (std::int64_t first = 0; first < padded_rows; first += mr) {
      // ---- S = (scale Q) K^T over the panels the strip can see ----
      column_range const seen = kind == tile_kind::partial
                                    ? strip_columns(block, span, set.index[first],
                                                    set.index[std::min(first + mr, rows) - 1], active, mask)
                                    : column_range{0, active};
      if (seen.end > seen.begin)
        simd::block_product<Arch, false>(mr, seen.end - seen.begin, p.qk_dim(), set.q + first * p.qk_dim(),
                                         p.qk_dim(), span.k + seen.begin / nr * span.k_panel_stride, nr,
                                         span.k_panel_stride, scores + first * cols + seen.begin, cols);

      // ---- Modifiers, mask, then the normaliser's weights, row by row ----
      for (std::int64_t r = first; r < std::min(first + mr, rows); ++r) {
        std::int64_t const i = set.index[r];
        float* row = scores + r * cols;
        // Hidden before the modifiers run: columns outside the run, and panels the strip did not compute
        // (those inside the run are hidden again by hide_keys, whatever a modifier wrote there).
        std::int64_t const computed_begin = std::max(seen.begin, span.lead);
        std::int64_t const computed_end = std::max(computed_begin, std::min(seen.end, span.lead + count));
        std::fill(row, row + computed_begin, masked);
        std::fill(row + computed_end, row + active, masked);
        float* live = row + span.lead;
        std::apply(
            [&](auto const&... m) {
              (m.template modify_row<Arch>(block, i, span.keys.begin, live, count), ...);
            },
            modifiers);
        if (kind == tile_kind::partial)
          hide_keys<Arch>(mask, block, i, span.keys.begin, live, count);

        float const rescale = normaliser.template weigh_row<Arch>(block, set.states[r], row, active);
        if (rescale != 1.0f)
          simd::scale_row<Arch>(set.out + r * tiles.v_cols, tiles.v_cols, rescale);
      }

      // ---- O += P V over the keys of the strip's panels that belong to the run: elsewhere every weight
      // is 0 ----
      std::int64_t const begin = std::max(seen.begin, span.lead) - span.lead;
      std::int64_t const end = std::min(seen.end, span.lead + count) - span.lead;
      if (end > begin && !skip_hidden_values)
        simd::block_product<Arch, true>(
            mr, tiles.v_cols, end - begin, scores + first * cols + span.lead + begin, cols,
            span.v + begin * nr, nr, span.v_panel_stride, set.out + first * tiles.v_cols, tiles.v_cols);
    }
    if (!skip_hidden_values)
      return;

    float const* weights = scores + span.lead;
    float* shown = s.shown.data();
    for (std::int64_t r = 0; r < rows; ++r) {
      float* acc = set.out + r * tiles.v_cols;
      std::fill(shown, shown + count, 0.0f);
      hide_keys<Arch>(mask, block, set.index[r], span.keys.begin, shown, count);
      for (std::int64_t j = 0; j < count; ++j) {
        if (shown[j] != 0.0f)
          continue;
        float const w = weights[r * cols + j];
        for (std::int64_t d = 0; d < tiles.v_cols; ++d)
          acc[d] += w * span.v[d / nr * span.v_panel_stride + j * nr + d % nr];
      }
    }
  }

  /// Columns [begin, end) of a tile span, whole micro-kernel panels, computed for a strip of rows.
  struct column_range {
    std::int64_t begin = 0;
    std::int64_t end = 0;
  };

  /// The panels of `span` that rows first_row..last_row (increasing indices, maybe not consecutive) may
  /// see: leading and trailing panels the mask calls empty for them are dropped (a window's edges, the
  /// causal diagonal).
  static column_range strip_columns(query_block const& block, tile_span const& span, std::int64_t first_row,
                                    std::int64_t last_row, std::int64_t active,
                                    policy_arg<Mask> mask) noexcept {
    constexpr auto nr = static_cast<std::int64_t>(simd::register_blocking<Arch>::columns);
    query_block strip = block;
    strip.row_begin = first_row;
    strip.row_end = last_row + 1;
    std::int64_t const key_of_column = span.keys.begin - span.lead;
    auto empty_panel = [&](std::int64_t column) {
      key_range const keys{std::max(key_of_column + column, span.keys.begin),
                           std::min(key_of_column + column + nr, span.keys.end)};
      return keys.empty() || mask.classify(strip, keys) == tile_kind::empty;
    };
    column_range seen{0, active};
    while (seen.begin < seen.end && empty_panel(seen.begin))
      seen.begin += nr;
    while (seen.end > seen.begin && empty_panel(seen.end - nr))
      seen.end -= nr;
    return seen;
  }
};

} // namespace attnkit::detail
