#!/usr/bin/env bash
# The README's main-job command: installs what is missing, then runs the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
PY=.venv/bin/python
WORK_DIR=${WORK_DIR:-work_dirs/demo_digits_teacher}
$PY tools/train.py configs/demo/stylegan2_digits-32x32_teacher.py \
  --work-dir "$WORK_DIR" \
  --cfg-options train_cfg.max_iters="${DEMO_ITERS:-200}" \
  default_hooks.checkpoint.interval="${DEMO_ITERS:-200}" "$@"
