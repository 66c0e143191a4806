#pragma once
/// \file
/// Cache-line aligned scratch memory for packed tiles.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace attnkit::detail {

/// An owning, uninitialised float array aligned to 64 bytes (one cache line, one AVX-512 register).
class aligned_buffer {
public:
  static constexpr std::align_val_t alignment{64};

  aligned_buffer() = default;
  /// `count` floats whose contents start undefined: callers write every element they read. (No loop
  /// here on purpose: this file is not a template on the architecture, see docs/design.md.)
  explicit aligned_buffer(std::int64_t count)
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
