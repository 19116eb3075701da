#!/bin/sh
# Usage: libtorch.sh FLAVOR LIB_DIR OUT_DIR   (FLAVOR: cpu or a CUDA flavor such as cu128)
#
# Unpacks DJL's libtorch of one flavor and the matching JNI library into OUT_DIR, so that a worker started
# with PYTORCH_LIBRARY_PATH=OUT_DIR and PYTORCH_FLAVOR=FLAVOR loads PyTorch from there and never downloads
# or extracts native code at run time. LIB_DIR is the worker's target/lib: its pytorch-native-cpu jar names
# the PyTorch version and its pytorch-jni jar holds the JNI library of every flavor. Other flavors are
# fetched from Maven Central (ai.djl.pytorch:pytorch-native-FLAVOR:VERSION, classifier linux-x86_64).
set -eu
flavor="$1"
lib=$(cd "$2" && pwd)
out="$3"
classifier=linux-x86_64

cpu_jar=$(ls "$lib"/pytorch-native-cpu-*-"$classifier".jar)
version=${cpu_jar##*/pytorch-native-cpu-}
version=${version%-"$classifier".jar}

work=$(mktemp -d)
if [ "$flavor" = cpu ]; then
  native_jar="$cpu_jar"
else
  (cd "$work" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="ai.djl.pytorch:pytorch-native-$flavor:$version:jar:$classifier" -DoutputDirectory="$work")
  native_jar="$work/pytorch-native-$flavor-$version-$classifier.jar"
fi

mkdir -p "$out"
cd "$work"
jar xf "$native_jar" "pytorch/$flavor/$classifier/"
cp "pytorch/$flavor/$classifier/"* "$out/"
jar xf "$lib"/pytorch-jni-*.jar "jnilib/$classifier/$flavor/libdjl_torch.so"
cp "jnilib/$classifier/$flavor/libdjl_torch.so" "$out/"
cd /
rm -rf "$work"
test -f "$out/libtorch.so"
echo "libtorch $version ($flavor) in $out"
