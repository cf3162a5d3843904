"""export.py writes StyleGAN3 students (T and R) and verifies them."""
import json
import os.path as osp
import runpy

import numpy as np
import pytest
import torch
from conftest import REPO
from test_stylegan3_plain import (NOISE, STYLE, build, rel_l2,
                                  synthesis_args)

import mmstylekd  # noqa: F401

CONFIG = """custom_imports = dict(imports=['mmstylekd'],
                      allow_failed_imports=False)
model = dict(generator=dict(
    type='StyleGAN3StudentGenerator', out_size=16, style_channels={style},
    img_channels=3, noise_size={noise}, channels={channels},
    synthesis_cfg=dict(type='SynthesisNetwork', **{synthesis})))
"""


@pytest.mark.parametrize('radial', [False, True], ids=['T', 'R'])
def test_export_writes_verified_stylegan3_student(radial, tmp_path):
    channels = [9, 5, 14, 3]
    student = build(radial=radial, channels=channels)
    config = tmp_path / 'sg3_student.py'
    config.write_text(CONFIG.format(
        channels=channels, synthesis=synthesis_args(radial, 16),
        style=STYLE, noise=NOISE))
    ckpt = tmp_path / 'student.pth'
    torch.save(dict(state_dict={f'generator_ema.module.{k}': v for k, v in
                                student.state_dict().items()}), ckpt)
    out = tmp_path / 'deploy'
    main = runpy.run_path(osp.join(REPO, 'tools/deployment/export.py'),
                          run_name='tool')['main']
    main([str(config), str(ckpt), '--out', str(out)])
    metadata = json.loads((out / 'metadata.json').read_text())
    assert metadata['verification']['passed']
    assert all(e < 1e-5 for e in
               metadata['max_relative_l2_vs_mmagic'].values())
    assert metadata['channels'][:5] == [
        int(student.synthesis.input.weight.shape[0])] + channels
    # docs/deployment.md's onnxruntime use: input z, output image
    import onnxruntime as ort
    session = ort.InferenceSession(str(out / 'student.onnx'),
                                   providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['z']
    z = np.random.default_rng(0).standard_normal((3, NOISE), dtype=np.float32)
    image = session.run(['image'], {'z': z})[0]
    with torch.no_grad():
        ref = student(torch.from_numpy(z))
    assert rel_l2(torch.from_numpy(image), ref) < 1e-4
    ts = torch.jit.load(str(out / 'student.ts'))
    assert rel_l2(ts(torch.from_numpy(z)), ref) < 1e-4
