#!/usr/bin/env bash
# The README's main-job command: installs what is missing, then distils the
# committed digits teacher into a student with 75% fewer channels on CPU and
# reports the student's size and how close it is to the teacher.
# The terminal shows progress, warnings and where results go (train.py
# --quiet); the full config, hook table and environment are in the log file
# of the run's folder under WORK_DIR. Extra arguments go to tools/train.py,
# e.g. a shorter run:
#   bash tools/run_demo.sh --cfg-options train_cfg.max_iters=100 \
#     train_cfg.val_interval=100 default_hooks.checkpoint.interval=100
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
PY="${MMSTYLEKD_VENV:-.venv}/bin/python"
CFG=configs/demo/stylekd_stylegan2_digits-32x32.py
WORK_DIR=${WORK_DIR:-work_dirs/stylekd_stylegan2_digits-32x32}
start=$(date +%s)
$PY tools/train.py "$CFG" --work-dir "$WORK_DIR" --quiet "$@"
end=$(date +%s)
CKPT="$(cat "$WORK_DIR/last_checkpoint")"
echo
echo "== distillation took $((end - start)) s; last checkpoint: $CKPT"
echo "== teacher vs student size (one 32 px image)"
$PY tools/analysis_tools/complexity.py "$CFG"
echo "== teacher vs student images (same z, same noise)"
$PY tools/analysis_tools/consistency.py "$CFG" "$CKPT" --num-samples 256 \
  --digit-agreement --save-npz "$WORK_DIR/teacher_student_pairs.npz" --overwrite
echo "== teacher | student grids: $WORK_DIR/*/vis_data/vis_image/teacher_vs_student_*.png"
