# cmake -DATTNKIT_SOURCE_DIR=... -DBUILD_DIR=... -DPREFIX=... -DGENERATOR=... [-DMAKE_PROGRAM=...]
#       [-DCXX_COMPILER=...] [-DUSE_OPENMP=ON|OFF] -P install_attnkit.cmake
#
# Setup fixture of the find_package consumer test: configures the attnkit source tree with only the library enabled
# and installs it into PREFIX, after wiping PREFIX so that no header from an older run survives.
cmake_minimum_required(VERSION 3.21)

foreach(var ATTNKIT_SOURCE_DIR BUILD_DIR PREFIX GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install_attnkit.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")

set(configure_args -S "${ATTNKIT_SOURCE_DIR}" -B "${BUILD_DIR}" -G "${GENERATOR}"
    -DATTNKIT_BUILD_TESTS=OFF -DATTNKIT_BUILD_BENCH=OFF -DATTNKIT_BUILD_EXAMPLES=OFF -DATTNKIT_INSTALL=ON)
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(DEFINED USE_OPENMP)
  list(APPEND configure_args "-DATTNKIT_USE_OPENMP=${USE_OPENMP}")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" ${configure_args} COMMAND_ECHO STDOUT RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring attnkit for installation failed (${rc})")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" COMMAND_ECHO STDOUT
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing attnkit into ${PREFIX} failed (${rc})")
endif()
