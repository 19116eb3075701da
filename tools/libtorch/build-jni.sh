#!/usr/bin/env bash
# Builds DJL's PyTorch JNI (libdjl_torch.so) against the libtorch of an installed PyTorch, so the engine can
# run on a machine whose PyTorch is not the 2.7.1 that DJL 0.36 ships a JNI for (DJL's JNI touches libtorch
# through inline C++ and breaks on any other version: tensor creation fails).
#
#   build-jni.sh SRC OUT_DIR
#     SRC      a folder holding DJL v0.36.0's engines/pytorch/pytorch-native/src/main/native,
#              api/src/main/native, the generated JNI header (include/) and jni.h (jni/): tools/libtorch/sources.sh
#     OUT_DIR  where libdjl_torch.so goes
# Uses python3's torch for headers and libraries; adds CUDA when that torch has it.
set -euo pipefail
SRC=$1
OUT=$2
TORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
ABI=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
CUDA=$(python3 -c 'import torch; print(1 if torch.version.cuda else 0)')
FLAGS=(-O2 -std=c++17 -fPIC -D_GLIBCXX_USE_CXX11_ABI="$ABI" -w
       -I "$SRC/include" -I "$SRC/jni" -I "$SRC/jni/linux" -I "$SRC/api/src/main/native"
       -I "$TORCH/include" -I "$TORCH/include/torch/csrc/api/include")
LIBS=(-L "$TORCH/lib" -ltorch -ltorch_cpu -lc10)
if [ "$CUDA" = 1 ]; then
  CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
  FLAGS+=(-DUSE_CUDA -I "$CUDA_HOME/include")
  for inc in $(python3 -c 'import nvidia, glob; print(" ".join(p for d in nvidia.__path__ for p in glob.glob(d + "/**/include", recursive=True)))' 2>/dev/null); do
    FLAGS+=(-I "$inc")
  done
  LIBS+=(-ltorch_cuda -lc10_cuda)
fi
mkdir -p "$OUT/obj"
NATIVE="$SRC/engines/pytorch/pytorch-native/src/main/native"
ls "$NATIVE"/*.cc | xargs -P "$(nproc)" -I{} sh -c 'g++ "$@" -c {} -o '"$OUT"'/obj/$(basename {} .cc).o' _ "${FLAGS[@]}"
g++ -shared -o "$OUT/libdjl_torch.so" "$OUT"/obj/*.o "${LIBS[@]}" -Wl,-rpath,"$TORCH/lib"
echo "built $OUT/libdjl_torch.so against torch $(python3 -c 'import torch; print(torch.__version__)') (cuda=$CUDA)"
