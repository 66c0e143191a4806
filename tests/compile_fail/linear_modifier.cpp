// Must not compile: linear attention never forms scores, so a score modifier (here ALiBi) cannot apply.
#include <attnkit/attnkit.hpp>
void call(attnkit::tensor_view<float const> q, attnkit::tensor_view<float> o) {
  attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::causal, attnkit::alibi> const attn;
  attn(q, q, q, o);
}
