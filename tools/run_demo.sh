#!/usr/bin/env bash
# The README's main-job command: installs what is missing, then distils the
# committed digits teacher into a student with 75% fewer channels on CPU and
# reports the student's size and how close it is to the teacher.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
PY=.venv/bin/python
# Third-party deprecation notices that every process (and dataloader worker)
# repeats and that say nothing about this run: setuptools' pkg_resources (via
# mmengine), torch's pytree rename (via diffusers) and mmcv's gradfix note.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore:pkg_resources is deprecated:UserWarning,ignore:\`torch.utils._pytree._register_pytree_node\` is deprecated:FutureWarning,ignore:Since aten:UserWarning}"
CFG=configs/demo/stylekd_stylegan2_digits-32x32.py
WORK_DIR=${WORK_DIR:-work_dirs/stylekd_stylegan2_digits-32x32}
start=$(date +%s)
$PY tools/train.py "$CFG" --work-dir "$WORK_DIR" "$@"
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
