// The decode kernel's scores for its block of rows (rows_scores<score_rows>), compiled to assembly by
// scripts/check_codegen.sh: each K vector is loaded once per block of keys for all the rows (no FMA with a
// memory operand other than an embedded broadcast) and every accumulator stays in a register (no spills).
#include <attnkit/arch/row_products.hpp>

#include <cstdint>

// Exported so the compiler keeps the instantiation; the arch is the widest the -march allows.
void decode_scores_under_test(float const* const* q, std::int64_t dim, float const* k,
                              std::int64_t key_stride, std::int64_t n, float* const* scores) {
  using arch = xsimd::default_arch;
  attnkit::simd::rows_scores<arch, attnkit::simd::score_rows<arch>>(q, dim, k, key_stride, n, scores);
}
