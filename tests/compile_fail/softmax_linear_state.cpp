// Must not compile: a linear_state holds linear attention's recurrence; softmax has none.
#include <attnkit/attnkit.hpp>
void call(attnkit::tensor_view<float const> q, attnkit::tensor_view<float> o, attnkit::linear_state& state) {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  attn(q, q, q, o, state);
}
