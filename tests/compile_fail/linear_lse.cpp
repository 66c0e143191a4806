// Must not compile: linear attention has no log-sum-exp to return.
#include <attnkit/attnkit.hpp>
void call(attnkit::tensor_view<float const> q, attnkit::tensor_view<float> o,
          attnkit::tensor_view<float, 3> lse) {
  attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::causal> const attn;
  attn(q, q, q, o, lse);
}
