#pragma once
/// \file
/// Feature maps of linear attention ("Transformers are RNNs", Katharopoulos et al. 2020): phi is applied
/// to each row of q and k, and phi(q).phi(k) replaces exp(q.k) (SEMANTICS.md, "linear").

#include "attnkit/arch/row_map.hpp"
#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_exp.hpp"

#include <concepts>
#include <cstdint>

namespace attnkit {

/// A feature map rewrites one row of q or k (n = D floats) in place. It is a template on the SIMD
/// architecture, like everything a kernel reaches; it may look at the whole row (a row-wise
/// normalisation is a valid map), but must give a row of the same length. The fp64 reference finds its
/// meaning through `apply_feature_map(map, std::vector<double>& row)` (reference/linear.hpp).
template <class F>
concept feature_map = std::copy_constructible<F> && requires(F const& f, float* row, std::int64_t n) {
  { f.template map_row<xsimd::default_arch>(row, n) } -> std::same_as<void>;
};

/// phi(x) = elu(x) + 1: x + 1 for x > 0, exp(x) otherwise. Always positive, so the normaliser never
/// divides by a sum with cancellation (Katharopoulos et al.'s choice).
struct elu1 {
  template <class Arch> void map_row(float* row, std::int64_t n) const noexcept {
    using batch = simd::float_batch<Arch>;
    simd::map_row<Arch>(row, n, [](batch const& x, std::int64_t) {
      // e^min(x, 0) = 2^(min(x, 0) log2 e): the lanes that take x + 1 never reach positive exponents. A
      // NaN lane fails x <= 0 and stays NaN (x + 1).
      batch const e = simd::exp2_nonpositive<Arch>(xsimd::min(x, batch(0.0f)) * batch(simd::log2_e));
      return xsimd::select(x <= batch(0.0f), e, x + batch(1.0f));
    });
  }
};

/// phi(x) = max(x, 0).
struct relu {
  template <class Arch> void map_row(float* row, std::int64_t n) const noexcept {
    using batch = simd::float_batch<Arch>;
    simd::map_row<Arch>(row, n, [](batch const& x, std::int64_t) {
      return xsimd::select(x <= batch(0.0f), batch(0.0f), x); // a NaN lane fails x <= 0 and stays NaN
    });
  }
};

/// phi(x) = x. With it, phi(q).phi(k) can be negative or zero, so normalised outputs may cancel badly;
/// it is meant for the unnormalised form (linear_options{.normalise = false}).
struct identity_map {
  template <class Arch> void map_row(float*, std::int64_t) const noexcept {}
};

} // namespace attnkit
