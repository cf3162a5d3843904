"""What the two converter tools share: output arguments and writing."""
import argparse
import os.path as osp

from .config_writer import write_teacher_config
from .mmagic_checkpoint import (ConvertedTeacher, save_mmagic_checkpoint,
                                summary)


def add_output_args(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--config-out``, ``--force``."""
    parser.add_argument('--out', required=True,
                        help='MMagic checkpoint to write (.pth)')
    parser.add_argument('--config-out',
                        help='also write the matching teacher config (.py)')
    parser.add_argument('--student-ratio', type=float, default=0.7,
                        help='fraction of every width removed in the '
                        'config\'s student_generator (default: the paper\'s '
                        '0.7)')
    parser.add_argument('--force', action='store_true',
                        help='replace existing output files')


def write_outputs(converted: ConvertedTeacher, args: argparse.Namespace,
                  tool: str) -> None:
    """Write the checkpoint (and config) of ``converted``; print a summary.

    Both files are checked for existence before either is written, so a
    refused run leaves nothing behind.
    """
    if not 0 <= args.student_ratio < 1:
        raise ValueError(f'--student-ratio must be in [0, 1), got '
                         f'{args.student_ratio}.')
    for path in (args.out, args.config_out):
        if path and osp.exists(path) and not args.force:
            raise FileExistsError(
                f'{path} exists; pass --force to replace it.')
    save_mmagic_checkpoint(converted, args.out, force=args.force)
    print(summary(converted))
    print(f'MMagic checkpoint written to {args.out}')
    if args.config_out:
        write_teacher_config(converted, args.config_out, args.out, tool,
                             args.student_ratio, force=args.force)
        print(f'Teacher config written to {args.config_out}')
