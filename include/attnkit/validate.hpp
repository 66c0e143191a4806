#pragma once
/// \file
/// Argument checks at the API boundary. Every failure throws std::invalid_argument with a message that
/// names the argument, the dimension and the values.

#include "attnkit/kv/kv_source.hpp"
#include "attnkit/tensor_view.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace attnkit {

namespace detail {

inline constexpr std::array<char const*, 4> dim_names{"batch", "heads", "seq", "dim"};

/// Throws std::invalid_argument("<where>: <message>"); `where` names the public function called.
[[noreturn]] inline void fail(std::string const& message, char const* where = "attnkit::attention") {
  throw std::invalid_argument(std::string(where) + ": " + message);
}

/// Byte range [first, last] spanned by a view's elements; only meaningful for a non-empty view.
struct byte_span {
  std::uintptr_t first = 0;
  std::uintptr_t last = 0;
};

template <class T, std::size_t Rank> byte_span span_of(tensor_view<T, Rank> const& view) {
  std::int64_t max_offset = 0;
  for (std::size_t d = 0; d < Rank; ++d)
    max_offset += (view.extent(d) - 1) * view.stride(d);
  auto const first = reinterpret_cast<std::uintptr_t>(view.data());
  return {first, first + static_cast<std::uintptr_t>(max_offset) * sizeof(T) + sizeof(T) - 1};
}

template <class T, std::size_t Rank>
void check_view(tensor_view<T, Rank> const& view, char const* name,
                char const* where = "attnkit::attention") {
  for (std::size_t d = 0; d < Rank; ++d)
    if (view.extent(d) < 0)
      fail(std::string(name) + ".extent(" + std::to_string(d) + ") must be >= 0, got " +
               std::to_string(view.extent(d)),
           where);
  for (std::size_t d = 0; d < Rank; ++d) {
    if (view.stride(d) < 0)
      fail(std::string(name) + ".stride(" + std::to_string(d) + ") must be >= 0, got " +
               std::to_string(view.stride(d)),
           where);
  }
  // Element count and largest offset must fit in 64 bits (and the offset in bytes in the address space),
  // or every later index computation overflows.
  std::int64_t count = 1, reach = 0;
  bool overflow = false;
  for (std::size_t d = 0; d < Rank; ++d) {
    std::int64_t step = 0;
    overflow = overflow || __builtin_mul_overflow(count, view.extent(d), &count);
    overflow =
        overflow || (view.extent(d) > 0 && __builtin_mul_overflow(view.extent(d) - 1, view.stride(d), &step));
    overflow = overflow || __builtin_add_overflow(reach, step, &reach);
  }
  overflow =
      overflow || reach > std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(sizeof(T));
  if (overflow)
    fail(std::string(name) +
             " has extents and strides whose element count or extent in memory overflows 64 bits",
         where);
  if (count > 0 && view.data() == nullptr)
    fail(std::string(name) + " has " + std::to_string(count) + " elements but a null data pointer", where);
}

/// True when no two index tuples of the view address the same element (required of outputs).
template <class T, std::size_t Rank> bool has_distinct_elements(tensor_view<T, Rank> const& view) {
  if (view.size() <= 1)
    return true;
  std::array<std::size_t, Rank> order{};
  for (std::size_t d = 0; d < Rank; ++d)
    order[d] = d;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return view.stride(a) < view.stride(b); });
  // Sorted by stride, each dimension must step past everything the smaller ones can reach.
  std::int64_t reach = 0;
  for (std::size_t d : order) {
    if (view.extent(d) == 1)
      continue;
    if (view.stride(d) <= reach)
      return false;
    reach += (view.extent(d) - 1) * view.stride(d);
  }
  return true;
}

template <class A, std::size_t RA, class B, std::size_t RB>
void check_disjoint(tensor_view<A, RA> const& out, char const* out_name, tensor_view<B, RB> const& in,
                    char const* in_name, char const* where = "attnkit::attention") {
  if (out.size() == 0 || in.size() == 0)
    return;
  auto const a = span_of(out);
  auto const b = span_of(in);
  if (a.first <= b.last && b.first <= a.last)
    fail(std::string(out_name) + " overlaps " + in_name + " in memory; the output must not alias an input",
         where);
}

