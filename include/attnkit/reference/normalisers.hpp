#pragma once
/// \file
/// SEMANTICS.md's normalisers in double precision, one overload per normaliser.

#include "attnkit/policies/sigmoid.hpp"
#include "attnkit/policies/softmax.hpp"
#include "attnkit/policies/softmax_sinks.hpp"
#include "attnkit/reference/pair_coords.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace attnkit::reference {

/// Weights of one query row and its LSE.
struct row_weights {
  std::vector<double> weights; ///< one per key; 0 for keys not visible
  double lse = -std::numeric_limits<double>::infinity();
};

/// softmax: w_j = exp(s_j - m) / sum over visible j; LSE = m + log(sum). No visible key: w = 0, LSE = -inf.
inline row_weights normalise(softmax const&, pair_coords const&, std::vector<double> const& scores,
                             std::vector<bool> const& is_visible) {
  row_weights out{std::vector<double>(scores.size(), 0.0), -std::numeric_limits<double>::infinity()};
  double max = -std::numeric_limits<double>::infinity();
  bool any = false;
  for (std::size_t j = 0; j < scores.size(); ++j)
    if (is_visible[j]) {
      any = true;
      if (scores[j] > max)
        max = scores[j];
    }
  if (!any || max == -std::numeric_limits<double>::infinity()) // nothing visible, or only -inf scores
    return out;
  double sum = 0.0;
  for (std::size_t j = 0; j < scores.size(); ++j)
    if (is_visible[j]) {
      out.weights[j] = std::exp(scores[j] - max);
      sum += out.weights[j];
    }
  for (double& w : out.weights)
    w /= sum;
  out.lse = max + std::log(sum);
  return out;
}

/// softmax with a sink: w_j = exp(s_j) / (exp(sigma_h) + sum over visible j); LSE includes the sink, so a
/// row that sees nothing has w = 0 and LSE = sigma_h.
inline row_weights normalise(softmax_sinks const& n, pair_coords const& c, std::vector<double> const& scores,
                             std::vector<bool> const& is_visible) {
  double const sigma = n.logit(c.head);
  double top = sigma;
  for (std::size_t j = 0; j < scores.size(); ++j)
    if (is_visible[j])
      top = std::max(top, scores[j]);
  row_weights out{std::vector<double>(scores.size(), 0.0), -std::numeric_limits<double>::infinity()};
  if (top == -std::numeric_limits<double>::infinity()) // no sink and no visible finite score
    return out;
  double sum = std::exp(sigma - top);
  for (std::size_t j = 0; j < scores.size(); ++j)
    if (is_visible[j]) {
      out.weights[j] = std::exp(scores[j] - top);
      sum += out.weights[j];
    }
  for (double& w : out.weights)
    w /= sum;
  out.lse = top + std::log(sum);
  return out;
}

/// sigmoid: w_j = 1 / (1 + exp(-(s_j + b))) over visible j, b = -ln(Sk) unless given; no LSE (NaN).
inline row_weights normalise(sigmoid const& n, pair_coords const& c, std::vector<double> const& scores,
                             std::vector<bool> const& is_visible) {
  double const b = n.bias() ? static_cast<double>(*n.bias()) : -std::log(static_cast<double>(c.key_len));
  row_weights out{std::vector<double>(scores.size(), 0.0), std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t j = 0; j < scores.size(); ++j)
    if (is_visible[j])
      out.weights[j] = 1.0 / (1.0 + std::exp(-(scores[j] + b)));
  return out;
}

} // namespace attnkit::reference
