#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs the suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
.venv/bin/python -m flake8 mmstylekd tools tests configs
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=10 "$@"
