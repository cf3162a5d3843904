"""fp16 / bf16 fast path: figures against fp32, NVlabs' fp16
pre-normalisation of the modulated convolutions, the measuring tool."""
import json
import math

import torch
from conftest import check, run_tool
from test_deployment import DEMO, rel_l2, tiny_generator

from mmstylekd.deployment import PlainStyleGAN2Generator
from mmstylekd.deployment.half_precision import (compare_images,
                                                 half_precision_errors)


def test_compare_images_counts_what_is_not_finite():
    ref = torch.zeros(3, 3, 4, 4).uniform_(-1, 1)
    out = ref.clone()
    out[1, 0, 0, 0] = float('inf')
    out[1, 2, 1, 1] = float('nan')
    fig = compare_images(out, ref)
    assert fig['nonfinite'] == 2 and fig['nonfinite_images'] == 1
    assert math.isnan(fig['rel_l2']) and math.isfinite(fig['psnr_db'])
    same = compare_images(ref, ref)
    assert same['rel_l2'] == 0 and same['psnr_db'] == math.inf
    noisy = compare_images(ref + 0.01, ref)  # MSE ~1e-4 on a peak of 2
    assert abs(noisy['psnr_db'] - 10 * math.log10(4 / 1e-4)) < 0.5


def test_half_precision_errors_of_a_tiny_generator():
    gen = tiny_generator('student-32px')
    figures = half_precision_errors(gen, num_samples=6, batch_size=4)
    assert set(figures) == {'fp16', 'bf16'}
    for dtype, fig in figures.items():
        assert fig['images'] == 6 and fig['nonfinite'] == 0, dtype
        assert 0 < fig['rel_l2'] < 3e-2 and fig['psnr_db'] > 30, (dtype, fig)
    # fp16 has 3 more mantissa bits than bf16
    assert figures['fp16']['rel_l2'] < figures['bf16']['rel_l2']


def test_fp16_prenormalisation_survives_large_styles():
    """Styles of ~400: their squares (1.6e5) overflow fp16 in the
    demodulation sum unless styles and weights are pre-normalised as
    NVlabs does (the images came out 0.6 off without it). fp32 is
    unchanged: the demodulation cancels the factors, eps scaled alike."""
    gen = tiny_generator('mmagic-16px')
    with torch.no_grad():
        for module in gen.modules():
            if hasattr(module, 'style_modulation') and module.demodulate:
                module.style_modulation.bias.fill_(400.)
    z = torch.randn(4, gen.noise_size)
    with torch.no_grad():
        ref = gen(z, randomize_noise=False)
        assert rel_l2(PlainStyleGAN2Generator.from_mmagic(gen)(z),
                      ref) < 1e-5
    fig = half_precision_errors(gen, ['fp16'], num_samples=4)['fp16']
    assert fig['nonfinite'] == 0 and fig['rel_l2'] < 1e-2, fig


def test_half_precision_tool_on_the_demo_teacher():
    proc = check(run_tool('tools/analysis_tools/half_precision.py', DEMO,
                          '--num-samples', '4', '--batch-size', '4',
                          '--fail-above', '0.05', '--json'))
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith('teacher   fp16') for line in lines), lines
    results = json.loads(lines[-1])['results']
    assert set(results) == {'teacher'}
    for dtype in ('fp16', 'bf16'):
        fig = results['teacher'][dtype]
        assert fig['nonfinite'] == 0 and fig['rel_l2'] < 0.05, (dtype, fig)
