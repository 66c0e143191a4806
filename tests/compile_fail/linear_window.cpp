// Must not compile: linear attention cannot express a sliding window (only none and causal).
#include <attnkit/attnkit.hpp>
void call(attnkit::tensor_view<float const> q, attnkit::tensor_view<float> o) {
  attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::sliding_window> const attn(
      {}, {}, attnkit::sliding_window::causal(16));
  attn(q, q, q, o);
}
