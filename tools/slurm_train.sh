#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:8] [SRUN_ARGS=...] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# One training task per GPU on a Slurm cluster, as MMagic's slurm_train.sh
# (srun and the environment: tools/slurm_launch.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_launch.sh" "$1" "$2" train.py \
    "$3" --work-dir="$4" "${@:5}"
