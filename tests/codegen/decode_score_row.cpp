// The decode kernel's scores for a single row (rows_scores<1>: MHA, or the last row of a group), compiled to
// assembly by scripts/check_codegen.sh: its W accumulators stay in registers (no reloads from the stack);
// each K vector is used once, so here an FMA may take it straight from memory.
#include <attnkit/arch/row_products.hpp>

#include <cstdint>

// Exported so the compiler keeps the instantiation; the arch is the widest the -march allows.
void decode_score_row_under_test(float const* const* q, std::int64_t dim, float const* k,
                                 std::int64_t key_stride, std::int64_t n, float* const* scores) {
  attnkit::simd::rows_scores<xsimd::default_arch, 1>(q, dim, k, key_stride, n, scores);
}
