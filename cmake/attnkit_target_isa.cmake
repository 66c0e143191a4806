# attnkit_target_isa(<target> <native|x86-64-v3|x86-64-v4>)
#
# Compiles <target>'s own sources for an instruction set, so that attnkit's kernels use it. attnkit::attnkit adds
# no -march (the consumer chooses), and without one an x86-64 build gets the SSE2 kernel.
#   native     the CPU of the build machine: -march=native, or -mcpu=native where the compiler does not accept
#              -march=native (AArch64 compilers that take only -mcpu=native).
#   x86-64-v3  AVX2 + FMA (Haswell, Zen 1 and later): -march=x86-64-v3 (GCC >= 11, Clang >= 12).
#   x86-64-v4  AVX-512 F, CD, BW, DQ, VL (Skylake-SP, Zen 4 and later): -march=x86-64-v4.
# The flag is PRIVATE (INTERFACE for an INTERFACE library). An unknown value, or a flag the compiler does not
# accept (x86-64-v3 on an AArch64 compiler, native on a cross compiler), stops the configure with a message.
# At run time, attnkit::print_isa_report() (<attnkit/isa.hpp>) says which ISA the kernels were compiled for.
#
# Included by attnkit's CMakeLists.txt (add_subdirectory users) and by the installed attnkitConfig.cmake
# (find_package users); attnkit's own targets get it through ATTNKIT_NATIVE (attnkit_configure_target).
include_guard(GLOBAL)
include(CheckCXXCompilerFlag)

function(attnkit_target_isa tgt)
  set(accepted native x86-64-v3 x86-64-v4)
  string(REPLACE ";" ", " accepted_text "${accepted}")
  if(NOT ARGC EQUAL 2)
    message(FATAL_ERROR "attnkit_target_isa: expected 2 arguments, <target> and one of ${accepted_text}; "
                        "got ${ARGC}: ${ARGV}")
  endif()
  set(isa "${ARGV1}")
  if(NOT isa IN_LIST accepted)
    message(FATAL_ERROR "attnkit_target_isa: unknown ISA '${isa}' for target ${tgt}; "
                        "accepted values: ${accepted_text}")
  endif()
  if(NOT TARGET ${tgt})
    message(FATAL_ERROR "attnkit_target_isa: ${tgt} is not a target")
  endif()

  get_target_property(aliased ${tgt} ALIASED_TARGET)
  if(aliased)
    set(tgt ${aliased})
  endif()
  get_target_property(type ${tgt} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    set(scope INTERFACE)
  else()
    set(scope PRIVATE)
  endif()

  if(isa STREQUAL "native")
    set(candidates -march=native -mcpu=native)
  else()
    set(candidates -march=${isa})
  endif()
  foreach(flag IN LISTS candidates)
    string(MAKE_C_IDENTIFIER "ATTNKIT_CXX_ACCEPTS${flag}" result)
    check_cxx_compiler_flag(${flag} ${result})
    if(${result})
      target_compile_options(${tgt} ${scope} ${flag})
      return()
    endif()
  endforeach()

  if(isa STREQUAL "native")
    string(CONCAT hint "it cannot detect the CPU it runs on (cross compilers cannot); pass your target CPU's "
                  "-march or -mcpu with target_compile_options instead")
  else()
    string(CONCAT hint "${isa} exists only for x86-64 compilers (GCC >= 11, Clang >= 12; "
                  "with MSVC use /arch:AVX2 or /arch:AVX512)")
  endif()
  string(REPLACE ";" " or " candidates_text "${candidates}")
  message(FATAL_ERROR "attnkit_target_isa(${tgt} ${isa}): the C++ compiler (${CMAKE_CXX_COMPILER_ID} "
                      "${CMAKE_CXX_COMPILER_VERSION}, target processor ${CMAKE_SYSTEM_PROCESSOR}) does not accept "
                      "${candidates_text}: ${hint}")
endfunction()
