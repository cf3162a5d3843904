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

# the GPUs are part of the stamp: a .venv made without one has CPU-only ops
GPUS="$(nvidia-smi -L 2>/dev/null || true)"
want_stamp="$( (cat requirements/*.txt setup.cfg setup.py tools/setup_env.sh 2>/dev/null; echo "$GPUS") | sha256sum | cut -d' ' -f1)"
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

# Compute capabilities of the local GPUs as torch sees them ("9.0", ...);
# empty without a usable GPU.
GPU_ARCH="$("$PY" -c 'import torch; print(";".join(sorted({"%d.%d" % torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})) if torch.cuda.is_available() else "")' 2>/dev/null || true)"
if [ -z "$GPU_ARCH" ]; then
  step "build/install mmcv 2.1.0 with CPU ops (about 10 minutes the first time, cached after)"
  if ! "$PY" -c "import mmcv, sys; from mmcv.ops import upfirdn2d; sys.exit(mmcv.__version__ != '2.1.0')" 2>/dev/null; then
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" install "${C[@]}" --no-build-isolation mmcv==2.1.0
  fi
else
  step "find the CUDA toolkit for mmcv's CUDA ops (GPU compute capability $GPU_ARCH)"
  TORCH_CUDA="$("$PY" -c 'import torch; print(torch.version.cuda)')"
  if ! command -v nvcc >/dev/null 2>&1; then
    for d in "${CUDA_HOME:-}" /usr/local/cuda "/usr/local/cuda-$TORCH_CUDA"; do
      if [ -n "$d" ] && [ -x "$d/bin/nvcc" ]; then export PATH="$d/bin:$PATH"; break; fi
    done
  fi
  if ! command -v nvcc >/dev/null 2>&1; then
    echo "[setup_env] A GPU is here but no nvcc: mmcv's CUDA ops need the CUDA toolkit $TORCH_CUDA (torch was built with CUDA $TORCH_CUDA). Install it and put its bin/ on PATH or set CUDA_HOME." >&2
    false
  fi
  export CUDA_HOME="${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc)")")}"
  NVCC_CUDA="$(nvcc --version | sed -n 's/.*release \([0-9][0-9.]*\).*/\1/p')"
  if [ "${NVCC_CUDA%%.*}" != "${TORCH_CUDA%%.*}" ]; then
    echo "[setup_env] nvcc ($(command -v nvcc)) is CUDA $NVCC_CUDA but torch was built with CUDA $TORCH_CUDA: install the CUDA $TORCH_CUDA toolkit (or set CUDA_HOME to it)." >&2
    false
  fi
  step "build/install mmcv 2.1.0 with CUDA ops for $GPU_ARCH (nvcc $NVCC_CUDA, $(nproc) jobs; 197-239 s on an H200 with 16 cores)"
  if ! "$PY" -c "import mmcv, sys; from mmcv.ops import get_compiling_cuda_version as v; sys.exit(mmcv.__version__ != '2.1.0' or v() == 'not available')" 2>/dev/null; then
    MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$GPU_ARCH" \
      MAX_JOBS="${MAX_JOBS:-$(nproc)}" MMCV_CUDA_ARGS="-D__NV_NO_VECTOR_DEPRECATION_DIAG" \
      "${PIP[@]}" install "${C[@]}" --no-build-isolation --no-cache-dir \
      --force-reinstall --no-deps mmcv==2.1.0
  fi
  step "check that mmcv's upfirdn2d and fused_bias_leakyrelu run on CUDA"
  "$PY" - <<'PYCHECK'
import torch
from mmcv.ops import fused_bias_leakyrelu, upfirdn2d
x = torch.randn(2, 4, 8, 8)
kernel = torch.tensor([1., 3., 3., 1.])
kernel = kernel[None] * kernel[:, None]
kernel = kernel / kernel.sum()
bias = torch.randn(4)
for name, run in (('upfirdn2d', lambda t, k, b: upfirdn2d(t, k, padding=(1, 2))),
                  ('fused_bias_leakyrelu',
                   lambda t, k, b: fused_bias_leakyrelu(t, b))):
    cpu = run(x, kernel, bias)
    gpu = run(x.cuda(), kernel.cuda(), bias.cuda()).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-5), f'{name}: CUDA != CPU'
    print(f'[setup_env] {name}: CUDA matches CPU')
PYCHECK
fi

step "install mmagic 1.2.0 and runtime requirements (requirements/runtime.txt)"
"${PIP[@]}" install -q "${C[@]}" mmagic==1.2.0 -r requirements/runtime.txt

step "install mmstylekd (editable) with the test and deploy extras"
"${PIP[@]}" install -q "${C[@]}" --no-build-isolation -e ".[tests,deploy]"

step "check imports"
"$PY" -c "import mmstylekd, mmagic.models; from mmcv.ops import upfirdn2d; print('mmstylekd', mmstylekd.__version__)"
echo "$want_stamp" > "$STAMP"
echo "[setup_env] ready"
