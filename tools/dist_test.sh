#!/usr/bin/env bash
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# NPROC test processes: one per GPU, or CPU processes (gloo) without one.
if [ $# -lt 3 ]; then
  echo "Usage: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]" >&2
  exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
