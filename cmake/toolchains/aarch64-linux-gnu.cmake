# Cross-compiles for 64-bit ARM Linux (AArch64, NEON) with Debian's cross toolchain and runs the results under
# qemu-user, so that try_run, catch_discover_tests and ctest work unchanged (CMAKE_CROSSCOMPILING_EMULATOR).
#
# Debian packages (bookworm): g++-aarch64-linux-gnu (GCC 12; brings the AArch64 glibc, libstdc++ and libgomp
# under /usr/aarch64-linux-gnu) and qemu-user (qemu-aarch64). scripts/run_tests.sh installs them for its
# `aarch64` stage.
#
#   cmake -S . -B build/aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake   (or: --preset aarch64)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ATTNKIT_CROSS_TRIPLE aarch64-linux-gnu)
set(ATTNKIT_CROSS_ROOT /usr/${ATTNKIT_CROSS_TRIPLE}) # the target's libc, libstdc++ and libgomp

set(CMAKE_C_COMPILER ${ATTNKIT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ATTNKIT_CROSS_TRIPLE}-g++)

# qemu-aarch64 loads the target's dynamic loader and shared libraries from the -L prefix.
find_program(ATTNKIT_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${ATTNKIT_QEMU_AARCH64} -L ${ATTNKIT_CROSS_ROOT})

# Libraries come from the target's tree only; programs (the build tools) from the host.
set(CMAKE_FIND_ROOT_PATH ${ATTNKIT_CROSS_ROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# Header-only dependencies (xsimd, Eigen, Catch2) are the host's packages: their headers in /usr/include serve
# every architecture, and Debian's cross compiler searches /usr/include after its own include directory.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Debian's libxsimd-dev is "Multi-Arch: same", so its CMake package files sit in the host's multiarch directory
# (/usr/lib/x86_64-linux-gnu/cmake/xsimd), which find_package does not search for an aarch64-linux-gnu target.
# xsimd is header-only, so the host's package files describe the target's xsimd exactly: point at them unless
# told otherwise (an installed libxsimd-dev:arm64 sorts first and wins).
if(NOT DEFINED xsimd_DIR)
  file(GLOB _attnkit_xsimd_dirs /usr/lib/*-linux-gnu/cmake/xsimd)
  if(_attnkit_xsimd_dirs)
    list(GET _attnkit_xsimd_dirs 0 _attnkit_xsimd_dir)
    set(xsimd_DIR ${_attnkit_xsimd_dir} CACHE PATH "Directory of xsimdConfig.cmake")
  endif()
endif()
