#!/usr/bin/env bash
# The main job (`npm start`): the Edge-of-Stability demo. Full-batch GD on a
# 256-point, 4-class Gaussian mixture with a tanh MLP (MSE), λ₁ measured every
# 20 steps with exact HVPs: it sharpens up to 2/η = 6.67 and then stays there
# while the loss keeps falling. Writes a run directory (printed at the end).
# Extra arguments go to `eoslab train` (e.g. -- --force, --opt polyak --beta 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node hosts/node/bin/eoslab.mjs train gmm-256-16-4 mlp:64x64:tanh mse 0.3 1000 --neigs 2 --eig-freq 20 --checkpoint-every 250 "$@"
