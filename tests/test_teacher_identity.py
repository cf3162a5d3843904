"""A run knows its teacher: checkpoints record it, every reader compares.

A training checkpoint leaves the frozen teacher out, so it records the
teacher checkpoint's path and the hash of its weights; resuming, testing
and comparing against another (or a random) teacher stop unless asked.
"""
import json
import os.path as osp
import shutil

import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.runner import load_checkpoint

import mmstylekd  # noqa: F401
from mmstylekd.models import (TeacherIdentity, TeacherMismatchError,
                              weights_fingerprint)
from mmstylekd.models.teacher_identity import recorded_teacher

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'
EVAL = 'tests/configs/stylekd_tiny_eval-16x16.py'


def save_teacher(path, seed):
    torch.manual_seed(seed)
    cfg = Config.fromfile(osp.join(REPO, TINY))
    teacher = MODELS.build(cfg.model.teacher)
    torch.save(dict(state_dict={f'generator_ema.{k}': v
                                for k, v in teacher.state_dict().items()}),
               path)
    return str(path)


def output(proc):
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A 2-iteration run distilled from teacher A; teacher B differs."""
    root = tmp_path_factory.mktemp('identity')
    teacher_a = save_teacher(root / 'teacher_a.pth', 1)
    teacher_b = save_teacher(root / 'teacher_b.pth', 2)
    work = root / 'work'
    check(run_tool('tools/train.py', TINY, '--work-dir', work,
                   '--cfg-options', f'model.teacher_ckpt={teacher_a}',
                   'train_cfg.max_iters=2'))
    return dict(root=root, a=teacher_a, b=teacher_b, work=work,
                ckpt=str(work / 'iter_2.pth'))


def test_fingerprint_follows_the_weights_not_the_file():
    state = dict(w=torch.arange(6.).reshape(2, 3), b=torch.zeros(2))
    same = {k: v.clone() for k, v in reversed(list(state.items()))}
    assert weights_fingerprint(state) == weights_fingerprint(same)
    same['w'][1, 2] += 1e-6
    assert weights_fingerprint(state) != weights_fingerprint(same)
    half = dict(state, b=torch.zeros(2, dtype=torch.bfloat16))
    assert weights_fingerprint(state) != weights_fingerprint(half)


def test_checkpoint_records_the_teacher(run):
    state = torch.load(run['ckpt'], map_location='cpu')['state_dict']
    teacher = torch.load(run['a'], map_location='cpu')['state_dict']
    expected = weights_fingerprint(
        {k[len('generator_ema.'):]: v for k, v in teacher.items()})
    assert recorded_teacher(state) == dict(path=run['a'], sha256=expected)
    assert not any(k.startswith('teacher.') for k in state)


def test_loading_into_a_model_with_another_teacher_stops(run):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.model.teacher_ckpt = run['b']
    model = MODELS.build(cfg.model)
    with pytest.raises(TeacherMismatchError) as err:
        load_checkpoint(model, run['ckpt'], map_location='cpu')
    assert run['a'] in str(err.value) and run['b'] in str(err.value)
    # the same weights at another path load (a moved file)
    moved = str(run['root'] / 'moved.pth')
    shutil.copy(run['a'], moved)
    cfg.model.teacher_ckpt = moved
    load_checkpoint(MODELS.build(cfg.model), run['ckpt'], map_location='cpu')
    # and the user may go on explicitly
    cfg.model.update(teacher_ckpt=run['b'], allow_other_teacher=True)
    load_checkpoint(MODELS.build(cfg.model), run['ckpt'], map_location='cpu')


def test_identity_survives_weights_only_loading(tmp_path):
    identity = TeacherIdentity('s3://bucket/"teacher".pth', 'ab' * 32)
    torch.save(dict(state_dict=identity.state_dict(prefix='x.')),
               tmp_path / 'c.pth')
    state = torch.load(tmp_path / 'c.pth', weights_only=True)['state_dict']
    assert recorded_teacher(state, 'x.') == identity.identity


def test_resume_with_another_teacher_stops_naming_both(run):
    proc = run_tool('tools/train.py', TINY, '--work-dir', run['work'],
                    '--resume', '--cfg-options',
                    f'model.teacher_ckpt={run["b"]}', 'train_cfg.max_iters=3')
    assert proc.returncode != 0
    assert run['a'] in output(proc) and run['b'] in output(proc)
    assert '--allow-other-teacher' in output(proc)
    assert not osp.exists(run['work'] / 'iter_3.pth')


def test_test_tool_refuses_a_random_or_other_teacher(run, tmp_path):
    proc = run_tool('tools/test.py', EVAL, run['ckpt'], '--work-dir',
                    tmp_path)
    assert proc.returncode != 0 and '--allow-random-teacher' in output(proc)
    # opting in to a random teacher still does not match teacher A
    proc = run_tool('tools/test.py', EVAL, run['ckpt'], '--work-dir',
                    tmp_path, '--allow-random-teacher')
    assert proc.returncode != 0
    assert run['a'] in output(proc) and 'random weights' in output(proc)
    assert 'teacher_student/psnr' not in output(proc)
    proc = check(run_tool('tools/test.py', EVAL, run['ckpt'], '--work-dir',
                          tmp_path, '--cfg-options',
                          f'model.teacher_ckpt={run["a"]}'))
    assert 'teacher_student/psnr' in output(proc)


def test_consistency_refuses_another_teacher(run):
    args = ('tools/analysis_tools/consistency.py', TINY, run['ckpt'],
            '--num-samples', '4')
    proc = run_tool(*args, '--teacher-checkpoint', run['b'])
    assert proc.returncode != 0
    assert run['a'] in output(proc) and run['b'] in output(proc)
    proc = run_tool(*args)
    assert proc.returncode != 0 and '--allow-random-teacher' in output(proc)
    check(run_tool(*args, '--teacher-checkpoint', run['b'],
                   '--allow-other-teacher'))


def test_export_refuses_another_teacher_and_records_its_own(run, tmp_path):
    args = ('tools/deployment/export.py', TINY, run['ckpt'], '--format',
            'torchscript')
    proc = run_tool(*args, '--out', tmp_path / 'b', '--cfg-options',
                    f'model.teacher_ckpt={run["b"]}')
    assert proc.returncode != 0
    assert run['a'] in output(proc) and run['b'] in output(proc)
    assert not (tmp_path / 'b').exists()
    check(run_tool(*args, '--out', tmp_path / 'a', '--cfg-options',
                   f'model.teacher_ckpt={run["a"]}'))
    metadata = json.loads((tmp_path / 'a' / 'metadata.json').read_text())
    assert metadata['teacher']['path'] == run['a']


def test_export_of_a_student_recording_no_teacher_loads_no_teacher(
        run, tmp_path):
    # a tools/prune.py-like file: the student's weights, no teacher record;
    # the config's teacher file does not exist (as an undownloadable URL)
    state = torch.load(run['ckpt'], weights_only=False)['state_dict']
    student = tmp_path / 'student.pth'
    torch.save(dict(state_dict={k: v for k, v in state.items()
                                if k.startswith('generator_ema.')}), student)
    proc = check(run_tool(
        'tools/deployment/export.py', TINY, student, '--format',
        'torchscript', '--out', tmp_path / 'out', '--cfg-options',
        f'model.teacher_ckpt={tmp_path / "missing_teacher.pth"}'))
    assert 'records no teacher' in output(proc)
    assert (tmp_path / 'out' / 'student.ts').exists()
