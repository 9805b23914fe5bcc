#!/usr/bin/env bash
# The test command (`npm test`): makes sure a Vulkan driver is there, checks the
# embedded shaders are current, type-checks, then runs every uvu suite under tests/ through tsx.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/embed-shaders.mjs --check
npx --no-install tsc --noEmit -p .
exec node --import tsx node_modules/uvu/bin.js tests '\.test\.ts$' "$@"
