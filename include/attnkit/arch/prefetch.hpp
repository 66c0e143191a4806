#pragma once
/// \file
/// Software prefetches the compiler keeps: for reads the hardware prefetcher does not foresee (many short
/// rows far apart).

#if defined(__GNUC__)
// Inlined on purpose: GCC 12 takes a function whose only effect is a prefetch for a `const` one and deletes
// its calls.
#define ATTNKIT_PREFETCH_INLINE [[gnu::always_inline]] inline
#else
#define ATTNKIT_PREFETCH_INLINE inline
#endif

namespace attnkit::simd {

/// Asks for the cache line holding `p` in L2 (a hint: never faults, may be dropped).
ATTNKIT_PREFETCH_INLINE void prefetch_to_l2(float const* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, 2); // read; locality 2 is prefetcht1 on x86-64 (L2)
#else
  (void)p;
#endif
}

/// Asks for the cache line holding `p` in L1 (a hint: never faults, may be dropped).
ATTNKIT_PREFETCH_INLINE void prefetch_to_l1(float const* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, 3); // read; locality 3 is prefetcht0 on x86-64 (L1)
#else
  (void)p;
#endif
}

} // namespace attnkit::simd
