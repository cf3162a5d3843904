#!/usr/bin/env bash
# GPU figures of the README's Speed section: StyleGAN2 FFHQ-256 teacher vs its
# 0.7-pruned student (random weights), batches 1, 8, 64, through MMagic's
# generator (mmcv ops), the plain-PyTorch eager module, CUDA graphs and
# torch.compile (fp32, then fp16), plus one StyleKD training step.
#
# On the GPU machine (see ../shared/gpu/README.md), in the repo root:
#   bash .gpu/run.sh bash tools/analysis_tools/gpu_benchmark.sh
# Writes $OUT/<run>.log (console) and $OUT/<run>.json (benchmark.py's JSON
# line) per run, $OUT/gpu.txt (nvidia-smi) and $OUT/summary.txt (the table).
# Runs go from the most to the least important, so that a time limit
# (CMD_TIMEOUT) cuts the last ones only; a failing run does not stop the
# others. Knobs (to try the plumbing elsewhere): BENCH_CONFIG,
# BENCH_DEVICE (cuda), BENCH_BATCHES ("1 8 64"), PYTHON.
set -uo pipefail
OUT="${OUT:-.gpu/out}"
PY="${PYTHON:-python}"
CFG="${BENCH_CONFIG:-configs/stylekd/stylekd_stylegan2_c2_ffhq-256x256.py}"
DEVICE="${BENCH_DEVICE:-cuda}"
read -r -a BATCHES <<< "${BENCH_BATCHES:-1 8 64}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv \
  > "$OUT/gpu.txt" 2>&1 || true

# The config's distillation losses include LPIPS (VGG16). The machine is
# offline: for the TIMING of the training step only, a randomly initialised
# VGG16 stands in for torchvision's ImageNet file (same architecture, same
# cost).
TORCH_HOME="$(mktemp -d)"
export TORCH_HOME
"$PY" -W ignore - <<'EOF'
import os, torch, torchvision
from mmstylekd.models.losses.lpips_backbone import lpips_backbone_file
path = lpips_backbone_file('vgg')
os.makedirs(os.path.dirname(path), exist_ok=True)
torch.save(torchvision.models.vgg16().state_dict(), path)
print('random VGG16 for LPIPS timing at', path)
EOF

run() {
  local name=$1
  shift
  echo "[gpu_benchmark] $name: $*"
  "$PY" tools/analysis_tools/benchmark.py "$CFG" --device "$DEVICE" \
    --batch-sizes "${BATCHES[@]}" --json "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 1 "$OUT/$name.log" > "$OUT/$name.json"
  echo "[gpu_benchmark] $name: exit $rc"
}

run eager_fp32 --backend mmagic eager
run graph_fp32 --backend graph --skip-train-step
run compile_fp32 --backend compile --skip-train-step
run graph_fp16 --backend graph --dtype fp16 --skip-train-step
run compile_fp16 --backend compile --dtype fp16 --skip-train-step

"$PY" - "$OUT" <<'EOF' | tee "$OUT/summary.txt"
import glob, json, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.json'))):
    try:
        fig = json.load(open(path))
    except (ValueError, OSError):
        print(f'{os.path.basename(path)}: no result (see the .log)')
        continue
    env = fig['environment']
    print(f'{os.path.basename(path)}: {env["device_name"]}, torch '
          f'{env["torch"]}, CUDA {env["cuda"]}, mmcv {env["mmcv"]}')
    for r in fig['results']:
        print(f'  {r["backend"]:9s} {r["dtype"]} batch {r["batch"]:3d}: '
              f'teacher {r["teacher"]["median"]:8.2f} ms, student '
              f'{r["student"]["median"]:8.2f} ms, speed-up '
              f'{r["speedup"]:5.2f}x (MACs {fig["macs"]["ratio"]:.2f}x)')
    if fig.get('train_step'):
        t = fig['train_step']
        print(f'  training step (batch {t["batch"]}): {t["seconds"]:.3f} s')
EOF
