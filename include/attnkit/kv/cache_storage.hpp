#pragma once
/// \file
/// The memory of the owning KV caches: zeroed floats that, when large, sit in transparent huge pages.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace attnkit::detail {

/// Frees what `::operator new(bytes, std::align_val_t{alignment})` gave.
struct aligned_float_delete {
  std::size_t alignment = 64;
  void operator()(float* p) const noexcept { ::operator delete (p, std::align_val_t{alignment}); }
};

/// A zero-initialised float array owned by a KV cache. From 2 MiB up it is 2 MiB-aligned and, on Linux,
/// advised into transparent huge pages (madvise MADV_HUGEPAGE, which works when THP is `always` or
/// `madvise`): decode reads the whole cache on every step, and with 4 KiB pages every 8 keys of a head cost
/// a TLB miss (Zen 3, GQA decode over 64k keys, 2 threads: 22 -> 23 GB/s contiguous, more for paged
/// caches, whose pages are scattered). Copies copy the contents.
class cache_storage {
public:
  static constexpr std::size_t huge_page = std::size_t{2} << 20;

  cache_storage() = default;
  explicit cache_storage(std::size_t count) : count_(count) {
    if (count_ == 0)
      return;
    std::size_t const bytes = count_ * sizeof(float);
    std::size_t const alignment = bytes >= huge_page ? huge_page : 64;
    std::size_t const rounded = (bytes + alignment - 1) / alignment * alignment;
    data_.reset(static_cast<float*>(::operator new (rounded, std::align_val_t{alignment})));
    data_.get_deleter().alignment = alignment;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == huge_page) // before the first touch below, which is when the pages are chosen
      ::madvise(data_.get(), rounded, MADV_HUGEPAGE); // a hint: failure leaves ordinary pages
#endif
    std::memset(data_.get(), 0, bytes);
  }
  cache_storage(cache_storage const& other) : cache_storage(other.count_) {
    if (count_ > 0)
      std::memcpy(data_.get(), other.data_.get(), count_ * sizeof(float));
  }
  cache_storage& operator=(cache_storage const& other) {
    if (this != &other)
      *this = cache_storage(other);
    return *this;
  }
  cache_storage(cache_storage&& other) noexcept
      : data_(std::move(other.data_)), count_(std::exchange(other.count_, 0)) {}
  cache_storage& operator=(cache_storage&& other) noexcept {
    data_ = std::move(other.data_);
    count_ = std::exchange(other.count_, 0);
    return *this;
  }

  float* data() noexcept {
    return data_.get();
  }
  float const* data() const noexcept {
    return data_.get();
  }
  std::size_t size() const noexcept {
    return count_;
  }

private:
  std::unique_ptr<float, aligned_float_delete> data_;
  std::size_t count_ = 0;
};

} // namespace attnkit::detail
