// The decode kernel's O += P V for its block of rows (rows_times_values<value_rows>), compiled to assembly by
// scripts/check_codegen.sh: each V vector is loaded once per key for all the rows (no FMA with a memory
// operand other than an embedded broadcast) and every accumulator stays in a register (no spills).
#include <attnkit/arch/row_products.hpp>

#include <cstdint>

// Exported so the compiler keeps the instantiation; the arch is the widest the -march allows.
void decode_values_under_test(float const* const* weights, float const* v, std::int64_t value_stride,
                              std::int64_t n, std::int64_t v_dim, float* const* out) {
  using arch = xsimd::default_arch;
  attnkit::simd::rows_times_values<arch, attnkit::simd::value_rows<arch>>(weights, v, value_stride, n, v_dim,
                                                                          out);
}
