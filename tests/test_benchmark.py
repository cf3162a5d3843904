"""tools/analysis_tools/benchmark.py and mmstylekd.deployment.benchmarking:
the figures they report are real."""
import json
import os.path as osp
import runpy
import time

import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.deployment.benchmarking import (measure_alternating,
                                               summary_lines)
from mmstylekd.evaluation import generator_complexity
from mmstylekd.models import build_student, generator_configs

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'


def test_alternating_rounds_time_each_model_and_its_cpu_time():
    calls = []

    def sleeper(name, seconds):
        def run(z):  # waits: wall time, (almost) no CPU time
            calls.append(name)
            time.sleep(seconds)
            return z
        run.weight_mb = 1.5
        return run

    models = dict(teacher=sleeper('teacher', 0.02),
                  student=sleeper('student', 0.002))
    res = measure_alternating(models, torch.zeros(4, 8), rounds=3,
                              runs_per_round=2, warmup=1)
    # one warm-up each, then per round: Timer's 2 warm-up calls and 2
    # timed calls of the teacher, then the same of the student; then one
    # call each for the memory figure
    assert calls == ['teacher', 'student'] + (
        ['teacher'] * 4 + ['student'] * 4) * 3 + ['teacher', 'student']
    for name, ms in (('teacher', 20), ('student', 2)):
        fig = res[name]
        assert fig['runs'] == 3 and fig['runs_per_round'] == 2
        assert ms <= fig['min'] <= fig['median']  # sleep never undershoots
        assert fig['q1'] <= fig['median'] <= fig['q3']
        assert fig['iqr'] == pytest.approx(fig['q3'] - fig['q1'])
        assert fig['images_per_s'] == pytest.approx(4e3 / fig['median'])
        assert fig['peak_mem_mb'] >= 1.5  # weights + working memory
    assert res['teacher']['median'] > res['student']['median']
    assert res['teacher']['cpu_time_median'] < 10  # sleeping is not CPU

    def busy(z):  # a fixed amount of CPU time, however loaded the machine
        end = time.process_time() + 0.005
        while time.process_time() < end:
            pass
        return z

    fig = measure_alternating(dict(teacher=busy), torch.zeros(1, 8),
                              rounds=3, runs_per_round=2,
                              warmup=0)['teacher']
    # the timed calls only: not Timer's warm-up calls, per call
    assert 5 <= fig['cpu_time_median'] < 7
    assert fig['cpu_time_median'] <= fig['median'] * 1.05


def test_benchmark_reports_teacher_student_figures_as_json():
    proc = check(run_tool(
        'tools/analysis_tools/benchmark.py', TINY, '--batch-sizes', '1', '2',
        '--backend', 'eager', 'onnxruntime', '--repeats', '3',
        '--runs-per-round', '2', '--warmup', '1', '--train-steps', '1',
        '--gan-baseline', 'tests/configs/mmagic_stylegan2_tiny-16x16.py',
        '--json'))
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
            assert part['runs_per_round'] == 2
            assert part['q1'] <= part['median'] <= part['q3']
            assert part['iqr'] == pytest.approx(part['q3'] - part['q1'])
            assert part['images_per_s'] == pytest.approx(
                row['batch'] * 1e3 / part['median'])
            assert part['peak_mem_mb'] > 0 and part['cpu_time_median'] > 0
        assert row['cpu_time_speedup'] == pytest.approx(
            t['cpu_time_median'] / s['cpu_time_median'])
    assert fig['train_step']['batch'] == 2  # the config's batch size
    assert fig['train_step']['seconds'] > 0
    assert fig['train_step']['steps'] == 1
    # MMagic's own StyleGAN2 (no teacher), same batch, next to it
    gan = fig['train_step']['gan_baseline']
    assert gan['batch'] == 2 and gan['seconds'] > 0 and gan['steps'] == 1
    assert 'StyleKD step / GAN step' in proc.stdout
    # gpu_benchmark.sh's summary of the saved JSON: one line per row
    lines = summary_lines(fig)
    assert lines[0].startswith(env['device_name'])
    assert len(lines) == 1 + len(rows) + 1 and 'speed-up' in lines[1]
    assert lines[-1].startswith('  training step (batch 2)')
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
