#!/usr/bin/env bash
# Builds and runs the performance suite; writes docs/benchmarks.md and docs/bench-*.png.
#   bench/run.sh [--quick] [--skip-512] [--only engine,gateway,overhead,fanout,realsize,peer] [--skip PARTS] ...
#   With --peer-loopfree LOOPFREE_CHECKOUT --peer-diffusers DIFFUSERS_CHECKOUT it also runs tools/peer/run.sh (the
#   authors' Loopfree inference on the same folder) against the engine.
# (All flags: bench/src/main/java/dev/oneway/bench/BenchOptions.java.)
set -euo pipefail
cd "$(dirname "$0")/.."
# the fan-out part holds 5,000 WebSockets open: two file descriptors each across client and gateway
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
./mvnw -q -DskipTests package -pl bench -am
# OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads sleep instead of spinning while they wait (section 0 of the report)
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 OMP_WAIT_POLICY=PASSIVE \
  exec java -Xmx8g -Djava.awt.headless=true -Dai.djl.offline=true -jar bench/target/oneway-bench.jar "$@"
