// Must not compile: a mask where the normaliser goes.
#include <attnkit/attnkit.hpp>
attnkit::attention<attnkit::causal, attnkit::causal> attn{};
