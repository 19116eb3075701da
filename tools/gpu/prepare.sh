#!/usr/bin/env bash
# Assembles .gpu/: what a GPU machine with PyTorch but no Java needs to run the engine there.
#   tools/gpu/prepare.sh DJL_CHECKOUT
# DJL_CHECKOUT is a clone of github.com/deepjavalibrary/djl (its v0.36.0 tag is used).
# Result (about 57 MiB): .gpu/jre17 (jlink'd JRE), .gpu/cp (engine jar and its jars, without the
# CPU native library), .gpu/djlsrc (DJL's JNI sources, the generated JNI header and jni.h), .gpu/run.sh.
# On the GPU machine: bash .gpu/run.sh  (builds the JNI against its PyTorch, then benchmarks).
set -euo pipefail
cd "$(dirname "$0")/../.."
DJL=$1
./mvnw -q -pl engine -am -DskipTests package
rm -rf .gpu && mkdir -p .gpu/cp
jlink --add-modules java.base,java.desktop,java.management,java.logging,jdk.unsupported,java.naming \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output .gpu/jre17
cp engine/target/oneway-engine.jar .gpu/cp/
ls engine/target/lib/*.jar | grep -v -e pytorch-native -e pytorch-jni | xargs -I{} cp {} .gpu/cp/
# DJL's loader reads jnilib/pytorch.properties from the JNI jar; the libraries in it are for 2.7.1 only.
ROOT=$PWD
JNI_JAR=$(ls "$ROOT"/engine/target/lib/pytorch-jni-*.jar)
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$JNI_JAR" 'jnilib/pytorch.properties' 'META-INF/*' && zip -qr "$ROOT/.gpu/cp/pytorch-jni-properties.jar" .)
rm -rf "$tmp"
bash tools/libtorch/sources.sh "$DJL" .gpu/djlsrc
cp tools/gpu/run.sh .gpu/run.sh
du -sh .gpu
