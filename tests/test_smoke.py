"""Smoke tests on the real stack: registration, train.py and test.py."""
import glob
import json
import os.path as osp

import torch
from conftest import check, run_tool


def test_import_registers_components():
    from mmagic.registry import DATASETS, MODELS, TASK_UTILS

    import mmstylekd  # noqa: F401
    for name in ('StyleGAN2StudentGenerator', 'StyleGAN3StudentGenerator',
                 'StyleGAN3StudentSynthesisNetwork',
                 'StyleGAN2NarrowDiscriminator'):
        assert MODELS.get(name) is not None, name
    for name in ('WeightL1Importance', 'StyleAwareImportance',
                 'RandomImportance', 'ContentAwareImportance'):
        assert TASK_UTILS.get(name) is not None, name
    assert DATASETS.get('DigitsDataset') is not None


def test_train_then_test_mmagic_stylegan2(tmp_path, image_folder):
    """MMagic's own StyleGAN2 trains 3 iterations under the real Runner,
    writes a checkpoint, and tools/test.py evaluates that checkpoint."""
    cfg = 'tests/configs/mmagic_stylegan2_tiny-16x16.py'
    work_dir = tmp_path / 'work'
    roots = (f'train_dataloader.dataset.data_root={image_folder}',
             f'test_dataloader.dataset.data_root={image_folder}')
    train = check(
        run_tool('tools/train.py', cfg, '--work-dir', work_dir,
                 '--cfg-options', *roots))
    ckpt = work_dir / 'iter_3.pth'
    assert ckpt.is_file(), train.stdout[-3000:]
    state = torch.load(ckpt, map_location='cpu')  # weights_only default
    assert state['meta']['iter'] == 3
    assert any(k.startswith('generator_ema.') for k in state['state_dict'])
    logs = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    assert logs, 'no scalar log written'
    records = [json.loads(line) for line in open(logs[0])]
    assert any('loss_disc_fake' in r for r in records)

    out = tmp_path / 'metrics.json'
    check(
        run_tool('tools/test.py', cfg, ckpt, '--work-dir', work_dir,
                 '--out', out, '--cfg-options', *roots))
    metrics = json.load(open(out))
    swd = [v for k, v in metrics.items() if k.startswith('swd')]
    assert swd and all(isinstance(v, float) for v in swd), metrics


def test_test_tool_names_missing_checkpoint(tmp_path):
    proc = run_tool('tools/test.py',
                    'tests/configs/mmagic_stylegan2_tiny-16x16.py',
                    tmp_path / 'nope.pth')
    assert proc.returncode != 0
    assert 'nope.pth' in proc.stderr
    assert osp.exists(tmp_path) and not (tmp_path / 'nope.pth').exists()
