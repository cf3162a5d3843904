"""What the two converter tools share: output arguments and writing."""
import argparse
import os.path as osp

from .config_writer import format_teacher_config, write_config_file
from .mmagic_checkpoint import (ConvertedTeacher, save_mmagic_checkpoint,
                                summary)


def add_output_args(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--config-out``, ``--overwrite`` (alias ``--force``)."""
    parser.add_argument('--out', required=True,
                        help='MMagic checkpoint to write (.pth)')
    parser.add_argument('--config-out',
                        help='also write the matching teacher config (.py)')
    parser.add_argument('--student-ratio', type=float, default=0.7,
                        help='fraction of every width removed in the '
                        'config\'s student_generator (default: the paper\'s '
                        '0.7)')
    parser.add_argument('--overwrite', '--force', dest='overwrite',
                        action='store_true',
                        help='replace existing output files (--force is an '
                        'alias)')


def write_outputs(converted: ConvertedTeacher, args: argparse.Namespace,
                  tool: str) -> None:
    """Write the checkpoint (and config) of ``converted``; print a summary.

    Both files are checked for existence, and the config's text is made
    (which checks every value it holds), before either is written, so a
    refused run leaves nothing behind.

    Raises:
        ValueError: a bad ``--student-ratio``, or a config value that is not
            plain data.
        FileExistsError: an output exists and ``--overwrite`` is not given.
    """
    if not 0 <= args.student_ratio < 1:
        raise ValueError(f'--student-ratio must be in [0, 1), got '
                         f'{args.student_ratio}.')
    for path in (args.out, args.config_out):
        if path and osp.exists(path) and not args.overwrite:
            raise FileExistsError(
                f'{path} exists; pass --overwrite to replace it.')
    text = None
    if args.config_out:
        text = format_teacher_config(converted, args.out, tool,
                                     args.student_ratio)
    save_mmagic_checkpoint(converted, args.out, force=args.overwrite)
    print(summary(converted))
    print(f'MMagic checkpoint written to {args.out}')
    if text is not None:
        write_config_file(args.config_out, text, force=args.overwrite)
        print(f'Teacher config written to {args.config_out}')
