"""tools/prune.py, analysis_tools/complexity.py and consistency.py."""
import json

import numpy as np
import pytest
import torch
from conftest import check, run_tool
from mmagic.registry import MODELS

import mmstylekd  # noqa: F401

TINY = 'tests/configs/stylekd_tiny_stylegan2-16x16.py'
TEACHER = dict(type='StyleGANv2Generator', out_size=16, style_channels=16,
               num_mlps=2)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A teacher in MMagic's published layout (``generator_ema.module.``)."""
    torch.manual_seed(0)
    teacher = MODELS.build(TEACHER)
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    state = {f'generator_ema.module.{k}': v
             for k, v in teacher.state_dict().items()}
    state['generator_ema.steps'] = torch.tensor(10)
    torch.save(dict(state_dict=state, meta=dict(iter=10)), path)
    return path


def last_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_prune_writes_mmagic_checkpoint(tmp_path, teacher_ckpt):
    out = tmp_path / 'student.pth'
    check(run_tool('tools/prune.py', TINY, '--teacher-checkpoint',
                   teacher_ckpt, '--ratio', '0.7', '--out', out))
    ckpt = torch.load(out, map_location='cpu')  # weights_only
    meta = ckpt['meta']
    assert meta['ratio'] == 0.7
    assert meta['criterion']['type'] == 'WeightL1Importance'
    assert meta['student_cfg']['channels'] == {4: 154, 8: 154, 16: 154}
    assert len(meta['kept_channels']['convs.3']) == 154
    state = ckpt['state_dict']
    gen = {k[len('generator.'):]: v for k, v in state.items()
           if k.startswith('generator.')}
    ema = {k[len('generator_ema.module.'):]: v for k, v in state.items()
           if k.startswith('generator_ema.module.')}
    assert gen.keys() == ema.keys()
    student = MODELS.build(meta['student_cfg'])
    student.load_state_dict(gen)  # strict: architecture from config alone
    teacher = torch.load(teacher_ckpt)['state_dict']
    kept = meta['kept_channels']['constant_input']
    assert torch.equal(gen['constant_input.input'],
                       teacher['generator_ema.module.constant_input.input']
                       [:, kept])


def test_prune_errors_name_the_problem(tmp_path, teacher_ckpt):
    out = tmp_path / 'student.pth'
    out.write_bytes(b'previous result')
    proc = run_tool('tools/prune.py', TINY, '--teacher-checkpoint',
                    teacher_ckpt, '--out', out)
    assert proc.returncode != 0 and 'exists' in proc.stderr
    assert '--overwrite' in proc.stderr
    missing = tmp_path / 'no_such_teacher.pth'
    proc = run_tool('tools/prune.py', TINY, '--teacher-checkpoint', missing,
                    '--out', out, '--overwrite')
    assert proc.returncode != 0 and 'no_such_teacher.pth' in proc.stderr
    proc = run_tool('tools/prune.py', TINY, '--teacher-checkpoint',
                    teacher_ckpt, '--ratio', '1.0', '--out', out,
                    '--overwrite')
    assert proc.returncode != 0 and 'ratio' in proc.stderr
    # a 32 px teacher checkpoint for a 16 px config
    big = MODELS.build(dict(TEACHER, out_size=32))
    wrong = tmp_path / 'teacher_32px.pth'
    torch.save(dict(state_dict={f'generator_ema.{k}': v
                                for k, v in big.state_dict().items()}),
               wrong)
    proc = run_tool('tools/prune.py', TINY, '--teacher-checkpoint', wrong,
                    '--out', out, '--overwrite')
    assert proc.returncode != 0
    assert 'teacher_32px.pth' in proc.stderr and 'resolution' in proc.stderr
    assert out.read_bytes() == b'previous result'  # nothing lost


def test_complexity_of_the_paper_config():
    config = 'configs/stylekd/stylekd_stylegan2_c2_ffhq-256x256.py'
    proc = check(run_tool('tools/analysis_tools/complexity.py', config,
                          '--json'))
    fig = last_json(proc)
    assert abs(fig['teacher']['params'] / 1e6 - 30.0) < 0.1
    assert abs(fig['teacher']['macs'] / 1e9 - 45.4) < 0.1
    assert abs(fig['student']['params'] / 1e6 - 5.6) < 0.1
    assert 4.1 <= fig['student']['macs'] / 1e9 <= 4.25


def test_consistency_tool(tmp_path, teacher_ckpt):
    same = tmp_path / 'same.pth'
    check(run_tool('tools/prune.py', TINY, '--teacher-checkpoint',
                   teacher_ckpt, '--ratio', '0', '--out', same))
    npz = tmp_path / 'pairs.npz'
    proc = check(run_tool('tools/analysis_tools/consistency.py', TINY, same,
                          '--teacher-checkpoint', teacher_ckpt,
                          '--num-samples', '6', '--save-npz', npz, '--lpips',
                          '--json'))
    fig = last_json(proc)
    assert fig['l1'] == 0.0 and fig['num_samples'] == 6
    assert fig['psnr'] >= 99  # identical images (MSE floored at 1e-10)
    # asked for with --lpips: offline, the missing VGG16 file is named
    assert fig['lpips'] is None and 'vgg16' in proc.stdout
    arrays = np.load(npz)
    assert arrays['teacher'].shape == (6, 16, 16, 3)
    assert arrays['teacher'].dtype == np.uint8
    assert np.array_equal(arrays['teacher'], arrays['student'])

    pruned = tmp_path / 'pruned.pth'
    check(run_tool('tools/prune.py', TINY, '--teacher-checkpoint',
                   teacher_ckpt, '--ratio', '0.7', '--out', pruned))
    proc = check(run_tool(
        'tools/analysis_tools/consistency.py', TINY, pruned,
        '--teacher-checkpoint', teacher_ckpt, '--num-samples', '6',
        '--json'))
    fig = last_json(proc)
    assert fig['l1'] > 0 and fig['psnr'] < 99
    # no LPIPS loss in the config and no --lpips: LPIPS is not even tried
    assert fig['lpips'] is None and 'LPIPS n/a' in proc.stdout
    assert 'LPIPS skipped' not in proc.stdout