/// How a message names an argument: `name`, `name.extent(d)` or `name.extent(d) (heads)`, then a note. It
/// becomes text only when a check fails, so that a valid call formats and allocates nothing.
struct arg_name {
  char const* name = "";
  int extent = -1;        // >= 0: extent `extent` of `name`
  bool dim_named = false; // adds the dimension's name from dim_names
  char const* note = "";  // appended as it is

  arg_name(char const* plain) : name(plain) {} // implicit: a plain name reads as itself
  arg_name(char const* view, std::size_t d, bool named, char const* appended = "")
      : name(view), extent(static_cast<int>(d)), dim_named(named), note(appended) {}

  std::string text() const {
    std::string out(name);
    if (extent >= 0) {
      out += ".extent(" + std::to_string(extent) + ")";
      if (dim_named)
        out += std::string(" (") + dim_names[static_cast<std::size_t>(extent)] + ")";
    }
    return out + note;
  }
};

/// `name.extent(d) (heads)`.
inline arg_name dim_label(char const* name, std::size_t d) {
  return {name, d, true};
}

inline void check_equal(std::int64_t got, std::int64_t expected, arg_name const& what,
                        arg_name const& against, char const* where = "attnkit::attention") {
  if (got != expected)
    fail(what.text() + " = " + std::to_string(got) + " does not match " + against.text() + " = " +
             std::to_string(expected),
         where);
}

/// Both views have the same extents as `want` (named `want_name`).
template <class A, class B, std::size_t Rank>
void check_same_shape(tensor_view<A, Rank> const& got, char const* got_name, tensor_view<B, Rank> const& want,
                      char const* want_name, char const* where) {
  for (std::size_t d = 0; d < Rank; ++d)
    check_equal(got.extent(d), want.extent(d), arg_name(got_name, d, false), arg_name(want_name, d, false),
                where);
}

/// An output may be one of the inputs exactly (an in-place merge), or else must not overlap it.
template <class T, std::size_t Rank>
void check_output_vs_input(tensor_view<T, Rank> const& out, char const* out_name,
                           tensor_view<T const, Rank> const& in, char const* in_name, char const* where) {
  bool same = out.data() == in.data();
  for (std::size_t d = 0; d < Rank; ++d)
    same = same && out.stride(d) == in.stride(d);
  if (!same)
    check_disjoint(out, out_name, in, in_name, where);
}

template <class T, std::size_t Rank>
void check_output(tensor_view<T, Rank> const& out, char const* name, char const* where) {
  check_view(out, name, where);
  if (!has_distinct_elements(out))
    fail(std::string(name) + " has strides that map several elements to one address", where);
}

} // namespace detail

