#pragma once
/// \file
/// A K/V source as the kernels see it: one function pointer to its `rows`, so each kernel is compiled once
/// whatever the source type, and a cursor that walks one head's keys a run at a time.

#include "attnkit/kv/key_rows.hpp"
#include "attnkit/kv/kv_source.hpp"

#include <cstdint>

namespace attnkit::detail {

class kv_reader {
public:
  kv_reader() = default;
  /// Reads `source`, which must outlive the reader.
  template <kv_source Source>
  explicit kv_reader(Source const& source) noexcept
      : source_(&source), rows_(&rows_of<Source>), batch_(source.batch()), kv_heads_(source.kv_heads()),
        key_len_(source.key_len()), qk_dim_(source.qk_dim()), v_dim_(source.v_dim()) {}

  std::int64_t batch() const noexcept { return batch_; }
  std::int64_t kv_heads() const noexcept { return kv_heads_; }
  std::int64_t key_len() const noexcept { return key_len_; }
  std::int64_t qk_dim() const noexcept { return qk_dim_; }
  std::int64_t v_dim() const noexcept { return v_dim_; }

  /// The stored run holding `from` or the first after it (see kv_source); empty past the last key.
  key_rows rows(std::int64_t b, std::int64_t h, std::int64_t from) const noexcept {
    if (from >= key_len_)
      return {.begin = key_len_, .end = key_len_};
    return rows_(source_, b, h, from);
  }

private:
  template <class Source>
  static key_rows rows_of(void const* source, std::int64_t b, std::int64_t h, std::int64_t from) noexcept {
    return static_cast<Source const*>(source)->rows(b, h, from);
  }

  void const* source_ = nullptr;
  key_rows (*rows_)(void const*, std::int64_t, std::int64_t, std::int64_t) noexcept = nullptr;
  std::int64_t batch_ = 0, kv_heads_ = 0, key_len_ = 0, qk_dim_ = 0, v_dim_ = 0;
};

/// K and V rows of one (batch, KV head) by key position, fetching a new run only when the key leaves the
/// current one: cheap for keys visited in order.
class key_cursor {
public:
  key_cursor(kv_reader const& kv, std::int64_t batch, std::int64_t head) noexcept
      : kv_(&kv), batch_(batch), head_(head) {}

  /// The run holding key j, or the first stored run after j when j is not stored.
  key_rows const& run_at(std::int64_t j) noexcept {
    // Keys in [asked_, run_.begin) are known not to be stored: no new lookup for them.
    if (j < asked_ || j >= run_.end) {
      asked_ = j;
      run_ = kv_->rows(batch_, head_, j);
    }
    return run_;
  }
  /// K row of key j, or null when j is not stored.
  float const* key(std::int64_t j) noexcept {
    key_rows const& run = run_at(j);
    return run.begin <= j && j < run.end ? run.key(j) : nullptr;
  }
  /// V row of key j, or null when j is not stored.
  float const* value(std::int64_t j) noexcept {
    key_rows const& run = run_at(j);
    return run.begin <= j && j < run.end ? run.value(j) : nullptr;
  }

private:
  kv_reader const* kv_;
  std::int64_t batch_, head_;
  std::int64_t asked_ = 0;
  key_rows run_{};
};

} // namespace attnkit::detail
