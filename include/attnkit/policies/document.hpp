#pragma once
/// \file
/// Document (segment) masking for packed variable-length sequences: a query sees only the keys of its own
/// segment.

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// Key j is visible to query i iff seg_q(i) == seg_k(j) (SEMANTICS.md). The ids are indexed by query row
/// and key index (not by position), either shared by every batch entry or given per batch entry. When
/// the key ids of a batch entry never decrease (sequences packed one after another, the usual case), the
/// kernel visits only the keys of the segments a query block holds; otherwise it classifies every tile.
class document {
public:
  /// Packed self-attention: the same ids for queries and keys (so Sq = Sk), shared by every batch entry.
  explicit document(std::vector<std::int32_t> segments) : document(1, segments, segments) {}

  /// One id per query (Sq) and one per key (Sk), shared by every batch entry.
  document(std::vector<std::int32_t> query_segments, std::vector<std::int32_t> key_segments)
      : document(1, std::move(query_segments), std::move(key_segments)) {}

  /// Ids per batch entry: `batch` rows of Sq query ids and `batch` rows of Sk key ids, row-major.
  /// Throws std::invalid_argument if batch < 1 or a list does not split into `batch` equal rows.
  document(std::int64_t batch, std::vector<std::int32_t> query_segments,
           std::vector<std::int32_t> key_segments)
      : batch_(batch), query_(std::move(query_segments)), key_(std::move(key_segments)) {
    if (batch < 1)
      detail::policy_error("document", "batch = " + std::to_string(batch) + " must be >= 1");
    for (auto const& [ids, name] : {std::pair{&query_, "query_segments"}, std::pair{&key_, "key_segments"}})
      if (static_cast<std::int64_t>(ids->size()) % batch != 0)
        detail::policy_error("document", std::string(name) + " has " + std::to_string(ids->size()) +
                                             " ids, not a multiple of batch = " + std::to_string(batch));
    q_len_ = static_cast<std::int64_t>(query_.size()) / batch;
    key_len_ = static_cast<std::int64_t>(key_.size()) / batch;
    for (std::int64_t b = 0; b < batch; ++b) {
      auto const first = key_.begin() + b * key_len_;
      keys_sorted_.push_back(std::is_sorted(first, first + key_len_));
    }
  }

  /// Segment ids for sequences of the given lengths packed one after another: 0 for the first lengths[0]
  /// tokens, 1 for the next lengths[1], ... Throws std::invalid_argument on a negative length.
  static std::vector<std::int32_t> segments_from_lengths(std::vector<std::int64_t> const& lengths) {
    std::vector<std::int32_t> ids;
    for (std::size_t s = 0; s < lengths.size(); ++s) {
      if (lengths[s] < 0)
        detail::policy_error("document", "lengths[" + std::to_string(s) +
                                             "] = " + std::to_string(lengths[s]) + " must be >= 0");
      ids.insert(ids.end(), static_cast<std::size_t>(lengths[s]), static_cast<std::int32_t>(s));
    }
    return ids;
  }

  /// seg_q(i) of batch entry b.
  std::int32_t query_segment(std::int64_t b, std::int64_t row) const noexcept {
    return query_[static_cast<std::size_t>(entry(b) * q_len_ + row)];
  }
  /// seg_k(j) of batch entry b.
  std::int32_t key_segment(std::int64_t b, std::int64_t key) const noexcept {
    return key_[static_cast<std::size_t>(entry(b) * key_len_ + key)];
  }

  /// The ids must cover the call: Sq query ids, Sk key ids, one row or one per batch entry.
  void validate(call_shape const& s) const {
    if (batch_ != 1 && batch_ != s.batch)
      detail::policy_error("document", "segment ids are given for batch = " + std::to_string(batch_) +
                                           " entries but the call has batch = " + std::to_string(s.batch));
    if (q_len_ != s.q_len)
      detail::policy_error("document", "query_segments has " + std::to_string(q_len_) +
                                           " ids per batch entry but Sq = " + std::to_string(s.q_len));
    if (key_len_ != s.key_len)
      detail::policy_error("document", "key_segments has " + std::to_string(key_len_) +
                                           " ids per batch entry but Sk = " + std::to_string(s.key_len));
  }

  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    if (!keys_sorted_[static_cast<std::size_t>(entry(b.batch))])
      return {from, b.key_len};
    auto const [low, high] = query_ids(b);
    auto const first = key_.begin() + entry(b.batch) * key_len_;
    auto const begin = std::lower_bound(first, first + key_len_, low) - first;
    auto const end = std::upper_bound(first, first + key_len_, high) - first;
    return {std::max<std::int64_t>(from, begin), end};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    auto const [q_low, q_high] = query_ids(b);
    std::int32_t k_low = key_segment(b.batch, t.begin), k_high = k_low;
    if (keys_sorted_[static_cast<std::size_t>(entry(b.batch))]) {
      k_high = key_segment(b.batch, t.end - 1);
    } else {
      for (std::int64_t j = t.begin + 1; j < t.end; ++j) {
        k_low = std::min(k_low, key_segment(b.batch, j));
        k_high = std::max(k_high, key_segment(b.batch, j));
      }
    }
    if (k_high < q_low || k_low > q_high)
      return tile_kind::empty;
    return q_low == q_high && k_low == k_high ? tile_kind::full : tile_kind::partial;
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    return query_segment(b.batch, row) == key_segment(b.batch, key);
  }

  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    std::int32_t const id = query_segment(b.batch, row);
    std::int32_t const* keys = key_.data() + entry(b.batch) * key_len_ + first_key; // ids of the row's keys
    if (keys_sorted_[static_cast<std::size_t>(entry(b.batch))]) {
      auto const [low, high] = std::equal_range(keys, keys + n, id);
      hide_keys_outside({first_key + (low - keys), first_key + (high - keys)}, first_key, scores, n);
      return;
    }
    constexpr float hidden = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < n; ++j) // branch-free: compilers vectorise it
      scores[j] = keys[j] == id ? scores[j] : hidden;
  }

private:
  std::int64_t entry(std::int64_t b) const noexcept { return batch_ == 1 ? 0 : b; }

  /// Smallest and largest query id of the block's rows.
  std::pair<std::int32_t, std::int32_t> query_ids(query_block const& b) const noexcept {
    std::int32_t low = query_segment(b.batch, b.row_begin), high = low;
    for (std::int64_t i = b.row_begin + 1; i < b.row_end; ++i) {
      low = std::min(low, query_segment(b.batch, i));
      high = std::max(high, query_segment(b.batch, i));
    }
    return {low, high};
  }

  std::int64_t batch_;
  std::vector<std::int32_t> query_; // [batch_][q_len_]
  std::vector<std::int32_t> key_;   // [batch_][key_len_]
  std::int64_t q_len_ = 0;
  std::int64_t key_len_ = 0;
  std::vector<bool> keys_sorted_; // per batch entry: key ids never decrease
};

} // namespace attnkit
