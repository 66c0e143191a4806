# Checks that the README's quick start is examples/quick_start.cpp (less its first comment line), which
# the examples build compiles. Run as: cmake -DROOT=<repo> -P readme_quick_start.cmake
file(READ "${ROOT}/README.md" readme)
file(READ "${ROOT}/examples/quick_start.cpp" example)
# Drop the first line (REGEX REPLACE would re-anchor ^ after each match and drop every line).
string(FIND "${example}" "\n" first_newline)
math(EXPR body_start "${first_newline} + 1")
string(SUBSTRING "${example}" ${body_start} -1 example)
string(FIND "${readme}" "```cpp\n${example}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's quick start differs from examples/quick_start.cpp: copy the file into the README")
endif()
message(STATUS "README quick start matches examples/quick_start.cpp")
