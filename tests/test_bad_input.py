"""Bad input, tried as a new user would: clear messages, nothing lost."""
import os.path as osp

import pytest
import torch
from conftest import REPO, check, run_tool
from mmengine.config import Config
from mmengine.runner import Runner

import mmstylekd  # noqa: F401

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'
EVAL = 'tests/configs/stylekd_tiny_eval-16x16.py'
PAPER = 'configs/stylekd/stylekd_stylegan2_c2_ffhq-256x256.py'


def output(proc):
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def two_checkpoints(tmp_path_factory):
    work = tmp_path_factory.mktemp('ckpts')
    check(run_tool('tools/train.py', TINY, '--work-dir', work,
                   '--cfg-options', 'train_cfg.max_iters=2',
                   'default_hooks.checkpoint.interval=1'))
    return work


def test_resume_from_a_cut_off_checkpoint_names_it_and_the_previous(
        two_checkpoints):
    work = two_checkpoints
    last = work / 'iter_2.pth'
    data = last.read_bytes()
    last.write_bytes(data[:len(data) // 2])  # killed while writing
    proc = run_tool('tools/train.py', TINY, '--work-dir', work, '--resume')
    text = output(proc)
    assert proc.returncode != 0
    assert 'iter_2.pth' in text and 'last_checkpoint' in text
    assert 'incomplete' in text and f'--resume {work / "iter_1.pth"}' in text
    assert 'Traceback' not in text  # a message, not a stack dump
    proc = run_tool('tools/train.py', TINY, '--work-dir', work, '--resume',
                    last)
    assert proc.returncode != 0 and 'iter_1.pth' in output(proc)
    last.write_bytes(data)  # nothing else was touched
    assert (work / 'iter_1.pth').stat().st_size > 0


def test_images_larger_than_the_model_are_named_with_their_size(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.train_dataloader.dataset.pipeline[0].scale = (32, 32)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_iters = 1
    with pytest.raises(ValueError, match=r'32x32 px .* 16x16 px'):
        Runner.from_cfg(cfg).train()


def test_outputs_are_not_overwritten_without_a_flag(two_checkpoints,
                                                    tmp_path):
    existing = tmp_path / 'metrics.json'
    existing.write_text('keep me')
    proc = run_tool('tools/test.py', EVAL, two_checkpoints / 'iter_1.pth',
                    '--out', existing)
    assert proc.returncode != 0 and '--overwrite' in output(proc)
    npz = tmp_path / 'pairs.npz'
    npz.write_text('keep me too')
    proc = run_tool('tools/analysis_tools/consistency.py', TINY,
                    two_checkpoints / 'iter_1.pth', '--save-npz', npz)
    assert proc.returncode != 0 and '--overwrite' in output(proc)
    assert existing.read_text() == 'keep me'
    assert npz.read_text() == 'keep me too'


def test_missing_validation_data_stops_and_names_the_opt_out(tmp_path):
    proc = run_tool('tools/train.py', PAPER, '--work-dir', tmp_path)
    assert proc.returncode != 0
    assert ('Validation data not found at ./data/ffhq/ffhq_imgs/ffhq_256'
            in output(proc))
    assert '--no-validate' in output(proc)


def test_amp_stops_with_the_reason_instead_of_doing_nothing(tmp_path):
    proc = run_tool('tools/train.py', TINY, '--work-dir', tmp_path, '--amp')
    assert proc.returncode != 0
    assert '--amp is not supported' in output(proc)
    assert 'upfirdn2d' in output(proc)
    assert 'Traceback' not in output(proc)
    assert not list(tmp_path.iterdir())  # stopped before writing anything


def test_mmagic_fp16_blocks_fail_in_mmcv_upfirdn2d():
    """The fact --amp's refusal rests on; if a future mmcv or mmagic
    fixes it, this test fails and --amp can be enabled."""
    from mmagic.registry import MODELS
    generator = MODELS.build(dict(
        type='StyleGAN2Generator', out_size=16, style_channels=16,
        num_mlps=1, num_fp16_scales=1))
    with pytest.raises(AssertionError) as failure:
        generator(torch.randn(1, 16))
    # the assertion is upfirdn2d's filter-dtype check, not any other
    last = failure.traceback[-1]
    assert last.path.name == 'upfirdn2d.py' and 'mmcv' in str(last.path)
    assert 'filter.dtype == torch.float32' in str(last.statement)
