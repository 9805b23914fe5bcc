#!/usr/bin/env bash
# Builds the AssemblyScript core (core/wasm) into build/: eoslab.wasm (SIMD +
# threads, shared memory), eoslab-simd.wasm (SIMD, unshared memory, for pages
# without cross-origin isolation), eoslab-scalar.wasm (no SIMD) and
# eoslab-relaxed.wasm (SIMD + threads + relaxed SIMD: FMA in the micro-kernel;
# hosts pick it where WebAssembly.validate accepts it).
set -euo pipefail
cd "$(dirname "$0")/.."
for target in threads simd scalar relaxed; do
  npx --no-install asc --config asconfig.json --target "$target"
done
