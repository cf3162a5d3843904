"""Evaluate a checkpoint with a config, exactly as MMagic's ``tools/test.py``.

Metrics come from the config's ``test_evaluator`` (MMagic's FID, PPL,
precision/recall, equivariance, or ours such as TeacherStudentConsistency).
"""
import argparse
import os
import os.path as osp

from mmagic.utils import print_colored_log
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmstylekd  # noqa: F401  (registers mmstylekd's components)
from mmstylekd.engine import check_checkpoint_complete, setup_cpu_distributed
from mmstylekd.engine.slurm_cpu import export_slurm_environment
from mmstylekd.models import TeacherMismatchError


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='the file to save metric results (.json, .yaml or .pkl)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace the --out file when it exists')
    parser.add_argument(
        '--allow-other-teacher',
        action='store_true',
        help='evaluate a checkpoint distilled from another teacher than '
        'model.teacher_ckpt (by default this stops)')
    parser.add_argument(
        '--allow-random-teacher',
        action='store_true',
        help='evaluate with model.teacher_ckpt=None: teacher-student '
        'metrics then compare the student with random weights')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
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
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


class _CollectTestMetrics(Hook):
    """Keep the metrics of the test epoch.

    MMagic's ``MultiTestLoop.run`` reports metrics only to hooks (it returns
    None), so ``Runner.test()`` cannot hand them back.
    """
    priority = 'LOWEST'

    def __init__(self):
        self.metrics = None

    def after_test_epoch(self, runner, metrics=None):
        self.metrics = metrics


def check_test_data(cfg: Config) -> None:
    """Stop before building anything when the test images are missing."""
    root = (cfg.get('test_dataloader') or {}).get('dataset',
                                                  {}).get('data_root')
    if root is not None and '://' not in str(root) and \
            not osp.exists(root):
        raise SystemExit(
            f'Test data not found at {root} '
            '(test_dataloader.dataset.data_root): the metrics need it. '
            'Point it at your images with --cfg-options '
            'test_dataloader.dataset.data_root=DIR.')


def check_teacher(cfg: Config, allow_other: bool, allow_random: bool) -> None:
    """Refuse a random teacher unless asked; pass the other-teacher flag."""
    if 'teacher' not in cfg.model:
        return  # an MMagic model: no teacher
    if cfg.model.get('teacher_ckpt') is None and not allow_random:
        raise SystemExit(
            'model.teacher_ckpt is None: the teacher would have random '
            'weights and teacher-student metrics would compare the student '
            'with noise. Give the teacher (--cfg-options '
            'model.teacher_ckpt=PATH) or add --allow-random-teacher.')
    if allow_other:
        cfg.model.allow_other_teacher = True


def main():
    args = parse_args()

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.out and osp.exists(args.out) and not args.overwrite:
        raise SystemExit(f'{args.out} exists: give another --out or add '
                         '--overwrite to replace it.')
    try:
        check_checkpoint_complete(args.checkpoint,
                                  flag='tools/test.py CONFIG')
    except (FileNotFoundError, RuntimeError) as err:
        raise SystemExit(str(err)) from None
    check_test_data(cfg)
    check_teacher(cfg, args.allow_other_teacher, args.allow_random_teacher)
    cfg.load_from = args.checkpoint

    if args.launcher == 'slurm':
        export_slurm_environment()
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)

    print_colored_log(f'Working directory: {cfg.work_dir}')
    print_colored_log(f'Log directory: {runner._log_dir}')

    collector = _CollectTestMetrics()
    runner.register_hook(collector)
    try:
        returned = runner.test()
    except TeacherMismatchError as err:
        raise SystemExit(str(err)) from None
    metrics = returned if returned is not None else collector.metrics

    if args.out:
        from mmengine.fileio import dump
        dump(metrics, args.out)
        print_colored_log(f'Metrics saved to {args.out}')


if __name__ == '__main__':
    main()
