#!/usr/bin/env bash
# The bench pack's run.sh (scripts/bench-pack.sh copies this file): the whole bench on a Linux x64
# machine with no Node and no package registry, in one command, each stage under its own time limit
# so that the whole run ends within 10 minutes. Every stage writes its JSON as it goes, so a stage
# cut off by its limit keeps the figures it measured; results/<time>/all.json merges them.
#   ./run.sh [--quick] [--skip-webgpu] [--skip-torch] [--skip-cpu-peers | --cpu-peers] [--out DIR]
# --skip-cpu-peers leaves out the CPU peers of the first two stages (TF.js wasm, NumPy, PyTorch CPU;
# minutes on one core at N = 5000), keeping the Wasm core: the default where PyTorch sees a CUDA
# device, so the 10 minutes go to the GPU figures; --cpu-peers keeps them there too.
# Stages: bench/run.ts (fc-tanh gradient/HVP, matmul, TF.js), bench/cnn.ts (cnn-relu), bench/sweep.ts
# (K = 16 sweep, batched vs one after another, PyTorch sequential), bench/torch-gpu.ts (PyTorch fp32
# fc-tanh and cnn-relu gradient/HVP). PyTorch runs on CUDA where the python found ($EOSLAB_PYTHON,
# else python3, /usr/bin/python3) has torch with a CUDA device, else on the CPU, else is skipped.
# Limits (seconds): EOSLAB_PACK_LIMITS="run cnn sweep torch", default "150 130 240 60" (an H200 with a
# 16-core host took 31, 47, 206 and 27 s without the CPU peers).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quick=() skip_webgpu=() skip_torch=0 cpu_peers=auto out=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick); shift ;;
    --skip-webgpu) skip_webgpu=(--skip-webgpu); shift ;;
    --skip-torch) skip_torch=1; shift ;;
    --skip-cpu-peers) cpu_peers=skip; shift ;;
    --cpu-peers) cpu_peers=keep; shift ;;
    --out) [ $# -ge 2 ] || { echo "run.sh: --out needs a directory" >&2; exit 1; }; out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1': use --quick, --skip-webgpu, --skip-torch, --skip-cpu-peers, --cpu-peers or --out DIR" >&2; exit 1 ;;
  esac
done
out=${out:-$here/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || { echo "run.sh: cannot create $out: pass --out DIR somewhere writable" >&2; exit 1; }
out=$(cd "$out" && pwd)
read -r lim_run lim_cnn lim_sweep lim_torch <<< "${EOSLAB_PACK_LIMITS:-150 130 240 60}"

export PATH="$here/node/bin:$PATH"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export EOSLAB_RESULTS="$out/runs"
# The Vulkan loader looks for driver manifests in /usr/share and /etc only; NVIDIA's container
# runtime mounts its manifest under /usr/local/nvidia, where no loader looks. Name it when nothing
# else is set or installed, so Dawn finds the GPU instead of reporting no adapter.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] &&
   ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json > /dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd; break; }
  done
fi
cd "$here/eoslab"
node=$here/node/bin/node
"$node" --version > /dev/null || { echo "run.sh: the packed Node does not run here ($here/node/bin/node): a Linux x86_64 machine with glibc ≥ 2.28 is needed" >&2; exit 1; }

torch_device=cpu
for py in ${EOSLAB_PYTHON:-python3 /usr/bin/python3}; do
  if "$py" -c 'import torch, numpy' 2> /dev/null; then
    "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null && torch_device=cuda
    break
  fi
done

peer_flags=()
if [ "$cpu_peers" = skip ] || { [ "$cpu_peers" = auto ] && [ "$torch_device" = cuda ]; }; then peer_flags=(--skip-cpu-peers); fi

{
  echo "eoslab bench pack $(cat "$here/COMMIT" 2>/dev/null), $(date -u +%FT%TZ)"
  echo "node $("$node" --version), $(nproc) cores, $(uname -r)"
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "PyTorch device: $torch_device; CPU peers: ${peer_flags[*]:-measured}"
  echo "Vulkan driver: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-the loader default search}}"
} | tee "$out/machine.txt"

status=0
stage() {  # stage NAME LIMIT_S ARGS…: one bench under a time limit; its table in NAME.txt, progress in NAME.log
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  echo "== $name (limit ${limit} s)"
  timeout -k 15 "$limit" "$node" --import tsx "$@" > "$out/$name.txt" 2> "$out/$name.log"
  local rc=$?
  cat "$out/$name.txt"
  case $rc in
    0) ;;
    124|137) echo "run.sh: $name stopped at its ${limit} s limit; the figures it measured are in $out/$name.json"; status=1 ;;
    *) echo "run.sh: $name failed (exit $rc): $(grep -v '^\s*$' "$out/$name.log" | tail -n1)"; status=1 ;;
  esac
  echo "   ($((SECONDS - t0)) s)"
}

stage bench "$lim_run" bench/run.ts "${quick[@]}" "${skip_webgpu[@]}" "${peer_flags[@]}" --json "$out/bench.json"
stage cnn "$lim_cnn" bench/cnn.ts "${quick[@]}" "${skip_webgpu[@]}" "${peer_flags[@]}" --peer-budget 45 --threads "$(nproc)" --json "$out/cnn.json"
torch_flags=(--torch-device "$torch_device")
[ $skip_torch = 1 ] && torch_flags=(--skip-torch)
stage sweep "$lim_sweep" bench/sweep.ts "${quick[@]}" "${skip_webgpu[@]}" "${torch_flags[@]}" --json "$out/sweep.json"
[ $skip_torch = 1 ] || stage torch "$lim_torch" bench/torch-gpu.ts "${quick[@]}" --device "$torch_device" --json "$out/torch.json"

"$node" -e '
  const fs = require("fs"), dir = process.argv[1], all = {};
  for (const f of ["bench", "cnn", "sweep", "torch"]) {
    try { Object.assign(all, JSON.parse(fs.readFileSync(`${dir}/${f}.json`, "utf8"))); } catch { all[`${f}_json`] = "missing"; }
  }
  fs.writeFileSync(`${dir}/all.json`, JSON.stringify(all, null, 2) + "\n");
' "$out"
echo "run.sh: results in $out (all.json merges the stages; *.txt tables, *.log progress) after $SECONDS s"
exit $status
