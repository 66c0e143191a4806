#pragma once
/// \file
/// How policies reject bad parameters: std::invalid_argument naming the policy, the parameter and its value.

#include <stdexcept>
#include <string>

namespace attnkit::detail {

/// Throws std::invalid_argument("attnkit::<policy>: <message>").
[[noreturn]] inline void policy_error(char const* policy, std::string const& message) {
  throw std::invalid_argument(std::string("attnkit::") + policy + ": " + message);
}

} // namespace attnkit::detail
