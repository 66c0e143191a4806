// Must not compile: a type without next_keys/classify/visible where the mask goes.
#include <attnkit/attnkit.hpp>
struct not_a_mask {};
attnkit::attention<attnkit::softmax, not_a_mask> attn{};
