"""fp16 / bf16 images of a trained teacher and student against fp32.

    python tools/analysis_tools/half_precision.py CONFIG \
        [--checkpoint STUDENT_CKPT] [--teacher-checkpoint PATH] \
        [--no-teacher] [--dtype fp16 bf16] [--num-samples 64] \
        [--device cpu|cuda] [--backend eager|compile|graph] [--json]

CONFIG: an mmstylekd config (teacher: ``model.teacher`` with
``model.teacher_ckpt`` or ``--teacher-checkpoint``; student:
``model.generator`` with ``--checkpoint``, a training or tools/prune.py
checkpoint) or an MMagic StyleGAN2 config (its ``model.generator`` with
``--checkpoint``). The same seeded z go through the plain generator of
``mmstylekd.deployment`` (what ``fast_generator`` and
``tools/analysis_tools/benchmark.py --dtype`` run) in fp32 and in each half
dtype, fixed injected noise. Per model and dtype: relative L2 error of the
raw outputs, PSNR of the images clamped to [-1, 1], the largest pixel error
and the count of inf/NaN values (and of images holding any). With
``--fail-above E`` the tool exits non-zero when a relative L2 error
exceeds E or an output is not finite.
"""
import argparse
import contextlib
import io
import json
import sys

import torch
from mmengine.config import Config, DictAction

import mmstylekd  # noqa: F401  (quietens third-party warnings)
from mmstylekd.deployment.fast_inference import quiet_eval
from mmstylekd.deployment.half_precision import half_precision_errors
from mmstylekd.models import build_student_from_checkpoint, build_teacher


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='student (or, for an MMagic '
                        'config, generator) checkpoint; none: no student')
    parser.add_argument('--teacher-checkpoint',
                        help='default: model.teacher_ckpt of the config')
    parser.add_argument('--no-teacher', action='store_true',
                        help='measure the student only')
    parser.add_argument('--dtype', nargs='+', default=['fp16', 'bf16'],
                        choices=['fp16', 'bf16'])
    parser.add_argument('--num-samples', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--backend', default='eager',
                        choices=['eager', 'compile', 'graph', 'torchscript'],
                        help='backend of the half runs (the fp32 reference '
                        'runs eager)')
    parser.add_argument('--fail-above', type=float,
                        help='exit non-zero when a relative L2 error is '
                        'above this, or an output is not finite')
    parser.add_argument('--json', action='store_true',
                        help='end with one JSON line of every figure')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def load_generators(cfg: Config, args) -> dict:
    """name -> MMagic generator (eval mode, CPU)."""
    with contextlib.redirect_stdout(io.StringIO()):  # loading chatter
        return _load_generators(cfg, args)


def _load_generators(cfg: Config, args) -> dict:
    generators = {}
    if 'teacher' in cfg.model and not args.no_teacher:
        ckpt = args.teacher_checkpoint or cfg.model.get('teacher_ckpt')
        if not ckpt:
            raise SystemExit('No teacher checkpoint: give '
                             '--teacher-checkpoint (or --no-teacher).')
        try:
            generators['teacher'] = build_teacher(cfg.model.teacher, ckpt)
        except (FileNotFoundError, KeyError, ValueError, RuntimeError) as err:
            raise SystemExit(f'Cannot load the teacher: {err}')
    if args.checkpoint:
        name = 'student' if 'teacher' in cfg.model else 'generator'
        try:
            generators[name] = build_student_from_checkpoint(
                cfg.model.generator, args.checkpoint)
        except (FileNotFoundError, KeyError, ValueError, RuntimeError) as err:
            raise SystemExit(f'Cannot load the {name}: {err}')
    if not generators:
        raise SystemExit('Nothing to measure: give --checkpoint (and/or use '
                         'an mmstylekd config with a teacher checkpoint).')
    return {name: quiet_eval(gen.cpu()) for name, gen in generators.items()}


def main(argv=None):
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    generators = load_generators(cfg, args)
    device = torch.device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == 'cuda' \
        else 'CPU'
    print(f'{args.num_samples} z (seed {args.seed}), fixed noise, plain '
          f'generator: {args.backend} in half precision vs eager fp32, on '
          f'{where}; torch {torch.__version__}')
    print(f'{"model":9s} {"dtype":5s} {"rel. L2":>9s} {"PSNR dB":>8s} '
          f'{"max |err|":>9s} {"inf/NaN values (images)":>24s}')
    results, failed = {}, []
    for name, gen in generators.items():
        results[name] = half_precision_errors(
            gen, args.dtype, args.num_samples, args.batch_size, device,
            args.backend, args.seed)
        for dtype, fig in results[name].items():
            print(f'{name:9s} {dtype:5s} {fig["rel_l2"]:9.2e} '
                  f'{fig["psnr_db"]:8.2f} {fig["max_abs"]:9.2e} '
                  f'{fig["nonfinite"]:>14d} ({fig["nonfinite_images"]}/'
                  f'{fig["images"]})')
            if args.fail_above is not None and (
                    fig['nonfinite'] or not fig['rel_l2'] <= args.fail_above):
                failed.append(f'{name} {dtype}: relative L2 '
                              f'{fig["rel_l2"]:.2e}, {fig["nonfinite"]} '
                              'inf/NaN values')
    if args.json:
        print(json.dumps(dict(
            config=args.config, checkpoint=args.checkpoint,
            settings=dict(num_samples=args.num_samples, seed=args.seed,
                          device=args.device, backend=args.backend,
                          torch=torch.__version__),
            results=results)))
    if failed:
        raise SystemExit(f'above --fail-above {args.fail_above:g}: '
                         + '; '.join(failed))


if __name__ == '__main__':
    sys.exit(main())
