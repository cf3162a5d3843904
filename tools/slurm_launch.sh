#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:8] [SRUN_ARGS=...] \
#   bash tools/slurm_launch.sh PARTITION JOB_NAME TOOL [TOOL args...]
# Starts GPUS tasks of tools/TOOL (train.py, test.py, prune.py) with srun,
# GPUS_PER_NODE per node, as MMagic's slurm scripts do; tools/slurm_train.sh
# and tools/slurm_test.sh are its MMagic-shaped front ends. Runs the
# project's environment (.venv, made by tools/setup_env.sh) when there is
# one, unless PYTHON names another interpreter. On nodes without GPUs set
# GRES="" (no --gres request): the tasks then communicate through gloo.
set -x

PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
SRUN_ARGS=${SRUN_ARGS:-""}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    ${GRES:+--gres=${GRES}} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "${PYTHON}" -u "$ROOT/tools/${TOOL}" "${@:4}" --launcher="slurm"
