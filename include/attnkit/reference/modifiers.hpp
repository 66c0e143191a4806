#pragma once
/// \file
/// SEMANTICS.md's score modifiers in double precision, one `modify` overload per modifier, written from
/// their definitions (they read a policy's parameters, never its hooks).

#include "attnkit/policies/additive_bias.hpp"
#include "attnkit/policies/alibi.hpp"
#include "attnkit/policies/key_bias.hpp"
#include "attnkit/policies/softcap.hpp"
#include "attnkit/reference/pair_coords.hpp"

#include <cmath>
#include <cstddef>
#include <cstdlib>

namespace attnkit::reference {

/// softcap c: s = c tanh(s / c).
inline double modify(softcap const& m, pair_coords const&, double s) {
  double const c = m.cap();
  return c * std::tanh(s / c);
}

/// ALiBi: s = s - slope_h |p(i) - j|, default slopes 2^(-8 (h + 1) / Hq).
inline double modify(alibi const& m, pair_coords const& c, double s) {
  double const slope =
      m.slopes().empty()
          ? std::pow(2.0, -8.0 * static_cast<double>(c.head + 1) / static_cast<double>(c.q_heads))
          : static_cast<double>(m.slopes()[static_cast<std::size_t>(c.head)]);
  return s - slope * static_cast<double>(std::llabs(c.position - c.key));
}

/// additive bias: s = s + bias(b, h, i, j), extents of 1 broadcast.
inline double modify(additive_bias const& m, pair_coords const& c, double s) {
  auto const& t = m.bias();
  auto index = [&](std::size_t d, std::int64_t x) { return t.extent(d) == 1 ? 0 : x; };
  return s + static_cast<double>(t(index(0, c.batch), index(1, c.head), index(2, c.row), index(3, c.key)));
}

/// per-key bias: s = s + bias_h(j) for j below the table's length.
inline double modify(key_bias const& m, pair_coords const& c, double s) {
  if (c.key >= m.keys())
    return s;
  return s + static_cast<double>(m.at(c.head, c.key));
}

} // namespace attnkit::reference
