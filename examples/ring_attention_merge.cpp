// Merging partial attention results, as ring attention ("Ring Attention with Blockwise Transformers",
// Liu et al.) and flash-decoding do: each worker holds a slice of the keys, computes softmax attention
// and its log-sum-exp over that slice, and the slices are combined by LSE (SEMANTICS.md):
//     L = logaddexp(L_a, L_b),  O = exp(L_a - L) O_a + exp(L_b - L) O_b.
// Learned sinks (gpt-oss) must join the denominator once: merge plain softmax pieces, then apply_sinks.
// Here four "workers" are four calls on slices of one cache; the merge equals one call over all keys.
#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 4, queries = 2, keys = 10000, dim = 64, workers = 4;
  auto fill = [](std::vector<float>& x, float step) {
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = std::sin(step * float(i)); // any data will do
  };
  std::vector<float> q(std::size_t(heads) * queries * dim), k(std::size_t(heads) * keys * dim), v(k.size());
  fill(q, 0.37f), fill(k, 0.11f), fill(v, 0.05f);
  auto const q_view = attnkit::bhsd(q.data(), 1, heads, queries, dim);
  // Keys [first, last) of [1, heads, keys, dim]: same strides, fewer rows.
  auto slice = [&](std::vector<float> const& x, int first, int last) {
    return attnkit::tensor_view<float const>(
        x.data() + std::size_t(first) * dim, {1, heads, last - first, dim},
        {std::int64_t(heads) * keys * dim, std::int64_t(keys) * dim, dim, 1});
  };

  attnkit::attention<attnkit::softmax> const attn; // no mask: each slice's positions do not matter
  std::vector<float> o(q.size()), lse(std::size_t(heads) * queries), part_o(q.size()), part_lse(lse.size());
  auto const o_view = attnkit::bhsd(o.data(), 1, heads, queries, dim);
  auto const lse_view = attnkit::bhs(lse.data(), 1, heads, queries);
  for (int w = 0; w < workers; ++w) {
    int const first = keys * w / workers, last = keys * (w + 1) / workers;
    auto const po = attnkit::bhsd(part_o.data(), 1, heads, queries, dim);
    auto const pl = attnkit::bhs(part_lse.data(), 1, heads, queries);
    attn(q_view, slice(k, first, last), slice(v, first, last), w == 0 ? o_view : po, w == 0 ? lse_view : pl);
    if (w > 0)
      attnkit::merge_by_lse(o_view, lse_view, po, pl, o_view, lse_view); // in place
  }
  attnkit::softmax_sinks const sinks({0.0f, 1.0f, 2.0f, 3.0f});
  attnkit::apply_sinks(sinks, o_view, lse_view);

  // The same attention in one call over all keys.
  std::vector<float> whole(q.size()), whole_lse(lse.size());
  attnkit::attention<attnkit::softmax_sinks>({}, sinks)(q_view, slice(k, 0, keys), slice(v, 0, keys),
                                                        attnkit::bhsd(whole.data(), 1, heads, queries, dim),
                                                        attnkit::bhs(whole_lse.data(), 1, heads, queries));
  float worst = 0.0f;
  for (std::size_t i = 0; i < o.size(); ++i)
    worst = std::max(worst, std::fabs(o[i] - whole[i]));
  for (std::size_t i = 0; i < lse.size(); ++i)
    worst = std::max(worst, std::fabs(lse[i] - whole_lse[i]));
  std::printf("%d pieces merged vs one call: largest difference %.2e (lse[0] = %.4f)\n", workers, worst,
              lse[0]);
  return worst < 1e-4f ? 0 : 1; // fp32 rounding of sums over 10000 keys
}
