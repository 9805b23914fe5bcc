#!/usr/bin/env bash
# Builds the AssemblyScript core (core/wasm) into build/: eoslab.wasm (SIMD +
# threads, shared memory), eoslab-simd.wasm (SIMD, unshared memory, for pages
# without cross-origin isolation) and eoslab-scalar.wasm (no SIMD).
set -euo pipefail
cd "$(dirname "$0")/.."
for target in threads simd scalar; do
  npx --no-install asc --config asconfig.json --target "$target"
done
