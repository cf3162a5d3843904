#!/usr/bin/env bash
# GPU figures of the README's Speed section: StyleGAN2 FFHQ-256 teacher vs its
# 0.7-pruned student (random weights), batches 1, 8, 64, through MMagic's
# generator (mmcv ops), the plain-PyTorch eager module, CUDA graphs and
# torch.compile (fp32, then fp16), plus one StyleKD training step.
#
# On a machine with a GPU, in the repository root:
#   bash tools/analysis_tools/gpu_benchmark.sh
# Writes $OUT/<run>.log (console) and $OUT/<run>.json (benchmark.py's JSON
# line) per run and $OUT/summary.txt (the table; the device and versions are
# in every JSON). Runs go from the most to the least important, so that a
# time limit cuts the last ones only; a failing run does not stop the
# others. Knobs (to try the plumbing elsewhere): OUT
# (work_dirs/gpu_benchmark), BENCH_CONFIG, BENCH_DEVICE (cuda),
# BENCH_BATCHES ("1 8 64"), PYTHON (default: the project's .venv when there
# is one, else python).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-work_dirs/gpu_benchmark}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
CFG="${BENCH_CONFIG:-configs/stylekd/stylekd_stylegan2_c2_ffhq-256x256.py}"
DEVICE="${BENCH_DEVICE:-cuda}"
read -r -a BATCHES <<< "${BENCH_BATCHES:-1 8 64}"
mkdir -p "$OUT"

run() {
  local name=$1
  shift
  echo "[gpu_benchmark] $name: $*"
  "$PYTHON" tools/analysis_tools/benchmark.py "$CFG" --device "$DEVICE" \
    --batch-sizes "${BATCHES[@]}" --json "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 1 "$OUT/$name.log" > "$OUT/$name.json"
  echo "[gpu_benchmark] $name: exit $rc"
}

# The config's distillation losses include LPIPS (VGG16); an offline machine
# has no ImageNet weights, so the training step is timed with a randomly
# initialised VGG16 (same architecture, same cost; timing only).
run eager_fp32 --backend mmagic eager --random-lpips-weights
run graph_fp32 --backend graph --skip-train-step
run compile_fp32 --backend compile --skip-train-step
run graph_fp16 --backend graph --dtype fp16 --skip-train-step
run compile_fp16 --backend compile --dtype fp16 --skip-train-step

"$PYTHON" tools/analysis_tools/benchmark_summary.py "$OUT"/*.json \
  | tee "$OUT/summary.txt"
