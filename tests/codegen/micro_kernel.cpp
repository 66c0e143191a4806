// The micro-kernel alone, compiled to assembly by scripts/check_codegen.sh under several compilers and
// -march/-mtune choices: its inner loop must load each B vector once per row block (no FMA with a memory
// operand other than an embedded broadcast) and keep every accumulator in a register (no spills).
#include <attnkit/arch/micro_kernel.hpp>

#include <cstdint>

namespace {

template <class Arch>
[[gnu::noinline]] void product(std::int64_t depth, float const* a, std::int64_t lda, float const* b,
                               std::int64_t ldb, float* c, std::int64_t ldc) {
  using blocking = attnkit::simd::register_blocking<Arch>;
  attnkit::simd::micro_kernel<Arch, blocking::rows, blocking::vectors, true>(depth, a, lda, b, ldb, c, ldc);
}

} // namespace

// Exported so the compiler keeps the instantiation; the arch is the widest the -march allows.
void micro_kernel_under_test(std::int64_t depth, float const* a, std::int64_t lda, float const* b,
                             std::int64_t ldb, float* c, std::int64_t ldc) {
  product<xsimd::default_arch>(depth, a, lda, b, ldb, c, ldc);
}
