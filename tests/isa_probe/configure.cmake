# cmake -DATTNKIT_SOURCE_DIR=... -DBUILD_DIR=... -DGENERATOR=... -DISA=... -DEXPECT_ERROR=<regex>
#       [-DMAKE_PROGRAM=...] [-DCXX_COMPILER=...] [-DSYSTEM_PROCESSOR=aarch64] -P configure.cmake
#
# Configures the isa_probe project from scratch with attnkit_target_isa(isa_probe <ISA>) and passes if the configure
# fails with an error matching EXPECT_ERROR. SYSTEM_PROCESSOR makes it a cross configure (Linux, CXX_COMPILER for
# that processor); its try-compiles build static libraries, so nothing is linked or run for the target.
cmake_minimum_required(VERSION 3.21)

foreach(var ATTNKIT_SOURCE_DIR BUILD_DIR GENERATOR ISA EXPECT_ERROR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "isa_probe/configure.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${BUILD_DIR}")
set(args -S "${CMAKE_CURRENT_LIST_DIR}" -B "${BUILD_DIR}" -G "${GENERATOR}"
    "-DATTNKIT_SOURCE_DIR=${ATTNKIT_SOURCE_DIR}" "-DISA=${ISA}")
if(MAKE_PROGRAM)
  list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(SYSTEM_PROCESSOR)
  list(APPEND args -DCMAKE_SYSTEM_NAME=Linux "-DCMAKE_SYSTEM_PROCESSOR=${SYSTEM_PROCESSOR}"
       -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY)
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
# CMake wraps long error messages: compare with every run of white space made one space.
string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
if(rc EQUAL 0)
  message(FATAL_ERROR "attnkit_target_isa(isa_probe ${ISA}) was accepted; expected an error matching: ${EXPECT_ERROR}")
elseif(NOT flat MATCHES "${EXPECT_ERROR}")
  message(FATAL_ERROR "the configure failed, but without an error matching: ${EXPECT_ERROR}")
endif()
message(STATUS "attnkit_target_isa(isa_probe ${ISA}) failed as expected")
