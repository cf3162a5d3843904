#!/usr/bin/env bash
# Turns a fresh machine (python3 only) into the project's environment: a virtual
# environment at .venv with the pinned, measured stack and mmstylekd in editable mode.
# Re-running on a ready machine takes seconds (a stamp of the requirement files is kept).
# Every step names itself and the script stops at the first failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${MMSTYLEKD_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.mmstylekd-stamp"

step() { echo "[setup_env] $*"; CURRENT_STEP="$*"; }
trap 'echo "[setup_env] FAILED at step: ${CURRENT_STEP:-start} (exit $?)" >&2' ERR

want_stamp="$(cat requirements/*.txt setup.cfg setup.py tools/setup_env.sh 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  step "environment up to date ($VENV); checking imports"
  "$PY" -c "import mmstylekd, mmagic.models; from mmcv.ops import upfirdn2d" \
    && { echo "[setup_env] ready"; exit 0; }
  echo "[setup_env] import check failed; reinstalling"
fi

step "create virtual environment at $VENV"
if [ ! -x "$PY" ]; then python3 -m venv "$VENV"; fi
PIP=("$PY" -m pip --disable-pip-version-check)
C=(-c requirements/constraints.txt)

step "upgrade pip and install build tools (requirements/build.txt)"
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q "${C[@]}" -r requirements/build.txt

step "install torch and torchvision (requirements/torch.txt)"
"${PIP[@]}" install -q "${C[@]}" -r requirements/torch.txt

step "install mmengine"
"${PIP[@]}" install -q "${C[@]}" mmengine==0.10.7

step "build/install mmcv 2.1.0 with ops (about 10 minutes the first time, cached after)"
if ! "$PY" -c "import mmcv, sys; from mmcv.ops import upfirdn2d; sys.exit(mmcv.__version__ != '2.1.0')" 2>/dev/null; then
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" install "${C[@]}" --no-build-isolation mmcv==2.1.0
fi

step "install mmagic 1.2.0 and runtime requirements (requirements/runtime.txt)"
"${PIP[@]}" install -q "${C[@]}" mmagic==1.2.0 -r requirements/runtime.txt

step "install mmstylekd (editable) with test extras"
"${PIP[@]}" install -q "${C[@]}" --no-build-isolation -e ".[tests]"

step "check imports"
"$PY" -c "import mmstylekd, mmagic.models; from mmcv.ops import upfirdn2d; print('mmstylekd', mmstylekd.__version__)"
echo "$want_stamp" > "$STAMP"
echo "[setup_env] ready"
