#!/bin/bash
# GPU run of the Java engine: build DJL's JNI against the device's PyTorch, then benchmark SD1.5 and SD2.1-base.
nvidia-smi -L
TL=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
TV=$(python3 -c 'import torch;print(torch.__version__.split("+")[0])')
timeout 120 bash tools/libtorch/build-jni.sh .gpu/djlsrc /tmp/djlout > $OUT/jni-build.log 2>&1; tail -1 $OUT/jni-build.log
cp /tmp/djlout/libdjl_torch.so $TL/ || exit 1
export PYTORCH_LIBRARY_PATH=$TL PYTORCH_VERSION=$TV PYTORCH_FLAVOR=cu130
J=(.gpu/jre17/bin/java -Xmx32g -Dai.djl.offline=true -cp ".gpu/cp/*" dev.oneway.engine.cli.EngineCli)
timeout 160 "${J[@]}" bench --model random-sd15 --width 512 --height 512 --batch 1,4,8 --sampler tiue,looped --device gpu --dtype float16 --repeats 3 --warmup 1 2>&1 | grep -v "^\s*at \|SLF4J" | tee $OUT/bench-gpu-sd15.jsonl
timeout 130 "${J[@]}" bench --model random-sd21 --width 512 --height 512 --batch 1,4,8 --sampler tiue,looped --device gpu --dtype float16 --repeats 3 --warmup 1 2>&1 | grep -v "^\s*at \|SLF4J" | tee $OUT/bench-gpu-sd21.jsonl
