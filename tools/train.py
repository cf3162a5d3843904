"""Train a model from a config, exactly as MMagic's ``tools/train.py``.

Importing :mod:`mmstylekd` registers our components (students, losses,
distillers, metrics, hooks) in MMagic's registries, so our configs and
MMagic's own configs both work here. ``--quiet`` (used by
``tools/run_demo.sh``) keeps the terminal to progress, warnings and where
things are written; the work dir's log file still gets everything
(environment, full config, hook table).
"""
import argparse
import logging
import os
import os.path as osp

from mmagic.utils import print_colored_log
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, find_latest_checkpoint

import mmstylekd  # noqa: F401  (registers mmstylekd's components)
from mmstylekd.engine import check_checkpoint_complete, setup_cpu_distributed
from mmstylekd.engine.console import QuietConsoleRunner, console_log
from mmstylekd.engine.slurm_cpu import export_slurm_environment
from mmstylekd.models import TeacherMismatchError


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
        '--allow-other-teacher',
        action='store_true',
        help='resume or fine-tune from a checkpoint distilled from another '
        'teacher than model.teacher_ckpt (by default this stops)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='mixed precision: not supported by these models (the tool '
        'stops and says why)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='train without validation (needed when the validation data '
        'is not there)')
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
    parser.add_argument(
        '--quiet',
        action='store_true',
        help='terminal: progress, warnings and where results go only; the '
        'environment, config and hook table go to the log file alone')
    # torch.distributed.launch passes `--local-rank` (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def refuse_amp() -> None:
    """``--amp`` cannot run these models; say why instead of doing nothing.

    mmengine's ``AmpOptimWrapper`` autocasts only inside ``optim_context``,
    which MMagic 1.2.0's ``StyleGAN2.train_step`` never enters: MMagic runs
    half precision only in blocks built with ``fp16_enabled`` /
    ``num_fp16_scales``. Those blocks cast the FIR filter to the feature
    dtype, which mmcv 2.1.0's ``upfirdn2d`` refuses (its filter must be
    float32: an AssertionError on the CPU, "f must be float32" on CUDA). So
    the flag would at best scale the loss of an fp32 run.
    """
    raise SystemExit(
        '--amp is not supported: MMagic 1.2.0 runs StyleGAN2 in half '
        'precision only in blocks with fp16_enabled, and those blocks fail '
        'in mmcv 2.1.0\'s upfirdn2d (its filter must be float32), so an '
        'AmpOptimWrapper would only scale the loss of an fp32 run. Train '
        'without --amp; for fast fp16/bf16 inference export the student '
        '(tools/deployment/export.py).')


def check_validation_data(cfg: Config, no_validate: bool) -> None:
    """Stop before training when validation would not find its images.

    MMagic builds the validation dataloader when training starts, so a run
    whose validation folder is missing would fail only then (or, with a
    silent fallback, train for days without FID). ``--no-validate`` is the
    explicit opt-out.
    """
    if no_validate:
        print_colored_log('--no-validate: no validation (FID, PPL, ...) '
                          'during this run.', level=logging.WARNING)
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        return
    loader = cfg.get('val_dataloader')
    root = (loader or {}).get('dataset', {}).get('data_root')
    if loader is None or cfg.get('val_cfg') is None or root is None or \
            '://' in str(root) or osp.exists(root):
        return
    raise SystemExit(
        f'Validation data not found at {root} '
        '(val_dataloader.dataset.data_root): validation (FID and the '
        'other metrics) needs it. Point it at your images with --cfg-options '
        'val_dataloader.dataset.data_root=DIR, or train without validation '
        'with --no-validate.')


def check_checkpoint_to_load(cfg: Config) -> None:
    """Name a missing or cut-off checkpoint before mmengine loads it."""
    path, named_by = cfg.get('load_from'), None
    if cfg.get('resume') and path is None:
        path = find_latest_checkpoint(cfg.work_dir)
        named_by = osp.join(cfg.work_dir, 'last_checkpoint')
    if path is not None:
        try:
            check_checkpoint_complete(
                path, named_by, '--resume' if cfg.get('resume') else
                '--cfg-options load_from=')
        except (FileNotFoundError, RuntimeError) as err:
            raise SystemExit(str(err)) from None


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
        refuse_amp()

    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.allow_other_teacher and 'teacher' in cfg.model:
        cfg.model.allow_other_teacher = True
    check_validation_data(cfg, args.no_validate)
    check_checkpoint_to_load(cfg)
    if args.launcher == 'slurm':
        export_slurm_environment()
    setup_cpu_distributed(cfg)
    runner = (QuietConsoleRunner if args.quiet else Runner).from_cfg(cfg)
    # the quiet terminal shows these lines too (MMagic's colour)
    announce = console_log if args.quiet else print_colored_log

    announce(f'Working directory: {cfg.work_dir}')
    announce(f'Log directory: {runner._log_dir}')

    try:
        runner.train()
    except TeacherMismatchError as err:
        raise SystemExit(str(err)) from None

    announce(f'Log saved under {runner._log_dir}')
    announce(f'Checkpoint saved under {cfg.work_dir}')


if __name__ == '__main__':
    main()
