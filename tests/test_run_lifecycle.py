"""A StyleKD run's life: fresh start, checkpoints, resume, test, load.

Pruning and teacher-based initialisation happen once, at the first step of
a fresh run; everything else rebuilds the student from the config and its
weights from a checkpoint, which holds only what training changes.
"""
import copy
import os.path as osp

import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

import mmstylekd  # noqa: F401
from mmstylekd.models.pruning import copy_generator

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'
EVAL = 'tests/configs/stylekd_tiny_eval-16x16.py'
INIT_LINE = 'Student initialised from teacher'


def tiny_cfg(work_dir, **model):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.model.update(model)
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 3-iteration fresh run of the tiny config through tools/train.py."""
    work = tmp_path_factory.mktemp('fresh')
    proc = check(run_tool('tools/train.py', TINY, '--work-dir', work))
    return dict(work=work, ckpt=work / 'iter_3.pth',
                log=proc.stdout + proc.stderr)


def test_fresh_run_prunes_once_and_checkpoints_what_training_changes(
        trained):
    assert trained['log'].count(INIT_LINE) == 1
    state = torch.load(trained['ckpt'], map_location='cpu')['state_dict']
    prefixes = {k.split('.')[0] for k in state}
    assert prefixes == {'generator', 'generator_ema', 'discriminator',
                        'mean_path_length', 'teacher_identity'}
    assert not any('.module.' in k for k in state
                   if not k.startswith('generator_ema.'))


def test_test_tool_and_load_from_do_not_prune(trained, tmp_path):
    proc = check(run_tool('tools/test.py', EVAL, trained['ckpt'],
                          '--work-dir', tmp_path / 'test',
                          '--allow-random-teacher'))
    assert INIT_LINE not in proc.stdout + proc.stderr
    assert 'teacher_student/l1' in proc.stdout + proc.stderr
    # load_from (fine-tuning): the student comes from the checkpoint
    proc = check(run_tool('tools/train.py', TINY, '--work-dir',
                          tmp_path / 'finetune', '--cfg-options',
                          f'load_from={trained["ckpt"]}',
                          'train_cfg.max_iters=1'))
    assert INIT_LINE not in proc.stdout + proc.stderr


def test_loading_a_checkpoint_cancels_the_initialisation(trained):
    """What MMagic's inferencer does: build from config, load weights."""
    cfg = Config.fromfile(osp.join(REPO, TINY))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(trained['ckpt']), map_location='cpu')
    assert not model.fresh_start_init.pending
    state = torch.load(trained['ckpt'], map_location='cpu')['state_dict']
    for key, value in model.generator.state_dict().items():
        assert torch.equal(value, state[f'generator.{key}']), key


def test_a_checkpoint_of_another_architecture_is_refused(trained, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.model.generator.ratio = 0.25  # wider student than the checkpoint's
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='generator does not fit'):
        load_checkpoint(model, str(trained['ckpt']), map_location='cpu')


def test_multiprocess_checkpoint_layout_loads_in_one_process(trained):
    """Older files written through DDP hold `generator.module.` keys."""
    ckpt = torch.load(trained['ckpt'], map_location='cpu')
    ddp_style = {
        (k.replace('generator.', 'generator.module.', 1)
         if k.startswith('generator.') else k): v
        for k, v in ckpt['state_dict'].items()
    }
    model = MODELS.build(Config.fromfile(osp.join(REPO, TINY)).model)
    model.load_state_dict(ddp_style)
    for key, value in model.generator.state_dict().items():
        assert torch.equal(value, ckpt['state_dict'][f'generator.{key}'])


