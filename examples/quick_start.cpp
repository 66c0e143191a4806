// The README's quick start: causal attention over [batch, heads, seq, dim] buffers.
#include <attnkit/attnkit.hpp>

#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report(); // compiled ISA and this CPU's best; a warning if the first is lower
  int const batch = 1, heads = 8, seq = 256, dim = 64;
  std::vector<float> q(batch * heads * seq * dim, 0.1f), k(q.size(), 0.2f), v(q.size(), 1.0f), o(q.size());

  attnkit::attention<attnkit::softmax, attnkit::causal> attn{}; // scale defaults to 1 / sqrt(dim)
  attn(attnkit::bhsd(q.data(), batch, heads, seq, dim),         // [B, H, S, D] views over your memory
       attnkit::bhsd(k.data(), batch, heads, seq, dim), attnkit::bhsd(v.data(), batch, heads, seq, dim),
       attnkit::bhsd(o.data(), batch, heads, seq, dim));

  std::printf("o[0] = %.3f (every value row is 1, so every output is 1)\n", o[0]);
}
