#!/usr/bin/env bash
# Usage: bash tools/dist_train.sh CONFIG NPROC [train.py args...]
# NPROC training processes: one per GPU, or CPU processes (gloo) without one.
if [ $# -lt 2 ]; then
  echo "Usage: bash tools/dist_train.sh CONFIG NPROC [train.py args...]" >&2
  exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
