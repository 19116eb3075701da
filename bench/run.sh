#!/usr/bin/env bash
# Builds and runs the performance suite; writes docs/benchmarks.md and docs/bench-*.png.
#   bench/run.sh [--quick] [--skip-512] [--only engine,gateway,wrk,overhead,saturation,fanout,realsize,peer] [--skip PARTS] ...
#   With --peer-loopfree LOOPFREE_CHECKOUT --peer-diffusers DIFFUSERS_CHECKOUT it also runs tools/peer/run.sh (the
#   authors' Loopfree inference on the same folder) against the engine; --peer-libtorch DIR adds the engine on the
#   libtorch in DIR (tools/libtorch/build.sh puts DJL's JNI there).
# (All flags: bench/src/main/java/dev/oneway/bench/BenchOptions.java.)
set -euo pipefail
cd "$(dirname "$0")/.."
# the fan-out part holds 5,000 and 20,000 WebSockets open: one file descriptor each in the client and in the gateway
# JVM (capped below the open-files limit when it cannot be raised)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
# the wrk part drives the gateway with Debian's wrk; installed here when missing (as root), else that part is skipped
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; } || true
fi
command -v wrk >/dev/null 2>&1 || echo "bench/run.sh: wrk not found (apt-get install wrk); its part will say so and be skipped" >&2
./mvnw -q -DskipTests package -pl bench -am
# OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads sleep instead of spinning while they wait (section 0 of the report);
# GLIBC_TUNABLES: an allocator that reuses tensor memory (TorchRuntime.CPU_ENVIRONMENT)
GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296 OMP_WAIT_POLICY=PASSIVE \
  exec java -Xmx8g -Djava.awt.headless=true -Dai.djl.offline=true -jar bench/target/oneway-bench.jar "$@"
