#!/usr/bin/env bash
# Runs the engine on the libtorch of an installed PyTorch instead of the 2.7.1 that DJL 0.36 downloads: compiles
# DJL's JNI against it and puts libdjl_torch.so beside its libtorch.so, where DJL looks first.
#   tools/libtorch/build.sh DJL_CHECKOUT [PYTHON]
# PYTHON (default python3) must import torch (any 2.x; CPU or CUDA). Needs g++ and a JDK 17. Prints the variable to
# export for the worker, the standalone or `oneway-engine.jar bench`:
#   PYTORCH_LIBRARY_PATH=<torch>/lib
# Why: on a 2-core AMD EPYC (Zen 5) the same engine took 33.8 s per SD1.5 512x512 image on DJL's libtorch 2.7.1 and
# 27.2 s on PyTorch 2.13's (the same 7.3 s at 256x256; docs/benchmarks.md, section 8).
set -euo pipefail
cd "$(dirname "$0")/../.."
DJL=$1
PYTHON=${2:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash tools/libtorch/sources.sh "$DJL" "$work/src"
PATH="$(dirname "$(command -v "$PYTHON")"):$PATH" bash tools/libtorch/build-jni.sh "$work/src" "$work/out" >&2
lib=$("$PYTHON" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
cp "$work/out/libdjl_torch.so" "$lib/"
echo "PYTORCH_LIBRARY_PATH=$lib"
