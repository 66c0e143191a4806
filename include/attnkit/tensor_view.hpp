#pragma once
/// \file
/// Strided, non-owning views over caller memory. Attention tensors are always indexed in the logical
/// order [batch, heads, sequence, dim]; the strides say how that order maps onto memory, so both
/// [B, H, S, D] and [B, S, H, D] buffers work without copies.

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace attnkit {

/// A non-owning view of `Rank` dimensions; extents and strides are in elements.
template <class T, std::size_t Rank = 4> class tensor_view {
public:
  using element_type = T;
  using index_type = std::int64_t;
  using extents_type = std::array<index_type, Rank>;
  static constexpr std::size_t rank = Rank;

  tensor_view() = default;

  /// A densely packed row-major view (the last dimension is contiguous).
  constexpr tensor_view(T* data, extents_type const& extents) noexcept
      : data_(data), extents_(extents), strides_(row_major_strides(extents)) {}

  /// A view with explicit strides.
  constexpr tensor_view(T* data, extents_type const& extents, extents_type const& strides) noexcept
      : data_(data), extents_(extents), strides_(strides) {}

  /// A mutable view converts to a read-only one.
  template <class U>
  requires(std::is_const_v<T>&& std::is_same_v<T, U const>) constexpr tensor_view(
      tensor_view<U, Rank> const& other) noexcept // NOLINT: implicit by design
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr extents_type const& extents() const noexcept { return extents_; }
  constexpr extents_type const& strides() const noexcept { return strides_; }
  constexpr index_type extent(std::size_t dim) const noexcept { return extents_[dim]; }
  constexpr index_type stride(std::size_t dim) const noexcept { return strides_[dim]; }

  /// Number of elements (the product of the extents).
  constexpr index_type size() const noexcept {
    // Unsigned, so that absurd extents wrap instead of overflowing; validation rejects them anyway.
    std::uint64_t n = 1;
    for (auto e : extents_)
      n *= static_cast<std::uint64_t>(e);
    return static_cast<index_type>(n);
  }

  /// Pointer to the element at the given indices.
  template <class... Indices>
  requires(sizeof...(Indices) == Rank) constexpr T* pointer(Indices... indices) const noexcept {
    std::array<index_type, Rank> const idx{static_cast<index_type>(indices)...};
    index_type offset = 0;
    for (std::size_t d = 0; d < Rank; ++d)
      offset += idx[d] * strides_[d];
    return data_ + offset;
  }

  template <class... Indices>
  requires(sizeof...(Indices) == Rank) constexpr T& operator()(Indices... indices) const noexcept {
    return *pointer(indices...);
  }

  /// Strides of a densely packed row-major array of these extents.
  static constexpr extents_type row_major_strides(extents_type const& extents) noexcept {
    extents_type strides{};
    std::uint64_t running = 1; // unsigned: wraps rather than overflows for absurd extents
    for (std::size_t d = Rank; d-- > 0;) {
      strides[d] = static_cast<index_type>(running);
      running *= static_cast<std::uint64_t>(extents[d]);
    }
    return strides;
  }

private:
  T* data_ = nullptr;
  extents_type extents_{};
  extents_type strides_{};
};

/// View of a buffer laid out as [batch, heads, seq, dim] (the usual PyTorch layout).
template <class T>
constexpr tensor_view<T, 4> bhsd(T* data, std::int64_t batch, std::int64_t heads, std::int64_t seq,
                                 std::int64_t dim) noexcept {
  return tensor_view<T, 4>(data, {batch, heads, seq, dim});
}

/// View of a buffer laid out as [batch, seq, heads, dim] (the usual inference-engine layout), indexed
/// as [batch, heads, seq, dim].
template <class T>
constexpr tensor_view<T, 4> bshd(T* data, std::int64_t batch, std::int64_t seq, std::int64_t heads,
                                 std::int64_t dim) noexcept {
  // Unsigned products: absurd sizes wrap (and fail validation) instead of overflowing.
  auto const row =
      static_cast<std::int64_t>(static_cast<std::uint64_t>(heads) * static_cast<std::uint64_t>(dim));
  auto const item =
      static_cast<std::int64_t>(static_cast<std::uint64_t>(seq) * static_cast<std::uint64_t>(row));
  return tensor_view<T, 4>(data, {batch, heads, seq, dim}, {item, dim, row, 1});
}

/// View of a log-sum-exp buffer laid out as [batch, heads, seq].
template <class T>
constexpr tensor_view<T, 3> bhs(T* data, std::int64_t batch, std::int64_t heads, std::int64_t seq) noexcept {
  return tensor_view<T, 3>(data, {batch, heads, seq});
}

} // namespace attnkit
