#pragma once
/// \file
/// The kernel of the `linear_family` (linear<FeatureMap>): linear attention without ever forming the
/// Sq x Sk weights. Non-causal: the associative form, S = phi(K)^T V and z = sum_j phi(k_j) over all keys,
/// then o_i = phi(q_i) S / (phi(q_i).z + eps), O(N D Dv). Causal: Lightning Attention-2's chunks, quadratic
/// inside a chunk of C queries and its C keys, and a running state (S, z) carried across chunks, so no
/// prefix sum over the whole sequence is ever stored.

#include "attnkit/arch/micro_kernel.hpp"
#include "attnkit/arch/row_scale.hpp"
#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/kernels/aligned_buffer.hpp"
#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/kv_reader.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kernels/tile_shape.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/policies/policy_error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <vector>

namespace attnkit::detail {

/// Where a run reads its starting states and writes its final ones: S [B, Hq, D, Dv] and z [B, Hq, D],
/// densely packed (linear_state's layout). Null pointers: start from zero and keep nothing.
struct linear_state_ref {
  float* kv = nullptr;      ///< S_h = sum_j lambda^(t - 1 - j) phi(k_j)^T v_j over the t keys absorbed
  float* key_sum = nullptr; ///< z_h = sum_j lambda^(t - 1 - j) phi(k_j)
  bool starts_empty = true; ///< no key absorbed yet: a query that sees no key of the call gives 0
};

/// lambda^e in float, with results below the smallest normal float flushed to 0 (a weight under 1e-38 changes
/// nothing, and subnormal operands slow every product they enter).
inline float decay_power(double lambda, double e) noexcept {
  double const w = std::pow(lambda, e);
  return w < static_cast<double>(std::numeric_limits<float>::min()) ? 0.0f : static_cast<float>(w);
}

template <class Arch, class Normaliser, class Mask> struct linear_kernel {
  static_assert(std::is_same_v<Mask, no_mask> || std::is_same_v<Mask, causal>);
  static constexpr bool is_causal = std::is_same_v<Mask, causal>;
  static constexpr auto mr = static_cast<std::int64_t>(simd::register_blocking<Arch>::rows);
  static constexpr auto nr = static_cast<std::int64_t>(simd::register_blocking<Arch>::columns);

  /// Padded sizes of one call: a chunk's rows to whole register blocks, its keys and Dv to whole
  /// micro-kernel panels, D (the rows of phi(K)^T and S) to whole register blocks.
  struct shape {
    std::int64_t chunk = 0;  // C
    std::int64_t rows = 0;   // C rounded up to mr
    std::int64_t cols = 0;   // C rounded up to nr: leading dimension of phi(K)^T and of the scores
    std::int64_t dim = 0;    // D
    std::int64_t dim_p = 0;  // D rounded up to mr
    std::int64_t v_dim = 0;  // Dv
    std::int64_t v_cols = 0; // Dv rounded up to nr
  };

  /// Per-thread scratch, allocated before the parallel loop so that nothing inside it can throw.
  struct scratch {
    aligned_buffer phi_q;   // [rows][D]      phi of a chunk's query rows, padding rows zero
    aligned_buffer k_t;     // [dim_p][cols]  phi of a chunk's keys, transposed, padding zero
    aligned_buffer v;       // [cols][v_cols] a chunk's values, padding columns zero
    aligned_buffer scores;  // [rows][cols]   phi(q_i).phi(k_j), then masked and decayed
    aligned_buffer out;     // [rows][v_cols] numerators of the chunk's rows
    aligned_buffer kv;      // [dim_p][v_cols] the running state S
    aligned_buffer key_sum; // [dim_p]        the running z
    aligned_buffer den;     // [rows]         denominators of the chunk's rows
    aligned_buffer row;     // [D]            one row on its way through the feature map
    aligned_buffer powers;  // [C]            lambda^e, e = 0 .. C - 1
  };

  static void run(attention_problem const& p, Normaliser const& normaliser, Mask, std::tuple<>) {
    run_with_state(p, normaliser, {});
  }

  /// The call, starting from the states of `state` (zero when its pointers are null) and writing the final
  /// states back there. Throws std::invalid_argument for a decay without the causal mask.
  static void run_with_state(attention_problem const& p, Normaliser const& normaliser,
                             linear_state_ref state) {
    if (!is_causal && normaliser.has_decay())
      policy_error("linear", "decay weighs keys by their distance to the query, so it needs the causal "
                             "mask; use attention<linear<...>, causal>");
    if (p.batch() == 0 || p.q_heads() == 0 || (p.q_len() == 0 && state.kv == nullptr))
      return;
    shape const s{.chunk = normaliser.chunk(),
                  .rows = round_up(normaliser.chunk(), mr),
                  .cols = round_up(normaliser.chunk(), nr),
                  .dim = p.qk_dim(),
                  .dim_p = round_up(p.qk_dim(), mr),
                  .v_dim = p.v_dim(),
                  .v_cols = round_up(p.v_dim(), nr)};
    std::int64_t const heads = p.batch() * p.q_heads();
    // Work items are whole (batch, query head) pairs: the state is a scan along the sequence, and a
    // head run by one thread in a fixed order gives the same bits whatever the thread count.
    int const threads = static_cast<int>(std::min<std::int64_t>(p.threads, heads));
    std::vector<scratch> per_thread(static_cast<std::size_t>(std::max(threads, 1)));
    for (auto& sc : per_thread) {
      sc.phi_q = aligned_buffer(s.rows * s.dim);
      sc.k_t = aligned_buffer(s.dim_p * s.cols);
      sc.v = aligned_buffer(s.cols * s.v_cols);
      sc.scores = aligned_buffer(s.rows * s.cols);
      sc.out = aligned_buffer(s.rows * s.v_cols);
      sc.kv = aligned_buffer(s.dim_p * s.v_cols);
      sc.key_sum = aligned_buffer(s.dim_p);
      sc.den = aligned_buffer(s.rows);
      sc.row = aligned_buffer(s.dim);
      sc.powers = aligned_buffer(s.chunk);
    }
    parallel_for(heads, threads, [&](std::int64_t item, int thread) noexcept {
      run_head(p, normaliser, s, state, item / p.q_heads(), item % p.q_heads(),
               per_thread[static_cast<std::size_t>(thread)]);
    });
  }

private:
  /// Everything one (batch, query head) needs, and its running state.
  struct head {
    attention_problem const& p;
    Normaliser const& normaliser;
    shape const& s;
    scratch& sc;
    std::int64_t batch, q_head, kv_head;
    float lambda;       // 1: no decay
    bool decay;         // lambda != 1
    bool state_nonzero; // S and z may hold something (else the inter-chunk product is skipped)
    bool starts_empty;  // no key before the call
    bool keeps_state;   // the caller wants the final state (so every key must reach it)
  };

  static void run_head(attention_problem const& p, Normaliser const& normaliser, shape const& s,
                       linear_state_ref state, std::int64_t b, std::int64_t h, scratch& sc) noexcept {
    float const lambda = is_causal ? normaliser.decay_for(h) : 1.0f;
    head hd{p,
            normaliser,
            s,
            sc,
            b,
            h,
            h / (p.q_heads() / p.kv_heads()),
            lambda,
            lambda != 1.0f,
            !state.starts_empty,
            state.starts_empty,
            state.kv != nullptr};
    std::int64_t const state_offset = b * p.q_heads() + h;

    // ---- Initial state: zero, or the caller's, in the padded layout ----
    for (std::int64_t d = 0; d < s.dim_p; ++d) {
      float* dst = sc.kv.data() + d * s.v_cols;
      for (std::int64_t e = 0; e < s.v_cols; ++e)
        dst[e] = 0.0f;
      sc.key_sum.data()[d] = 0.0f;
    }
    if (state.kv != nullptr && !state.starts_empty) {
      float const* src = state.kv + state_offset * s.dim * s.v_dim;
      for (std::int64_t d = 0; d < s.dim; ++d) {
        std::copy_n(src + d * s.v_dim, s.v_dim, sc.kv.data() + d * s.v_cols);
        sc.key_sum.data()[d] = state.key_sum[state_offset * s.dim + d];
      }
    }
    if (hd.decay)
      for (std::int64_t e = 0; e < s.chunk; ++e)
        sc.powers.data()[e] = decay_power(lambda, static_cast<double>(e));

    if constexpr (is_causal)
      run_causal(hd);
    else
      run_all_keys(hd);

    // ---- Final state, for linear_state ----
    if (state.kv != nullptr) {
      float* dst = state.kv + state_offset * s.dim * s.v_dim;
      for (std::int64_t d = 0; d < s.dim; ++d) {
        std::copy_n(sc.kv.data() + d * s.v_cols, s.v_dim, dst + d * s.v_dim);
        state.key_sum[state_offset * s.dim + d] = sc.key_sum.data()[d];
      }
    }
  }

  /// no_mask: absorb every key into the state, then each query row is phi(q) S / (phi(q).z + eps).
  static void run_all_keys(head& hd) noexcept {
    auto const& p = hd.p;
    auto const& s = hd.s;
    for (std::int64_t t = 0; t < p.key_len(); t += s.chunk) {
      std::int64_t const n = std::min(s.chunk, p.key_len() - t);
      load_keys(hd, t, n);
      absorb(hd, n);
    }
    for (std::int64_t i0 = 0; i0 < p.q_len(); i0 += s.chunk) {
      std::int64_t const rows = std::min(s.chunk, p.q_len() - i0);
      load_queries(hd, i0, rows);
      inter_chunk(hd, rows, [](std::int64_t) { return 1.0f; });
      store_rows(hd, i0, rows, [&](std::int64_t) { return !hd.starts_empty || p.key_len() > 0; });
    }
  }

  /// causal: chunks of C query rows i0 .. i0 + C - 1 at positions p0 = i0 + offset onwards. Keys before p0
  /// are in the state (absorbed C at a time); the chunk's own keys [p0, p0 + C) are the quadratic part.
  static void run_causal(head& hd) noexcept {
    auto const& p = hd.p;
    auto const& s = hd.s;
    std::int64_t const sk = p.key_len();
    std::int64_t t = 0; // keys [0, t) are in the state
    auto sees_any = [&](std::int64_t i) {
      return !hd.starts_empty || std::min(i + p.position_offset + 1, sk) > 0;
    };
    for (std::int64_t i0 = 0; i0 < p.q_len(); i0 += s.chunk) {
      std::int64_t const rows = std::min(s.chunk, p.q_len() - i0);
      std::int64_t const p0 = i0 + p.position_offset;
      std::int64_t const key_begin = std::clamp<std::int64_t>(p0, 0, sk);
      std::int64_t const key_end = std::clamp<std::int64_t>(p0 + rows, 0, sk);

      // ---- Keys before the chunk's first position (bottom-right with Sq < Sk) go into the state ----
      while (t < key_begin) {
        std::int64_t const n = std::min(s.chunk, key_begin - t);
        load_keys(hd, t, n);
        absorb(hd, n);
        t += n;
      }

      // ---- Inter-chunk: phi(Q_c) S, each row weighted by lambda^(p(i) - (t - 1)) ----
      load_queries(hd, i0, rows);
      double const lambda = hd.lambda;
      inter_chunk(hd, rows, [&](std::int64_t r) {
        return hd.decay ? decay_power(lambda, static_cast<double>(p0 + r - t + 1)) : 1.0f;
      });

      // ---- Intra-chunk: (phi(Q_c) phi(K_c)^T masked and decayed) V_c, then the keys join the state ----
      std::int64_t const n = key_end - key_begin;
      if (n > 0) {
        bool const v_finite = load_keys(hd, key_begin, n);
        intra_chunk(hd, rows, p0 - key_begin, n, v_finite);
        absorb(hd, n);
        t = key_end;
      }
      store_rows(hd, i0, rows, sees_any);
    }
    // A caller that keeps the state wants every key in it (with Sq = Sk this loop never runs); keys past
    // the last query's position (top-left, Sq < Sk) are otherwise skipped.
    while (hd.keeps_state && t < sk) {
      std::int64_t const n = std::min(s.chunk, sk - t);
      load_keys(hd, t, n);
      absorb(hd, n);
      t += n;
    }
  }

  /// Asks for row `row` of head (b, h) of `t`, if it exists, to be brought into L2: the loaders ask for the
  /// row one chunk ahead of the one they read, so the next chunk streams in while this one computes (without
  /// it, time per token grew by a quarter from N = 1024, where the inputs sit in L2, to N = 16384).
  static void prefetch_row(tensor_view<float const> const& t, std::int64_t b, std::int64_t h,
                           std::int64_t row) noexcept {
    if (row < t.extent(2))
      prefetch_elements(t.pointer(b, h, row, 0), t.extent(3), t.stride(3));
  }

  /// The same for a row of n elements with element stride `stride` (nothing when `first` is null).
  static void prefetch_elements(float const* first, std::int64_t n, std::int64_t stride) noexcept {
    if (first == nullptr)
      return;
    constexpr std::int64_t line = 16; // floats per 64-byte cache line
    for (std::int64_t e = 0; e < (n - 1) * stride + 1; e += line)
      __builtin_prefetch(first + e, 0, 1);
  }

  /// sum_d a[d] b[d]: one register of partial sums, then the tail (a fixed order, so fixed bits).
  static float dot(float const* a, float const* b, std::int64_t n) noexcept {
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    batch acc(0.0f);
    std::int64_t d = 0;
    for (; d + w <= n; d += w)
      acc = simd::fma(batch::load_unaligned(a + d), batch::load_unaligned(b + d), acc);
    float total = simd::reduce_sum<Arch>(acc);
    for (; d < n; ++d)
      total += a[d] * b[d];
    return total;
  }

  /// Whether a[0, n) holds no NaN or Inf: 0 * x is NaN exactly for those, and NaN survives the sum.
  static bool all_finite(float const* a, std::int64_t n) noexcept {
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    batch acc(0.0f);
    std::int64_t e = 0;
    for (; e + w <= n; e += w)
      acc += batch::load_unaligned(a + e) * batch(0.0f);
    float total = simd::reduce_sum<Arch>(acc);
    for (; e < n; ++e)
      total += a[e] * 0.0f;
    return total == 0.0f;
  }

  /// sum_c a[c], likewise.
  static float sum(float const* a, std::int64_t n) noexcept {
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    batch acc(0.0f);
    std::int64_t c = 0;
    for (; c + w <= n; c += w)
      acc += batch::load_unaligned(a + c);
    float total = simd::reduce_sum<Arch>(acc);
    for (; c < n; ++c)
      total += a[c];
    return total;
  }

  /// phi of the query rows [i0, i0 + rows) into phi_q [rows][D]; padding rows zero.
  static void load_queries(head& hd, std::int64_t i0, std::int64_t rows) noexcept {
    auto const& p = hd.p;
    std::int64_t const dim = hd.s.dim;
    std::int64_t const padded = round_up(rows, mr);
    for (std::int64_t r = 0; r < padded; ++r) {
      float* dst = hd.sc.phi_q.data() + r * dim;
      if (r >= rows) {
        std::fill(dst, dst + dim, 0.0f);
        continue;
      }
      simd::scaled_copy<Arch>(dst, 1, p.q.pointer(hd.batch, hd.q_head, i0 + r, 0), p.q.stride(3), dim, 1.0f);
      prefetch_row(p.q, hd.batch, hd.q_head, i0 + r + hd.s.chunk);
      hd.normaliser.feature_map().template map_row<Arch>(dst, dim);
    }
  }

  /// phi of the keys [k0, k0 + n) transposed into k_t [dim_p][cols], their values into v [n][v_cols];
  /// padding zero. Returns whether every value is finite (else masked products must skip hidden keys).
  static bool load_keys(head& hd, std::int64_t k0, std::int64_t n) noexcept {
    auto const& p = hd.p;
    auto const& s = hd.s;
    float* k_t = hd.sc.k_t.data();
    float* row = hd.sc.row.data();
    for (std::int64_t d = 0; d < s.dim_p; ++d)
      std::fill(k_t + d * s.cols + (d < s.dim ? n : 0), k_t + (d + 1) * s.cols, 0.0f);
    bool finite = true;
    key_cursor keys(p.kv, hd.batch, hd.kv_head), ahead(p.kv, hd.batch, hd.kv_head);
    for (std::int64_t c = 0; c < n; ++c) {
      float* dst = hd.sc.v.data() + c * s.v_cols;
      if (k0 + c + s.chunk < p.key_len()) {
        key_rows const& next = ahead.run_at(k0 + c + s.chunk);
        prefetch_elements(ahead.key(k0 + c + s.chunk), s.dim, next.k_dim_stride);
        prefetch_elements(ahead.value(k0 + c + s.chunk), s.v_dim, next.v_dim_stride);
      }
      float const* key = keys.key(k0 + c);
      if (key == nullptr) { // a key the source does not store: a zero column adds nothing to S, z or O
        for (std::int64_t d = 0; d < s.dim; ++d)
          k_t[d * s.cols + c] = 0.0f;
        std::fill(dst, dst + s.v_cols, 0.0f);
        continue;
      }
      key_rows const& run = keys.run_at(k0 + c);
      simd::scaled_copy<Arch>(row, 1, key, run.k_dim_stride, s.dim, 1.0f);
      hd.normaliser.feature_map().template map_row<Arch>(row, s.dim);
      for (std::int64_t d = 0; d < s.dim; ++d)
        k_t[d * s.cols + c] = row[d];
      simd::scaled_copy<Arch>(dst, 1, run.value(k0 + c), run.v_dim_stride, s.v_dim, 1.0f);
      finite = finite && all_finite(dst, s.v_dim);
      std::fill(dst + s.v_dim, dst + s.v_cols, 0.0f);
    }
    return finite;
  }

  /// out = phi(Q_c) S and den = phi(Q_c).z, row r weighted by weight(r).
  template <class Weight> static void inter_chunk(head& hd, std::int64_t rows, Weight&& weight) noexcept {
    auto const& s = hd.s;
    float* out = hd.sc.out.data();
    float* den = hd.sc.den.data();
    std::int64_t const padded = round_up(rows, mr);
    if (!hd.state_nonzero) {
      std::fill(out, out + padded * s.v_cols, 0.0f);
      std::fill(den, den + padded, 0.0f);
      return;
    }
    simd::block_product<Arch, false>(padded, s.v_cols, s.dim, hd.sc.phi_q.data(), s.dim, hd.sc.kv.data(),
                                     s.v_cols, nr, out, s.v_cols);
    float const* z = hd.sc.key_sum.data();
    for (std::int64_t r = 0; r < rows; ++r) {
      float const* q = hd.sc.phi_q.data() + r * s.dim;
      float const w = weight(r);
      den[r] = w * dot(q, z, s.dim);
      if (w != 1.0f)
        simd::scale_row<Arch>(out + r * s.v_cols, s.v_cols, w);
    }
  }

  /// The chunk's own keys [0, n) (call keys key_begin + c): row r sits at position key_begin + shift + r and
  /// sees key c iff c <= shift + r, weighted by lambda^(shift + r - c).
  static void intra_chunk(head& hd, std::int64_t rows, std::int64_t shift, std::int64_t n,
                          bool v_finite) noexcept {
    auto const& s = hd.s;
    float* scores = hd.sc.scores.data();
    float* out = hd.sc.out.data();
    float* den = hd.sc.den.data();
    float const* v = hd.sc.v.data();
    float const* powers = hd.sc.powers.data();
    // Strips of mr rows: a strip computes only the panels of keys its last row can see (the causal
    // diagonal leaves the rest of the tile at zero weight).
    for (std::int64_t r0 = 0; r0 < rows; r0 += mr) {
      std::int64_t const r_end = std::min(r0 + mr, rows);
      std::int64_t const need = std::min(n, shift + r_end); // keys [0, need) are seen by some row
      if (need <= 0)
        continue;
      simd::block_product<Arch, false>(mr, round_up(need, nr), s.dim, hd.sc.phi_q.data() + r0 * s.dim, s.dim,
                                       hd.sc.k_t.data(), s.cols, nr, scores + r0 * s.cols, s.cols);
      for (std::int64_t r = r0; r < r0 + mr; ++r) {
        float* row = scores + r * s.cols;
        std::int64_t const last = r < rows ? std::min(need, std::max<std::int64_t>(shift + r + 1, 0)) : 0;
        std::fill(row + last, row + need, 0.0f); // hidden keys, by assignment (their scores may be NaN)
        if (hd.decay)
          for (std::int64_t c = 0; c < last; ++c)
            row[c] *= powers[shift + r - c];
        if (r < rows)
          den[r] += sum(row, last);
      }
      if (v_finite) {
        simd::block_product<Arch, true>(mr, s.v_cols, need, scores + r0 * s.cols, s.cols, v, s.v_cols, nr,
                                        out + r0 * s.v_cols, s.v_cols);
        continue;
      }
      // 0 * NaN is NaN: with a non-finite value in the chunk, hidden keys are skipped, not weighted by 0.
      for (std::int64_t r = r0; r < r_end; ++r) {
        std::int64_t const last = std::min(need, std::max<std::int64_t>(shift + r + 1, 0));
        for (std::int64_t c = 0; c < last; ++c)
          for (std::int64_t e = 0; e < s.v_cols; ++e)
            out[r * s.v_cols + e] += scores[r * s.cols + c] * v[c * s.v_cols + e];
      }
    }
  }

  /// The n keys in k_t and v join the state: S = lambda^n S + sum_c lambda^(n - 1 - c) phi(k_c)^T v_c, and
  /// z likewise. Scales k_t's columns in place.
  static void absorb(head& hd, std::int64_t n) noexcept {
    auto const& s = hd.s;
    float* kv = hd.sc.kv.data();
    float* z = hd.sc.key_sum.data();
    float* k_t = hd.sc.k_t.data();
    if (hd.decay) {
      float const whole = decay_power(hd.lambda, static_cast<double>(n));
      for (std::int64_t i = 0; i < s.dim_p * s.v_cols; ++i)
        kv[i] *= whole;
      for (std::int64_t d = 0; d < s.dim; ++d) {
        z[d] *= whole;
        for (std::int64_t c = 0; c < n; ++c)
          k_t[d * s.cols + c] *= hd.sc.powers.data()[n - 1 - c];
      }
    }
    simd::block_product<Arch, true>(s.dim_p, s.v_cols, n, k_t, s.cols, hd.sc.v.data(), s.v_cols, nr, kv,
                                    s.v_cols);
    for (std::int64_t d = 0; d < s.dim; ++d)
      z[d] += sum(k_t + d * s.cols, n);
    hd.state_nonzero = true;
  }

  /// o_i = out_i / (den_i + eps), or out_i unnormalised; 0 for a row that sees no key.
  template <class SeesAny>
  static void store_rows(head& hd, std::int64_t i0, std::int64_t rows, SeesAny&& sees_any) noexcept {
    auto const& p = hd.p;
    auto const& s = hd.s;
    bool const normalise = hd.normaliser.normalised();
    float const eps = hd.normaliser.eps();
    for (std::int64_t r = 0; r < rows; ++r) {
      float* dst = p.o.pointer(hd.batch, hd.q_head, i0 + r, 0);
      float const* num = hd.sc.out.data() + r * s.v_cols;
      if (!sees_any(i0 + r)) {
        for (std::int64_t e = 0; e < s.v_dim; ++e)
          dst[e * p.o.stride(3)] = 0.0f;
        continue;
      }
      float const inv = normalise ? 1.0f / (hd.sc.den.data()[r] + eps) : 1.0f;
      // Whole registers: output rows are rarely in cache, and one store per lane filled the store buffer
      // with misses (time per token rose by a third from N = 1024 to N = 65536 with scalar stores).
      simd::scaled_copy<Arch>(dst, p.o.stride(3), num, 1, s.v_dim, inv);
    }
  }
};

} // namespace attnkit::detail
