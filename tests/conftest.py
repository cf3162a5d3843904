"""Shared fixtures: tiny real MMagic generators and image folders."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_tool(*args, timeout=600, env=None):
    """Run ``python tools/<script> ...`` in the repo; return the result.

    The exit status is not checked here: wrap the call in :func:`check`
    when the tool must succeed, or assert on ``returncode`` when it must
    fail.
    """
    cmd = [sys.executable] + [str(a) for a in args]
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env)
    return proc


def build_noisy_generator(cfg, seed=0):
    """A generator with random weights; StyleGAN2's noise strengths (zero
    at init) made non-zero, so that the injected noise matters."""
    import torch
    from mmagic.registry import MODELS
    torch.manual_seed(seed)
    generator = MODELS.build(cfg).eval()
    with torch.no_grad():
        for name, param in generator.named_parameters():
            if name.endswith('noise_injector.weight'):
                param.uniform_(0.5, 1.0)
    return generator


def check(proc):
    assert proc.returncode == 0, (
        f'command failed ({proc.returncode}): {" ".join(proc.args)}\n'
        f'--- stdout ---\n{proc.stdout[-6000:]}\n'
        f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


@pytest.fixture
def image_folder(tmp_path):
    """A folder of 8 small RGB PNG images (random blobs), 16 x 16 px."""
    import cv2
    root = tmp_path / 'images'
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        img = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
        cv2.imwrite(str(root / f'{i:03d}.png'), img)
    return root
