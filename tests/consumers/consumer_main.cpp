#include <attnkit/attnkit.hpp>
#include <cmath>
#include <cstdio>
#include <vector>
int main() {
  int const b = 1, h = 2, s = 8, d = 16;
  std::vector<float> q(b * h * s * d, 0.25f), k(q.size(), 0.5f), v(q.size(), 1.0f), o(q.size(), 0.0f);
  attnkit::attention<attnkit::softmax, attnkit::causal> attn{};
  attn(attnkit::bhsd(q.data(), b, h, s, d), attnkit::bhsd(k.data(), b, h, s, d),
       attnkit::bhsd(v.data(), b, h, s, d), attnkit::bhsd(o.data(), b, h, s, d));
  for (float x : o)
    if (std::fabs(x - 1.0f) > 1e-5f) {
      std::puts("wrong");
      return 1;
    }
  attnkit::print_isa_report();
  if (attnkit::compiled_below_cpu()) {
    std::puts("built with attnkit_target_isa(attnkit_consumer native), yet compiled below this CPU");
    return 1;
  }
  std::puts("ok");
  return 0;
}
