"""Convert an NVlabs StyleGAN2-ADA / StyleGAN3 network pickle for MMagic.

    python tools/model_converters/nvlabs_to_mmagic.py IN.pkl --out OUT.pth \
        [--config-out CFG.py] [--overwrite]

The pickle is read without running any code from it: NVlabs' persistent
network objects become their saved tensors and attributes; anything else in
the file is refused, naming it. Writes an MMagic checkpoint (``generator_ema.``
from G_ema, ``generator.`` from G, ``discriminator.`` from D) and, with
``--config-out``, the matching teacher config.
"""
import argparse
import pickle
import sys

import mmstylekd  # noqa: F401  (registers the generator types)
from mmstylekd.converters import convert_nvlabs_pickle
from mmstylekd.converters.cli import add_output_args, write_outputs


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pickle', help='NVlabs network pickle (.pkl)')
    add_output_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        converted = convert_nvlabs_pickle(args.pickle)
        write_outputs(converted, args, 'tools/model_converters/'
                      'nvlabs_to_mmagic.py')
    except (OSError, EOFError, KeyError, ValueError,
            pickle.UnpicklingError) as err:
        sys.exit(f'nvlabs_to_mmagic: {err}')


if __name__ == '__main__':
    main()
