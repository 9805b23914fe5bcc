#!/usr/bin/env bash
# The main job (`npm start`): the Edge-of-Stability demo. Full-batch GD on a
# 256-point, 4-class Gaussian mixture with a tanh MLP (MSE), λ₁ measured every
# 20 steps with exact HVPs: it sharpens up to 2/η = 6.67 and then stays there
# while the loss keeps falling. Writes a run directory, then its figures and
# report.html (`eoslab plot`), and prints the report's path.
# Extra arguments go to `eoslab train` (e.g. -- --force, --opt polyak --beta 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# stdout through tee (progress goes to stderr and keeps its bar): the run
# directory is read from the log, as a fresh run and a reused one print it.
node hosts/node/bin/eoslab.mjs train gmm-256-16-4 mlp:64x64:tanh mse 0.3 1000 --neigs 2 --eig-freq 20 --checkpoint-every 250 "$@" | tee "$log"
dir=$(sed -n -e 's/^run directory: //p' -e 's/^already finished ([^)]*): \(.*\)  (--force recomputes it)$/\1/p' "$log" | tail -n 1)
if [ -z "$dir" ] || [ ! -f "$dir/metadata.json" ]; then
  echo "eoslab: could not find the run directory in the train output: run \`npx eoslab plot RUN_DIR\` yourself" >&2
  exit 1
fi
node hosts/node/bin/eoslab.mjs plot "$dir" > /dev/null
echo "report: $dir/report.html"
