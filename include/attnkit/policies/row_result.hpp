#pragma once
/// \file
/// What a normaliser reports for a finished query row, and how it merges partial rows.

#include <limits>

namespace attnkit {

/// What a normaliser's `finish_row` tells the kernel: the factor for the accumulated output row and
/// the row's log-sum-exp.
struct row_result {
  float output_scale = 0.0f;
  float lse = -std::numeric_limits<float>::infinity();
};

/// How to combine the accumulated outputs of one row over two disjoint sets of keys, as a normaliser's
/// optional `merge_rows` hook returns it: O = into * O_into + from * O_from.
struct merge_factors {
  float into = 1.0f;
  float from = 1.0f;
};

} // namespace attnkit
