#pragma once
/// \file
/// The one place that talks to OpenMP. Without OpenMP everything runs on the calling thread.

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace attnkit::detail {

/// Threads a call will use: `requested` if positive, else OpenMP's default; 1 without OpenMP.
inline int resolve_thread_count(int requested) noexcept {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

/// Calls body(item, thread_index) for every item in [0, count). Items are handed out one at a time
/// (causal blocks differ in cost); which thread runs an item never changes what it computes.
/// `body` must not throw.
template <class Body> void parallel_for(std::int64_t count, int threads, Body&& body) noexcept {
#ifdef _OPENMP
  if (threads > 1 && count > 1) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t item = 0; item < count; ++item)
      body(item, omp_get_thread_num());
    return;
  }
#endif
  (void)threads;
  for (std::int64_t item = 0; item < count; ++item)
    body(item, 0);
}

} // namespace attnkit::detail
