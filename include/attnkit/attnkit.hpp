#pragma once
/// \file
/// attnkit: composable, fused attention kernels for CPUs. Include this one header.

#include "attnkit/attention.hpp"
#include "attnkit/options.hpp"
#include "attnkit/policies/additive_bias.hpp"
#include "attnkit/policies/alibi.hpp"
#include "attnkit/policies/block_layout.hpp"
#include "attnkit/policies/block_layout_from_mask.hpp"
#include "attnkit/policies/block_sparse.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/document.hpp"
#include "attnkit/policies/key_bias.hpp"
#include "attnkit/policies/neighbourhood.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/policies/sink_window.hpp"
#include "attnkit/policies/sliding_window.hpp"
#include "attnkit/policies/softcap.hpp"
#include "attnkit/policies/softmax.hpp"
#include "attnkit/policies/visible_if_all.hpp"
#include "attnkit/policies/visible_if_any.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/version.hpp"
