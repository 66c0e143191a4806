#pragma once
/// \file
/// How kernels take a policy argument.

#include <type_traits>

namespace attnkit::detail {

/// Empty policies by value, others by reference. GCC 12 reports an empty object passed by const& as
/// "may be used uninitialized" (it has no byte that was ever written).
template <class Policy> using policy_arg = std::conditional_t<std::is_empty_v<Policy>, Policy, Policy const&>;

} // namespace attnkit::detail
