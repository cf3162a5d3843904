"""Train a model from a config, exactly as MMagic's ``tools/train.py``.

Importing :mod:`mmstylekd` registers our components (students, losses,
distillers, metrics, hooks) in MMagic's registries, so our configs and
MMagic's own configs both work here.
"""
import argparse
import logging
import os
import os.path as osp

from mmagic.utils import print_colored_log
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmstylekd  # noqa: F401  (registers mmstylekd's components)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the latest checkpoint in the work dir, or from '
        'the checkpoint given after --resume')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes `--local-rank` (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config) -> None:
    """Switch every ``OptimWrapper`` of the config to ``AmpOptimWrapper``."""
    wrappers = cfg.optim_wrapper
    if wrappers.get('constructor', 'DefaultOptimWrapperConstructor') == \
            'DefaultOptimWrapperConstructor':
        wrappers = {'': wrappers}
    for wrapper in wrappers.values():
        if not (isinstance(wrapper, dict) and 'type' in wrapper):
            continue
        if wrapper['type'] == 'AmpOptimWrapper':
            print_colored_log(
                'AMP training is already enabled in your config.',
                level=logging.WARNING)
            continue
        if wrapper['type'] != 'OptimWrapper':
            raise ValueError('`--amp` is only supported when the optimizer '
                             'wrapper type is OptimWrapper, but got '
                             f'{wrapper["type"]}.')
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper['loss_scale'] = 'dynamic'


def disable_validation_without_data(cfg: Config) -> None:
    """Turn validation off, loudly, when its image folder does not exist.

    MMagic builds the validation dataloader when training starts, so a run
    whose config points validation at a folder that is not there (e.g. only
    ``train_dataloader.dataset.data_root`` was overridden) would fail before
    the first iteration.
    """
    loader = cfg.get('val_dataloader')
    root = (loader or {}).get('dataset', {}).get('data_root')
    if loader is None or cfg.get('val_cfg') is None or root is None or \
            '://' in str(root) or osp.exists(root):
        return
    print_colored_log(
        f'Validation data not found at {root}: validation is DISABLED for '
        'this run. Set val_dataloader.dataset.data_root (and '
        'test_dataloader.dataset.data_root) to evaluate during training.',
        level=logging.WARNING)
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None


def main():
    args = parse_args()

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        enable_amp(cfg)

    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    disable_validation_without_data(cfg)
    runner = Runner.from_cfg(cfg)

    print_colored_log(f'Working directory: {cfg.work_dir}')
    print_colored_log(f'Log directory: {runner._log_dir}')

    runner.train()

    print_colored_log(f'Log saved under {runner._log_dir}')
    print_colored_log(f'Checkpoint saved under {cfg.work_dir}')


if __name__ == '__main__':
    main()
