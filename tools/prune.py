"""Prune a teacher into a student checkpoint (the paper's initialisation).

    python tools/prune.py CONFIG [--teacher-checkpoint PATH] [--ratio R] \
        [--round-to K] [--criterion NAME] [--fit-mapping-iters N] \
        [--device cuda] --out STUDENT.pth

    # N processes share the content-aware / diversity-aware scoring
    bash tools/dist_launch.sh prune.py N CONFIG --out STUDENT.pth ...

Writes an MMagic-style checkpoint: ``state_dict`` holds the student under
``generator.`` and ``generator_ema.module.`` (so ``load_from`` and our tools
read it); ``meta`` records the student config (explicit widths), which teacher
channels each layer kept, the criterion, the ratio (and round_to) and the
teacher file.
"""
import argparse
import os
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.dist import barrier, init_dist, is_distributed, is_main_process

import mmstylekd  # noqa: F401
from mmstylekd.engine import setup_cpu_distributed
from mmstylekd.engine.atomic_output import atomic_write
from mmstylekd.models import (build_student, build_teacher,
                              check_student_init, generator_configs,
                              init_student_from_teacher)
from mmstylekd.utils import plain


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an mmstylekd config')
    parser.add_argument('--teacher-checkpoint',
                        help='teacher checkpoint path or URL '
                        '(default: model.teacher_ckpt of the config)')
    parser.add_argument('--ratio', type=float,
                        help='fraction of channels removed in every layer '
                        '(default: the config student\'s ratio/widths)')
    parser.add_argument('--round-to', type=int,
                        help='with a ratio, round every kept width down to '
                        'a multiple of K (8, 16: widths the hardware likes)')
    parser.add_argument('--criterion',
                        help='importance criterion type, e.g. '
                        'WeightL1Importance (default: the config\'s)')
    parser.add_argument('--fit-mapping-iters', type=int,
                        help='fit the student\'s (smaller) mapping network '
                        'to the teacher\'s for this many iterations '
                        '(default: the config\'s student_init.fit_mapping)')
    parser.add_argument('--device', default='cpu',
                        help='where to score and prune, e.g. cuda '
                        '(default: cpu)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='student checkpoint')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace --out when it exists')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher: the processes share the scoring of the '
        'content-aware and diversity-aware criteria; rank 0 writes --out '
        '(bash tools/dist_launch.sh prune.py N CONFIG ...)')
    # torch.distributed.launch passes `--local-rank` (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def init_processes(cfg: Config, launcher: str) -> None:
    """Join the process group of a multi-process run (gloo without a GPU,
    the config's backend, default nccl, with one)."""
    if launcher == 'none':
        return
    cfg.launcher = launcher
    setup_cpu_distributed(cfg)
    if not is_distributed():
        init_dist(launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    teacher_cfg, student_cfg = generator_configs(cfg)
    init_cfg = dict(cfg.model.get('student_init', None) or {})
    try:
        check_student_init(init_cfg)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    if args.ratio is not None:
        student_cfg.pop('channels', None)
        student_cfg['ratio'] = args.ratio
    if args.round_to is not None:
        student_cfg['round_to'] = args.round_to
    if args.criterion:
        init_cfg['criterion'] = dict(type=args.criterion)
    if args.fit_mapping_iters is not None:
        init_cfg['fit_mapping'] = dict(
            init_cfg.get('fit_mapping') or {}, iters=args.fit_mapping_iters)
    ckpt = args.teacher_checkpoint or cfg.model.get('teacher_ckpt')

    if osp.exists(args.out) and not args.overwrite:
        raise SystemExit(f'{args.out} exists: give another --out or add '
                         '--overwrite to replace it.')
    init_processes(cfg, args.launcher)
    barrier()  # every process has checked --out before rank 0 writes it
    try:  # validates the ratio and round_to before any work
        student = build_student(student_cfg)
    except ValueError as err:
        raise SystemExit(f'student config: {err}') from None
    teacher = build_teacher(teacher_cfg, ckpt)
    device = torch.device(args.device)
    report = init_student_from_teacher(
        student.to(device),
        teacher.to(device),
        criterion=init_cfg.get('criterion'),
        inherit_mapping=init_cfg.get('inherit_mapping', True),
        inherit_synthesis=True,
        fit_mapping=init_cfg.get('fit_mapping'),
        refine=init_cfg.get('refine'),
        seed=args.seed)
    student.cpu()
    if not is_main_process():  # every process pruned the same way
        torch_dist.destroy_process_group()
        return

    recorded_cfg = dict(student_cfg.to_dict()
                        if hasattr(student_cfg, 'to_dict') else student_cfg)
    recorded_cfg.pop('ratio', None)  # the widths are recorded explicitly
    recorded_cfg.pop('round_to', None)
    recorded_cfg['channels'] = report['channels']
    state = {}
    for k, v in student.state_dict().items():
        state[f'generator.{k}'] = v
        state[f'generator_ema.module.{k}'] = v.clone()
    checkpoint = dict(
        meta=plain(dict(
            student_cfg=recorded_cfg,
            kept_channels=report['kept'],
            criterion=report['criterion'],
            mapping_fit=report.get('mapping_fit'),
            refine=report.get('refine'),
            ratio=student_cfg.get('ratio'),
            round_to=student_cfg.get('round_to'),
            teacher_checkpoint=ckpt,
            mmstylekd_version=mmstylekd.__version__)),
        state_dict=state)

    # an existing file is never left half-written
    atomic_write(args.out, lambda tmp: torch.save(checkpoint, tmp),
                 force=True)
    print(f'Student written to {args.out}: widths {report["channels"]}, '
          f'criterion {report["criterion"]["type"]}')
    if is_distributed():
        torch_dist.destroy_process_group()


if __name__ == '__main__':
    main()
