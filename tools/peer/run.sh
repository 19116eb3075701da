#!/usr/bin/env bash
# The authors' Loopfree inference on a model folder, timed at batch 1 (tools/peer/loopfree_peer.py).
#   tools/peer/run.sh LOOPFREE_CHECKOUT DIFFUSERS_CHECKOUT MODEL_FOLDER SIZE [WARMUP] [REPEATS]
# Python: $PEER_PYTHON if set, else python3 when it imports torch, transformers and safetensors, else a virtual
# environment made once at ${PEER_VENV:-/tmp/oneway-peer-venv} from the machine's wheels (pip's own configuration);
# diffusers itself needs requests.
# The environment is the engine's (TorchRuntime.CPU_ENVIRONMENT): OMP_WAIT_POLICY=PASSIVE and glibc's allocator tunables.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n 2,6p "$0" >&2
  exit 2
fi
loopfree=$(cd "$1" && pwd); diffusers=$(cd "$2" && pwd); model=$3; size=$4; warmup=${5:-1}; repeats=${6:-3}
[ -f "$loopfree/loopfree.py" ] || { echo "no loopfree.py in $loopfree: not a Loopfree checkout" >&2; exit 2; }
[ -d "$diffusers/src/diffusers" ] || { echo "no src/diffusers in $diffusers: not a diffusers checkout" >&2; exit 2; }
needs="import torch, transformers, safetensors, PIL, numpy, requests"
python=${PEER_PYTHON:-}
if [ -z "$python" ]; then
  if python3 -c "$needs" 2>/dev/null; then
    python=python3
  else
    venv=${PEER_VENV:-/tmp/oneway-peer-venv}
    if ! "$venv/bin/python" -c "$needs" 2>/dev/null; then
      echo "[peer] making $venv (torch, transformers, safetensors from the machine's wheels)" >&2
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q torch transformers safetensors pillow numpy requests >&2
    fi
    python=$venv/bin/python
  fi
fi
export OMP_WAIT_POLICY=PASSIVE TORCH_CPP_LOG_LEVEL=ERROR \
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296
export PYTHONPATH="$diffusers/src${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" "$(dirname "$0")/loopfree_peer.py" --loopfree "$loopfree" --model "$model" --size "$size" \
  --warmup "$warmup" --repeats "$repeats"
