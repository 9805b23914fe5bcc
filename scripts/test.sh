#!/usr/bin/env bash
# The test command (`npm test`): makes sure a Vulkan driver is there, checks the
# embedded shaders are current, type-checks, then runs every uvu suite under
# tests/ through tsx and closes with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/embed-shaders.mjs --check
# The AssemblyScript core into build/ (gitignored): the Wasm tests load it.
bash scripts/build-wasm.sh
npx --no-install tsc --noEmit -p .
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
node --import tsx node_modules/uvu/bin.js --no-color tests '\.test\.ts$' "$@" 2>&1 | grep -v '^Warning: maxDynamic' | tee "$log"
status=${PIPESTATUS[0]}
set -e
total=$(sed -n 's/^ *Total: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
passed=$(sed -n 's/^ *Passed: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -n "$total" ] && [ -n "$passed" ]; then
  echo "${passed} passed, $((total - passed)) failed"
fi
exit "$status"
