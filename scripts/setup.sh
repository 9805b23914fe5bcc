#!/usr/bin/env bash
# One-time machine setup for eoslab's WebGPU path on Linux (safe to re-run; offline once done).
#  - libvulkan1: Dawn dlopens the Vulkan loader (libvulkan.so.1) and has no other Linux backend.
#  - chromium:   ships SwiftShader (/usr/lib/chromium/vk_swiftshader_icd.json), the fallback CPU
#                Vulkan driver, and is the browser for headless tests.
#  - lavapipe:   faster CPU driver, fetched privately into .cache/ (best effort).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libvulkan1 chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done

status=0
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: system packages present (${pkgs[*]})"
elif ! command -v apt-get > /dev/null; then
  echo "setup: not a Debian/Ubuntu system; install the Vulkan loader (libvulkan.so.1) and Chromium yourself" >&2
  status=1
else
  sudo=()
  [ "$(id -u)" -eq 0 ] || { command -v sudo > /dev/null && sudo=(sudo); }
  if [ "$(id -u)" -ne 0 ] && [ ${#sudo[@]} -eq 0 ]; then
    echo "setup: need root to install packages; run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    status=1
  else
    echo "setup: installing ${missing[*]}"
    # Only reached when something is missing, so re-runs never touch the network.
    "${sudo[@]}" apt-get update -q > /dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null
    echo "setup: installed ${missing[*]}"
  fi
fi

bash scripts/fetch-lavapipe.sh ||
  echo "setup: Mesa lavapipe unavailable; WebGPU will use Chromium's SwiftShader (slower)"
exit $status
