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

/// Asks for the cache line holding `p`, for reading, with GCC's temporal locality `Locality` (3 is
/// prefetcht0 on x86-64, into L1; 2 is prefetcht1, into L2). A hint: never faults, may be dropped.
template <int Locality> ATTNKIT_PREFETCH_INLINE void prefetch_for_read(float const* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, Locality);
#else
  (void)p;
#endif
}

/// Asks for the cache line holding `p` in L2.
ATTNKIT_PREFETCH_INLINE void prefetch_to_l2(float const* p) noexcept {
  simd::prefetch_for_read<2>(p);
}

/// Asks for the cache line holding `p` in L1.
ATTNKIT_PREFETCH_INLINE void prefetch_to_l1(float const* p) noexcept {
  simd::prefetch_for_read<3>(p);
}

} // namespace attnkit::simd
