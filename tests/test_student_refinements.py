"""Singular Value Scaling, the student-initialisation refinement."""
import logging
import math

import pytest
import torch
from conftest import check, run_tool
from mmagic.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

import mmstylekd  # noqa: F401
from mmstylekd.models.students.refinements import (STUDENT_REFINEMENTS,
                                                   SingularValueScaling,
                                                   refine_student)

SG2 = dict(type='StyleGAN2StudentGenerator', out_size=16, style_channels=16,
           num_mlps=2, channels={4: 12, 8: 10, 16: 6})
SG3 = dict(type='StyleGAN3Generator', out_size=16, style_channels=16,
           img_channels=3, noise_size=16,
           synthesis_cfg=dict(type='SynthesisNetwork', channel_base=256,
                              channel_max=32, magnitude_ema_beta=0.999),
           mapping_cfg=dict(type='MappingNetwork', num_layers=1))


def rotation(angle):
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]], dtype=torch.float64)


def test_hand_computed_svd():
    # W = R(0.3) diag(9, 4) R(1.1)^T: singular values 9 and 4, so the
    # result is R(0.3) diag(3, 2) R(1.1)^T
    u, v = rotation(0.3), rotation(1.1)
    weight = (u @ torch.diag(torch.tensor([9., 4.], dtype=torch.float64))
              @ v.T).float()
    expected = u @ torch.diag(torch.tensor([3., 2.], dtype=torch.float64)) \
        @ v.T
    scaled = SingularValueScaling.scale_matrix(weight)
    assert torch.allclose(scaled.double(), expected, atol=1e-6)
    # a (1, out, in, k, k) MMagic convolution is seen as (out, in * k * k)
    conv = torch.zeros(1, 2, 1, 1, 2)
    conv[0, :, 0, 0, :] = weight
    assert torch.allclose(SingularValueScaling.scale_matrix(conv)[0, :, 0, 0],
                          scaled)


def synthesis_state(generator):
    return {k: v.clone() for k, v in generator.state_dict().items()}


@pytest.mark.parametrize('include_torgb', [False, True])
def test_stylegan2_student_what_changes(include_torgb):
    torch.manual_seed(0)
    student = MODELS.build(SG2)
    before = synthesis_state(student)
    report = STUDENT_REFINEMENTS.build(dict(
        type='SingularValueScaling', include_torgb=include_torgb))(student)
    after = student.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    torgb = {k for k in changed if k.startswith(('to_rgb1.', 'to_rgbs.'))}
    assert bool(torgb) == include_torgb
    assert not any(k.startswith('style_mapping.') for k in changed)
    assert not any('noise_injector' in k or 'constant_input' in k
                   for k in changed)
    conv = 'convs.0.conv.weight_orig'
    s_before = torch.linalg.svdvals(before[conv].reshape(10, -1).double())
    s_after = torch.linalg.svdvals(after[conv].reshape(10, -1).double())
    assert torch.allclose(s_after, s_before.sqrt(), rtol=1e-5)
    bias = 'convs.0.conv.style_modulation.bias'
    assert torch.allclose(
        after[bias], before[bias] / (before[bias].norm() + 1e-8).sqrt())
    assert report['weights'] > 0 and report['biases'] > 0


def test_stylegan3_to_rgb_is_the_last_layer():
    torch.manual_seed(0)
    generator = MODELS.build(SG3)
    before = synthesis_state(generator)
    SingularValueScaling()(generator)
    after = generator.state_dict()
    last = f'synthesis.{generator.synthesis.layer_names[-1]}.'
    for key in before:
        same = torch.equal(before[key], after[key])
        if key.startswith((last, 'style_mapping.')) or key.endswith(
                ('filter', 'transform', 'freqs', 'phases', 'w_avg', 'ema')):
            assert same, key
        elif key.endswith('.bias'):
            expected = before[key] / (before[key].norm() + 1e-8).sqrt()
            assert torch.allclose(after[key], expected), key
        elif key.endswith('.weight') and before[key].abs().sum() > 0:
            assert not same, key  # (input.affine.weight starts at 0)


DEMO = 'configs/demo/stylekd_stylegan2_digits-32x32.py'


def test_prune_tool_writes_the_refined_student(tmp_path):
    """The issue's command: the same pruning, with and without SVS (the
    demo config itself refines with SVS: refine=None switches it off)."""
    plain, refined = tmp_path / 'plain.pth', tmp_path / 'svs.pth'
    check(run_tool('tools/prune.py', DEMO, '--cfg-options',
                   'model.student_init.refine=None', '--out', plain))
    check(run_tool('tools/prune.py', DEMO, '--cfg-options',
                   'model.student_init.refine.type=SingularValueScaling',
                   '--out', refined))
    a = torch.load(plain)['state_dict']
    b = torch.load(refined)
    assert b['meta']['refine'] == dict(type='SingularValueScaling')
    b = b['state_dict']
    weights = 0
    for key in a:
        if not key.startswith('generator.'):
            continue
        name = key[len('generator.'):]
        if name.startswith(('style_mapping.', 'to_rgb1.', 'to_rgbs.')) or \
                'noise_injector' in name or 'constant_input' in name or \
                'injected_noise' in name:
            assert torch.equal(a[key], b[key]), key
        elif name.endswith('weight_orig'):
            out = a[key].shape[1] if a[key].dim() == 5 else a[key].shape[0]
            s_a = torch.linalg.svdvals(a[key].reshape(out, -1).double())
            s_b = torch.linalg.svdvals(b[key].reshape(out, -1).double())
            assert torch.allclose(s_b, s_a.sqrt(), rtol=1e-5, atol=1e-7), key
            weights += 1
    assert weights > 0


def test_unknown_student_init_keys_stop_naming_them(tmp_path):
    proc = run_tool('tools/prune.py', DEMO, '--cfg-options',
                    'model.student_init.refin.type=SingularValueScaling',
                    '--out', tmp_path / 's.pth')
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "['refin']" in out and "'refine'" in out and 'criterion' in out
    assert not (tmp_path / 's.pth').exists()


def test_refinement_builds_quietly_under_mmagics_scope_and_names_unknowns():
    with DefaultScope.overwrite_default_scope('mmagic'):
        student = MODELS.build(dict(
            type='StyleGAN2StudentGenerator', out_size=16, style_channels=16,
            num_mlps=2, ratio=0.5))
        logger = MMLogger.get_current_instance()
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger.addHandler(handler)
        try:
            refine_student(student, dict(type='SingularValueScaling'))
        finally:
            logger.removeHandler(handler)
        assert not [r for r in records if r.levelno >= logging.WARNING]
        with pytest.raises(KeyError, match='SingularValueScaling'):
            refine_student(student, dict(type='SingularValueScalin'))
