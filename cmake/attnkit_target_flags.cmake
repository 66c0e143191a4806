# attnkit_configure_target(<target> [NO_SANITIZE])
#
# Applies attnkit's build flags to one of its own executables (tests, benchmarks, examples), never to the
# attnkit::attnkit interface target:
#   - warnings: -Wall -Wextra -Wpedantic (/W4 with MSVC), plus -Werror (/WX) when ATTNKIT_WERROR is ON;
#   - ATTNKIT_NATIVE:   attnkit_target_isa(<target> native), the helper users call (-march=native, or
#                       -mcpu=native where only that is accepted);
#   - ATTNKIT_SANITIZE: -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined on
#                       compile and link, unless NO_SANITIZE is given (benchmarks: timings under ASan are useless).
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/attnkit_target_isa.cmake")

function(attnkit_configure_target tgt)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_SANITIZE" "" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "attnkit_configure_target: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${tgt})
    message(FATAL_ERROR "attnkit_configure_target: ${tgt} is not a target")
  endif()

  set(gnu_like "$<CXX_COMPILER_ID:GNU,Clang,AppleClang,IntelLLVM>")
  set(msvc "$<CXX_COMPILER_ID:MSVC>")

  target_compile_options(${tgt} PRIVATE "$<${gnu_like}:-Wall;-Wextra;-Wpedantic>" "$<${msvc}:/W4;/permissive->")
  if(ATTNKIT_WERROR)
    target_compile_options(${tgt} PRIVATE "$<${gnu_like}:-Werror>" "$<${msvc}:/WX>")
  endif()

  if(ATTNKIT_NATIVE)
    attnkit_target_isa(${tgt} native)
  endif()

  if(ATTNKIT_SANITIZE AND NOT arg_NO_SANITIZE)
    set(san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_compile_options(${tgt} PRIVATE "$<${gnu_like}:${san}>")
    target_link_options(${tgt} PRIVATE "$<${gnu_like}:${san}>")
    # GCC's flow analysis under ASan reports maybe-uninitialized in libstdc++ (std::regex, std::function)
    # where nothing is uninitialised; GCC's manual warns that sanitizers cause such false positives.
    target_compile_options(${tgt} PRIVATE "$<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>")
  endif()
endfunction()
