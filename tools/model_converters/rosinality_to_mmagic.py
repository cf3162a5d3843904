"""Convert a rosinality/stylegan2-pytorch checkpoint for MMagic.

    python tools/model_converters/rosinality_to_mmagic.py IN.pt --out OUT.pth \
        [--config-out CFG.py] [--lr-mlp 0.01] [--overwrite]

Reads ``g_ema`` (and ``g``, ``d``, ``latent_avg``, ``args``) with
``torch.load(weights_only=True)``; also the pruned generators of CAGAN and the
official StyleKD code (one width per resolution). Writes an MMagic checkpoint
and, with ``--config-out``, the matching teacher config.
"""
import argparse
import pickle
import sys

import mmstylekd  # noqa: F401  (registers the generator types)
from mmstylekd.converters import convert_rosinality_checkpoint
from mmstylekd.converters.cli import add_output_args, write_outputs


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='rosinality-format .pt')
    parser.add_argument(
        '--lr-mlp', type=float,
        help='mapping learning-rate multiplier (not stored in the file; '
        'default: args.lr_mlp of the file, else 0.01)')
    add_output_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        converted = convert_rosinality_checkpoint(args.checkpoint,
                                                  args.lr_mlp)
        write_outputs(converted, args, 'tools/model_converters/'
                      'rosinality_to_mmagic.py')
    except (OSError, KeyError, ValueError, pickle.UnpicklingError) as err:
        sys.exit(f'rosinality_to_mmagic: {err}')


if __name__ == '__main__':
    main()
