#!/usr/bin/env bash
# The benchmark (`npm run bench`, not a test): eoslab vs TF.js webgpu on the same
# adapter, matmul variants, HVP memory. Pass options after `--`, e.g.
#   npm run bench -- --quick --json runs/bench.json
# See bench/README.md. The benches run scripts/setup.sh themselves (bench/webgpu-setup.ts),
# so `npm run bench:cnn`, which calls node directly, sets the driver up too; without an
# adapter the WebGPU half is skipped in one line and the CPU figures are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
# `npm run bench -- --cnn …` runs the CNN benchmark instead (the same as `npm run bench:cnn -- …`).
if [[ "${1:-}" == "--cnn" ]]; then shift; exec node --import tsx bench/cnn.ts "$@"; fi
exec node --import tsx bench/run.ts "$@"
