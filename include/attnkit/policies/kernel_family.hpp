#pragma once
/// \file
/// Tags that say which kernel implements a normaliser.

namespace attnkit {

/// Scores are computed tile by tile and turned into weights by the normaliser's per-row hooks
/// (softmax, sigmoid, softmax with sinks): kernels/fused_kernel.hpp.
struct tiled_scores_family {};

/// Linear attention: per-head key-value states and prefix sums over chunks of keys (linear<FeatureMap>):
/// kernels/linear_kernel.hpp.
struct linear_family {};

} // namespace attnkit
