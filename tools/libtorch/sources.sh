#!/usr/bin/env bash
# Puts in OUT what tools/libtorch/build-jni.sh compiles: DJL v0.36.0's PyTorch JNI sources, the JNI header generated
# from its PyTorchLibrary.java, and this JDK's jni.h.
#   tools/libtorch/sources.sh DJL_CHECKOUT OUT
# DJL_CHECKOUT is a clone of github.com/deepjavalibrary/djl (its v0.36.0 tag is used); the engine must be built
# (engine/target/lib holds the jars the header is generated against).
set -euo pipefail
cd "$(dirname "$0")/../.."
DJL=$1
OUT=$2
JDK=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -d engine/target/lib ] || ./mvnw -q -pl engine -am -DskipTests package
rm -rf "$OUT" && mkdir -p "$OUT/jni/linux"
git -C "$DJL" archive v0.36.0 engines/pytorch/pytorch-native/src/main/native api/src/main/native \
    engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java | tar -x -C "$OUT"
javac -h "$OUT/include" -d "$(mktemp -d)" -cp "engine/target/lib/*" \
    "$OUT/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
cp "$JDK/include/jni.h" "$OUT/jni/" && cp "$JDK/include/linux/jni_md.h" "$OUT/jni/linux/"
