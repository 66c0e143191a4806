#pragma once
/// \file
/// What a normaliser reports for a finished query row.

#include <limits>

namespace attnkit {

/// What a normaliser's `finish_row` tells the kernel: the factor for the accumulated output row and
/// the row's log-sum-exp.
struct row_result {
  float output_scale = 0.0f;
  float lse = -std::numeric_limits<float>::infinity();
};

} // namespace attnkit
