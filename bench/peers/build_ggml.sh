#!/usr/bin/env bash
# Builds the llama.cpp peer, bench/peers/ggml_flash_attn.cpp, against ggml taken from a PyPI source
# distribution (llama-cpp-python vendors llama.cpp, ggml included), for the CPU it runs on (GGML_NATIVE).
# Optional: nothing in attnkit's build or tests uses it.
#
# Usage: bench/peers/build_ggml.sh PYTHON [BUILD_DIR]
#   PYTHON     an interpreter with pip (e.g. build/peers-venv/bin/python); used only for `pip download`
#   BUILD_DIR  default build/peers-ggml; the binary is BUILD_DIR/ggml_flash_attn
# Prints the binary's path as its last line. Needs cmake and a C/C++ compiler (already there for attnkit);
# about a minute on 2 cores the first time, nothing after that unless the peer's source changed.
set -euo pipefail

python=${1:?usage: build_ggml.sh PYTHON [BUILD_DIR]}
build=${2:-build/peers-ggml}
# Pinned so that a report says which ggml it timed; bump both together.
sdist_version=0.3.36
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=$build/ggml_flash_attn

mkdir -p "$build"
ggml=$build/llama_cpp_python-$sdist_version/vendor/llama.cpp/ggml
if [[ ! -d $ggml ]]; then
  echo "build_ggml.sh: downloading the llama-cpp-python $sdist_version source distribution (ggml inside)" >&2
  "$python" -m pip download --quiet --no-deps --no-binary :all: --dest "$build" \
    "llama-cpp-python==$sdist_version" >&2
  tar -xzf "$build/llama_cpp_python-$sdist_version.tar.gz" -C "$build" \
    --wildcards "llama_cpp_python-$sdist_version/vendor/llama.cpp/ggml/*"
  # The source distribution leaves out the pkg-config template that ggml's CMakeLists configures.
  touch "$ggml/ggml.pc.in"
fi

libs=("$build/ggml/src/libggml.a" "$build/ggml/src/libggml-cpu.a" "$build/ggml/src/libggml-base.a")
if [[ ! -f ${libs[0]} ]]; then
  echo "build_ggml.sh: building ggml (CPU backend, -march=native)" >&2
  cmake -S "$ggml" -B "$build/ggml" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
    -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF -DGGML_CCACHE=OFF >"$build/ggml-configure.log"
  cmake --build "$build/ggml" -j "$(nproc)" >"$build/ggml-build.log"
fi

if [[ ! -x $binary || $here/ggml_flash_attn.cpp -nt $binary ]]; then
  "${CXX:-g++}" -O2 -std=c++17 -Wall -Wextra -I"$ggml/include" \
    -DATTNKIT_GGML_SOURCE="\"llama-cpp-python $sdist_version\"" "$here/ggml_flash_attn.cpp" -o "$binary" \
    "${libs[@]}" -fopenmp -lpthread -ldl
fi
echo "$binary"