namespace detail {

/// The K/V side of a call as validation sees it, with the names its messages use.
struct kv_shape {
  std::int64_t batch, heads, key_len, qk_dim, v_dim;
  arg_name batch_name, heads_name, qk_dim_name, v_dim_name;
};

/// Checks q [B, Hq, Sq, D], o [B, Hq, Sq, Dv] and, when its data is not null, lse [B, Hq, Sq] against each
/// other and against the K/V side.
inline void validate_call_shapes(tensor_view<float const> const& q, kv_shape const& kv,
                                 tensor_view<float> const& o, tensor_view<float, 3> const& lse) {
  check_equal(kv.batch, q.extent(0), kv.batch_name, dim_label("q", 0));
  check_equal(o.extent(0), q.extent(0), dim_label("o", 0), dim_label("q", 0));

  if (q.extent(1) < 1)
    fail(dim_label("q", 1).text() + " must be >= 1, got " + std::to_string(q.extent(1)));
  if (kv.heads < 1)
    fail(kv.heads_name.text() + " must be >= 1, got " + std::to_string(kv.heads));
  if (q.extent(1) % kv.heads != 0) {
    arg_name heads = kv.heads_name;
    heads.dim_named = false; // "k.extent(1)": the sentence says what it holds
    fail("query heads q.extent(1) = " + std::to_string(q.extent(1)) +
         " is not a multiple of key/value heads " + heads.text() + " = " + std::to_string(kv.heads));
  }
  check_equal(o.extent(1), q.extent(1), dim_label("o", 1), dim_label("q", 1));
  check_equal(o.extent(2), q.extent(2), dim_label("o", 2), dim_label("q", 2));

  if (q.extent(3) < 1)
    fail(dim_label("q", 3).text() + " must be >= 1, got " + std::to_string(q.extent(3)));
  check_equal(kv.qk_dim, q.extent(3), kv.qk_dim_name, dim_label("q", 3));
  if (kv.v_dim < 1)
    fail(kv.v_dim_name.text() + " must be >= 1, got " + std::to_string(kv.v_dim));
  check_equal(o.extent(3), kv.v_dim, dim_label("o", 3), kv.v_dim_name);

  if (!has_distinct_elements(o))
    fail("o has strides that map several elements to one address; the output needs distinct elements");
  check_disjoint(o, "o", q, "q");

  if (lse.data() == nullptr)
    return;
  check_view(lse, "lse");
  for (std::size_t d = 0; d < 3; ++d)
    check_equal(lse.extent(d), q.extent(d), dim_label("lse", d), dim_label("q", d));
  if (!has_distinct_elements(lse))
    fail("lse has strides that map several elements to one address; the output needs distinct elements");
  check_disjoint(lse, "lse", q, "q");
  check_disjoint(lse, "lse", o, "o");
}

} // namespace detail

/// Validates q [B, Hq, Sq, D], k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv], o [B, Hq, Sq, Dv] and, when its data
/// is not null, lse [B, Hq, Sq]. Throws std::invalid_argument naming the first bad argument.
inline void validate_attention_args(tensor_view<float const> const& q, tensor_view<float const> const& k,
                                    tensor_view<float const> const& v, tensor_view<float> const& o,
                                    tensor_view<float, 3> const& lse) {
  using detail::check_equal;
  using detail::dim_label;
  detail::check_view(q, "q");
  detail::check_view(k, "k");
  detail::check_view(v, "v");
  detail::check_view(o, "o");

  detail::validate_call_shapes(q,
                               {k.extent(0), k.extent(1), k.extent(2), k.extent(3), v.extent(3),
                                dim_label("k", 0), dim_label("k", 1), dim_label("k", 3), dim_label("v", 3)},
                               o, lse);
  check_equal(v.extent(0), k.extent(0), dim_label("v", 0), dim_label("k", 0));
  check_equal(v.extent(1), k.extent(1), dim_label("v", 1), dim_label("k", 1));
  check_equal(v.extent(2), k.extent(2), dim_label("v", 2), dim_label("k", 2));
  detail::check_disjoint(o, "o", k, "k");
  detail::check_disjoint(o, "o", v, "v");
  if (lse.data() != nullptr) {
    detail::check_disjoint(lse, "lse", k, "k");
    detail::check_disjoint(lse, "lse", v, "v");
  }
}

/// Validates q, o and lse (as above) against a K/V source. The source checks its own contents.
template <kv_source Source>
void validate_attention_args(tensor_view<float const> const& q, Source const& kv, tensor_view<float> const& o,
                             tensor_view<float, 3> const& lse) {
  detail::check_view(q, "q");
  detail::check_view(o, "o");
  if (kv.key_len() < 0)
    detail::fail("kv.key_len() must be >= 0, got " + std::to_string(kv.key_len()));
  detail::validate_call_shapes(q,
                               {kv.batch(), kv.kv_heads(), kv.key_len(), kv.qk_dim(), kv.v_dim(),
                                "kv.batch()", "kv.kv_heads()", "kv.qk_dim()", "kv.v_dim()"},
                               o, lse);
}

} // namespace attnkit
