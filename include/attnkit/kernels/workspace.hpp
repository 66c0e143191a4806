#pragma once
/// \file
/// Reusable scratch memory for the packed K/V of a call. Fresh allocations of tens of MiB per call
/// cost page faults worth several percent of a prefill; keeping one buffer per calling thread and
/// growing it on demand removes that. The memory is held until the calling thread exits.

#include "attnkit/kernels/aligned_buffer.hpp"

#include <cstdint>

namespace attnkit::detail {

/// At least `count` floats of uninitialised, 64-byte aligned memory, private to the calling thread and
/// valid until its next call. Callers must not nest uses. A template on the architecture, like
/// everything a kernel reaches.
template <class Arch> float* thread_workspace(std::int64_t count) {
  thread_local aligned_buffer buffer;
  if (buffer.size() < count)
    buffer = aligned_buffer(count);
  return buffer.data();
}

} // namespace attnkit::detail
