#pragma once
/// \file
/// Coordinates of one (query, key) pair, as the reference implementation sees it.

#include <cstdint>

namespace attnkit::reference {

/// Everything a variant's definition in SEMANTICS.md may depend on for one score.
struct pair_coords {
  std::int64_t batch = 0;
  std::int64_t head = 0;     ///< query head
  std::int64_t q_heads = 1;  ///< Hq
  std::int64_t row = 0;      ///< query index i
  std::int64_t position = 0; ///< p(i)
  std::int64_t key = 0;      ///< key index j
  std::int64_t q_len = 0;    ///< Sq
  std::int64_t key_len = 0;  ///< Sk
};

} // namespace attnkit::reference
