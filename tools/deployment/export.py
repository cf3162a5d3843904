"""Export a trained StyleGAN2 student as standalone ONNX and TorchScript.

    python tools/deployment/export.py CONFIG CKPT --out DIR \
        [--format onnx torchscript] [--truncation T] [--noise-inputs] \
        [--opset 17] [--force]

CKPT: a training checkpoint (its EMA generator, ``generator_ema``) or a
``tools/prune.py`` checkpoint; the generator is the config's
``model.generator`` (the student of an mmstylekd config, or the generator of
any MMagic StyleGAN2 config). Writes ``DIR/student.onnx`` (input ``z``),
``DIR/student_w.onnx`` (input ``w``, one per layer), ``DIR/student.ts``
(TorchScript) and ``DIR/metadata.json``; each file is checked against the
MMagic generator (relative L2 error in metadata.json). The files need only
onnxruntime or torch: no mmcv, mmagic or mmstylekd.
"""
import argparse
import os.path as osp
import sys
import warnings

# import-time deprecation chatter of diffusers/mmengine/mmcv (not ours);
# the filter must come first, hence the late imports
warnings.filterwarnings(
    'ignore', message='.*(pkg_resources|_register_pytree_node|Since aten)')

# isort: off
from mmagic.models.editors.stylegan2 import StyleGAN2Generator  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

import mmstylekd  # noqa: E402
from mmstylekd.deployment.exporters import (  # noqa: E402
    DEFAULT_OPSET, export_generator)
from mmstylekd.deployment.fast_inference import quiet_eval  # noqa: E402
from mmstylekd.evaluation import generator_complexity  # noqa: E402
from mmstylekd.models import build_student_from_checkpoint  # noqa: E402
# isort: on

STYLEGAN3_MISSING = (
    'StyleGAN3 generators are not exported yet: a plain-PyTorch StyleGAN3 '
    'synthesis network is missing (filtered_lrelu, i.e. 2x-upsampled '
    'bias + leaky ReLU + clamp with the windowed-sinc up/down filters; '
    'bias_act; the Fourier-feature input with its affine transform; the '
    'modulated convolution in input-modulation form). See '
    'README.md, section Deploy.')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an mmstylekd (or MMagic StyleGAN2) '
                        'config; its model.generator is exported')
    parser.add_argument('checkpoint', help='training checkpoint (EMA '
                        'generator) or tools/prune.py checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--format', nargs='+', default=['onnx', 'torchscript'],
                        choices=['onnx', 'torchscript'])
    parser.add_argument('--truncation', type=float, default=1.,
                        help='truncation factor baked in (default 1: none)')
    parser.add_argument('--truncation-samples', type=int, default=4096,
                        help='z samples for the mean w of the truncation')
    parser.add_argument('--noise-inputs', action='store_true',
                        help='take the injected noises as ONNX inputs '
                        'noise_0.. instead of the fixed buffers')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the check against the MMagic generator')
    parser.add_argument('--force', action='store_true',
                        help='overwrite existing files in --out')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not 0 < args.truncation <= 1:
        raise SystemExit(f'--truncation must be in (0, 1], got '
                         f'{args.truncation}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    gen_cfg = cfg.model.generator
    gen_cls = MODELS.get(gen_cfg['type'])
    if gen_cls is None or not issubclass(gen_cls, StyleGAN2Generator):
        if gen_cls is not None and 'StyleGAN3' in gen_cls.__name__:
            raise SystemExit(STYLEGAN3_MISSING)
        raise SystemExit(f'{args.config}: model.generator is '
                         f'{gen_cfg["type"]}, not a StyleGAN2 generator.')
    try:
        generator = build_student_from_checkpoint(gen_cfg, args.checkpoint)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as err:
        raise SystemExit(f'Cannot load the generator: {err}')
    quiet_eval(generator)
    complexity = generator_complexity(generator)
    metadata = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        generator=type(generator).__name__,
        channels={int(k): int(v)
                  for k, v in generator.channels.items()
                  if k <= generator.out_size},
        params=complexity['params'],
        macs=complexity['macs'],
        mmstylekd_version=mmstylekd.__version__)
    try:
        meta = export_generator(
            generator,
            args.out,
            formats=args.format,
            truncation=args.truncation,
            truncation_samples=args.truncation_samples,
            noise_inputs=args.noise_inputs,
            opset=args.opset,
            metadata=metadata,
            verify=not args.no_verify,
            force=args.force)
    except FileExistsError as err:
        raise SystemExit(str(err))
    for kind, name in meta['files'].items():
        print(f'{kind:12s} {osp.join(args.out, name)}')
    print(f'{"metadata":12s} {osp.join(args.out, "metadata.json")}')
    unit, scale = ('GMACs', 1e9) if meta['macs'] >= 1e9 else ('MMACs', 1e6)
    print(f'{meta["out_size"]} px, {meta["params"] / 1e6:.2f}M params, '
          f'{meta["macs"] / scale:.2f} {unit} per image, truncation '
          f'{meta["truncation"]}')
    for kind, err in (meta.get('max_relative_l2_vs_mmagic') or {}).items():
        print(f'{kind:12s} relative L2 error vs MMagic: {err:.2e}')


if __name__ == '__main__':
    sys.exit(main())
