"""tools/analysis_tools/benchmark.py: the figures it reports are real."""
import json
import os.path as osp
import runpy

import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.evaluation import generator_complexity
from mmstylekd.models import build_student, generator_configs

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'


def test_benchmark_reports_teacher_student_figures_as_json():
    proc = check(run_tool(
        'tools/analysis_tools/benchmark.py', TINY, '--batch-sizes', '1', '2',
        '--backend', 'eager', 'onnxruntime', '--repeats', '3', '--warmup',
        '1', '--train-steps', '1', '--json'))
    fig = json.loads(proc.stdout.strip().splitlines()[-1])
    env = fig['environment']
    assert env['device'] == 'cpu' and env['device_name']
    assert env['torch'] == torch.__version__ and env['onnxruntime']
    assert env['mmcv'] and env['mmagic'] and env['threads'] >= 1
    # MACs are generator_complexity's, of the config's own generators
    teacher_cfg, student_cfg = generator_configs(
        Config.fromfile(osp.join(REPO, TINY)))
    macs_t = generator_complexity(MODELS.build(teacher_cfg.to_dict()))
    macs_s = generator_complexity(build_student(student_cfg))
    assert fig['macs']['teacher'] == macs_t['macs']
    assert fig['macs']['student'] == macs_s['macs']
    rows = {(r['backend'], r['batch']): r for r in fig['results']}
    assert set(rows) == {('eager', 1), ('eager', 2), ('onnxruntime', 1),
                         ('onnxruntime', 2)}
    for row in rows.values():
        t, s = row['teacher'], row['student']
        assert row['speedup'] == pytest.approx(t['median'] / s['median'])
        for part in (t, s):
            assert 0 < part['min'] <= part['median'] and part['runs'] == 3
            assert part['q1'] <= part['median'] <= part['q3']
            assert part['images_per_s'] == pytest.approx(
                row['batch'] * 1e3 / part['median'])
            assert part['peak_mem_mb'] > 0 and part['cpu_time_median'] > 0
        assert row['cpu_time_speedup'] == pytest.approx(
            t['cpu_time_median'] / s['cpu_time_median'])
    assert fig['train_step']['batch'] == 2  # the config's batch size
    assert fig['train_step']['seconds'] > 0
    # a readable table names the device, the versions and the settings
    assert 'device: ' in proc.stdout and 'onnxruntime 1.' in proc.stdout
    assert 'speed-up' in proc.stdout and 'MAC ratio' in proc.stdout
    assert 'training step (StyleKD, batch 2' in proc.stdout
    # a clean console: no warnings, no log lines
    assert 'Warning' not in proc.stdout + proc.stderr
    assert 'mmengine - ' not in proc.stdout + proc.stderr


def test_benchmark_refuses_cuda_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    main = runpy.run_path(osp.join(REPO, 'tools/analysis_tools/benchmark.py'),
                          run_name='tool')['main']
    with pytest.raises(SystemExit, match='no CUDA device'):
        main([TINY, '--device', 'cuda'])


def test_benchmark_runs_stylegan3_on_every_cpu_backend():
    proc = check(run_tool(
        'tools/analysis_tools/benchmark.py',
        'tests/configs/stylekd_tiny_stylegan3-16x16.py', '--batch-sizes', '2',
        '--backend', 'mmagic', 'eager', 'torchscript', 'onnxruntime',
        '--repeats', '2', '--warmup', '1', '--skip-train-step',
        '--layer-profile', '--json'))
    fig = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r['backend'] for r in fig['results']] == [
        'mmagic', 'eager', 'torchscript', 'onnxruntime']
    assert fig['macs']['ratio'] > 2  # 0.5 of the widths: ~1/4 of the MACs
    for row in fig['results']:
        assert row['speedup'] > 0 and row['student']['median'] > 0
    layers = {r['name']: r for r in fig['layer_profile']}
    # mapping, Fourier input, four synthesis layers, to-RGB
    assert list(layers) == ['mapping', 'input'] + [
        f'layers.{i}' for i in range(5)]
    assert layers['layers.0']['teacher_channels'] == 16
    assert layers['layers.0']['student_channels'] == 8
    for name in ('layers.0', 'layers.3'):  # filtered leaky ReLUs
        row = layers[name]
        assert 0 < row['student_filter_ms'] < row['student_ms']
        assert row['teacher_macs'] > row['student_macs'] > 0
    assert 'T filter ms' in proc.stdout
