# Debian's xsimd 8.1 package exports a plain `xsimd` target whose INTERFACE_LINK_LIBRARIES names `xtl`, but xtl is
# neither a dependency of the package nor looked up by xsimdConfig.cmake. Without a target called `xtl`, CMake would
# pass `-lxtl` to the linker. xsimd only needs xtl for XSIMD_ENABLE_XTL_COMPLEX, which attnkit does not use, so an
# empty INTERFACE target is enough.
#
# Included after find_package(xsimd) by the top-level CMakeLists.txt and by the installed attnkitConfig.cmake.
# Imported targets are directory-scoped: this must run in the same directory as find_package(xsimd), so no
# include_guard() here; the `if` is the guard. A real xtl target (e.g. from find_package(xtl)) is left alone.
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()