def test_freeze_mapping_survives_real_optimiser_steps(tmp_path):
    cfg = tiny_cfg(tmp_path, student_init=dict(
        criterion=dict(type='WeightL1Importance'), freeze_mapping=True))
    cfg.train_cfg.max_iters = 4  # includes a path-length step
    runner = Runner.from_cfg(cfg)
    model = runner.model
    runner.train()
    teacher_mapping = model.teacher.style_mapping.state_dict()
    for key, value in model.generator.style_mapping.state_dict().items():
        assert torch.equal(value, teacher_mapping[key]), key
    # ... while the synthesis network did train
    pruned = copy_generator(model.generator)
    mmstylekd.models.init_student_from_teacher(
        pruned, model.teacher, criterion=dict(type='WeightL1Importance'))
    assert not torch.equal(pruned.convs[0].conv.weight_orig,
                           model.generator.convs[0].conv.weight_orig)


def test_fitted_frozen_mapping_stays_bit_identical_with_a_real_lr(
        tmp_path):
    """Fitting leaves no gradient behind for the optimiser to step."""
    cfg = tiny_cfg(tmp_path, student_init=dict(
        criterion=dict(type='WeightL1Importance'), freeze_mapping=True,
        inherit_mapping=False,  # so that fitting has gradients
        fit_mapping=dict(iters=5, progress=False)))
    cfg.train_cfg.max_iters = 4  # includes a path-length step
    runner = Runner.from_cfg(cfg)
    model = runner.model
    mapping = model.generator.style_mapping
    initialise, after_init = model.fresh_start_init, {}

    def initialise_and_record(m):
        initialise(m)
        after_init.update(copy.deepcopy(mapping.state_dict()))

    model.fresh_start_init = initialise_and_record
    runner.train()
    assert after_init, 'the initialisation did not run'
    assert runner.optim_wrapper['generator'].optimizer.param_groups[0][
        'lr'] > 0
    for key, value in mapping.state_dict().items():
        assert torch.equal(value, after_init[key]), key
    state = runner.optim_wrapper['generator'].optimizer.state
    assert not any(p in state for p in mapping.parameters())
    assert any(p in state for p in model.generator.convs.parameters())


def test_student_ckpt_keeps_freeze_and_fit_mapping(tmp_path):
    """model.student_ckpt replaces pruning, not the mapping options."""
    pruned = tmp_path / 'student.pth'
    check(run_tool('tools/prune.py', TINY, '--out', pruned))
    saved = torch.load(pruned, map_location='cpu')['state_dict']
    cfg = tiny_cfg(tmp_path, student_ckpt=str(pruned), student_init=dict(
        freeze_mapping=True, fit_mapping=dict(iters=3, progress=False)))
    cfg.train_cfg.max_iters = 1
    cfg.optim_wrapper.generator.optimizer.lr = 0.  # keep it as loaded
    runner = Runner.from_cfg(cfg)
    model = runner.model
    runner.train()
    assert not any(p.requires_grad
                   for p in model.generator.style_mapping.parameters())
    state = model.generator.state_dict()
    conv = 'convs.0.conv.weight_orig'
    assert torch.equal(state[conv], saved[f'generator.{conv}'])
    # the mapping was fitted (3 Adam steps) after loading
    weight = 'style_mapping.1.linear.weight_orig'
    assert not torch.equal(state[weight], saved[f'generator.{weight}'])


def test_discriminator_starts_from_a_teacher_checkpoint_that_has_one(
        tmp_path):
    cfg = tiny_cfg(tmp_path)
    torch.manual_seed(1)
    donor = MODELS.build(cfg.model)  # a teacher + discriminator to save
    teacher_ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict={
        **{f'generator_ema.{k}': v
           for k, v in donor.teacher.state_dict().items()},
        **{f'discriminator.{k}': v
           for k, v in donor.discriminator.state_dict().items()}}),
        teacher_ckpt)
    cfg.model.teacher_ckpt = str(teacher_ckpt)
    cfg.train_cfg.max_iters = 1
    cfg.optim_wrapper.discriminator.optimizer.lr = 0.  # keep it as loaded
    runner = Runner.from_cfg(cfg)
    before = copy.deepcopy(runner.model.discriminator.state_dict())
    runner.train()
    after = runner.model.discriminator.state_dict()
    for key, value in donor.discriminator.state_dict().items():
        assert torch.equal(after[key], value), key
    assert not all(torch.equal(before[k], after[k]) for k in before)
