// Must not compile: a normaliser whose kernel family no kernel implements.
#include <attnkit/attnkit.hpp>
#include <vector>
struct orphan_family {};
struct orphan_normaliser {
  using kernel_family = orphan_family;
  static constexpr bool has_lse = false;
};
void call(std::vector<float>& x) {
  attnkit::attention<orphan_normaliser> attn{};
  auto const t = attnkit::bhsd(x.data(), 1, 1, 1, 1);
  std::vector<float> o(1);
  attn(t, t, t, attnkit::bhsd(o.data(), 1, 1, 1, 1));
}
