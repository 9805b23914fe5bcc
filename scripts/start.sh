#!/usr/bin/env bash
# The main job (`npm start`): make sure a Vulkan driver is there, then run the
# eoslab demo. Extra arguments go to `eoslab demo` (see `npx eoslab demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node hosts/node/bin/eoslab.mjs demo "$@"
