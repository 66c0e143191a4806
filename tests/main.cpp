// The one Catch2 main of attnkit_tests; test cases live in tests/test_<topic>.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
