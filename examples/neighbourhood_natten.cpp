// 1-D neighbourhood attention, as in NATTEN ("Neighborhood Attention Transformer", Hassani et al. 2023;
// "Faster Neighborhood Attention", 2024): each token attends to the W tokens centred on it, and near the
// ends the window shifts inward, so every token sees exactly W keys (a sliding window would see fewer).
//
// With q = 0 each output is the average of the values the query sees; with v_j = j that is the centre of
// its window: j for inner tokens, (W - 1) / 2 for the first ones, seq - 1 - (W - 1) / 2 for the last ones.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 4, seq = 500, dim = 32, window = 7;
  std::vector<float> q(std::size_t(heads) * seq * dim, 0.0f), k(q.size(), 1.0f), v(q.size()), o(q.size());
  for (std::size_t t = 0; t < v.size(); ++t)
    v[t] = float(t / dim % seq); // v_j = j

  attnkit::attention<attnkit::softmax, attnkit::neighbourhood> const attn({}, {},
                                                                          attnkit::neighbourhood(window));
  attn(attnkit::bhsd(q.data(), 1, heads, seq, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, seq, dim));

  int wrong = 0;
  for (int i : {0, 1, 3, 250, 498, 499}) {
    int const centre = i < window / 2 ? window / 2 : i > seq - 1 - window / 2 ? seq - 1 - window / 2 : i;
    float const got = o[std::size_t(i) * dim];
    std::printf("token %3d: output %6.2f, centre of its window %3d\n", i, got, centre);
    wrong += std::fabs(got - float(centre)) > 1e-3f * (1.0f + float(centre));
  }
  return wrong;
}
