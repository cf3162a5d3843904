#!/usr/bin/env bash
# Usage: bash tools/dist_launch.sh TOOL NPROC [TOOL args...]
# Starts NPROC processes of tools/TOOL (train.py, test.py, prune.py) on this machine
# with torch.distributed.run: one per GPU, or, on a machine without a GPU,
# CPU processes that communicate through gloo. Runs the project's
# environment (.venv, made by tools/setup_env.sh) unless PYTHON names another
# interpreter. NNODES, NODE_RANK, MASTER_ADDR and PORT as in MMagic's scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOL=$1
NPROC=$2
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
if [ ! -x "$PYTHON" ]; then
  echo "No Python at $PYTHON: run 'bash tools/setup_env.sh' first (or set PYTHON)." >&2
  exit 2
fi

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$ROOT/tools/$TOOL" "${@:3}" --launcher pytorch
