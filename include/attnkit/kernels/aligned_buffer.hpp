#pragma once
/// \file
/// Cache-line aligned scratch memory for packed tiles.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace attnkit::detail {

/// An owning, zero-initialised float array aligned to 64 bytes (one cache line, one AVX-512 register).
class aligned_buffer {
public:
  static constexpr std::align_val_t alignment{64};

  /// Tag for a buffer whose contents start undefined (the caller writes every element it reads).
  static constexpr struct uninitialised_t {
  } uninitialised{};

  aligned_buffer() = default;
  explicit aligned_buffer(std::int64_t count) : aligned_buffer(count, uninitialised) {
    for (std::int64_t i = 0; i < size_; ++i)
      data_.get()[i] = 0.0f;
  }
  aligned_buffer(std::int64_t count, uninitialised_t)
      : data_(count > 0 ? static_cast<float*>(
                              ::operator new(static_cast<std::size_t>(count) * sizeof(float), alignment))
                        : nullptr),
        size_(count > 0 ? count : 0) {}

  float* data() const noexcept { return data_.get(); }
  std::int64_t size() const noexcept { return size_; }

private:
  struct deleter {
    void operator()(float* p) const noexcept { ::operator delete(p, alignment); }
  };
  std::unique_ptr<float, deleter> data_;
  std::int64_t size_ = 0;
};

} // namespace attnkit::detail
