"""Export a trained StyleGAN2/3 student as standalone ONNX and TorchScript.

    python tools/deployment/export.py CONFIG CKPT --out DIR \
        [--format onnx torchscript] [--truncation T] [--noise-inputs] \
        [--opset 17] [--tolerance 1e-4] [--no-verify] [--overwrite]

CKPT: a training checkpoint (its EMA generator, ``generator_ema``) or a
``tools/prune.py`` checkpoint; the generator is the config's
``model.generator`` (the student of an mmstylekd config, or the generator of
any MMagic StyleGAN2 or StyleGAN3 config). Writes ``DIR/student.onnx``
(input ``z``), ``DIR/student_w.onnx`` (input ``w``, one per layer),
``DIR/student.ts``
(TorchScript) and ``DIR/metadata.json``. The files need only onnxruntime or
torch: no mmcv, mmagic or mmstylekd.

Each file is checked against the MMagic generator (fp32, CPU, 2 random z): its
relative L2 error ||out - ref|| / ||ref|| goes to metadata.json, and above
``--tolerance`` (default 1e-4) the export fails: the tool exits non-zero naming
the file and its error, and nothing in DIR is replaced (the files are verified
before they are moved into place). Why 1e-4: correct exports measure 2e-7 (the
digits demo student, 32 px), 1.3e-6 and 2.1e-6 (StyleGAN2 with random weights,
256 and 1024 px), float32 summation-order noise 50 times below it; 1e-4 is an
RMS error of ~1/100 of an 8-bit grey level, while the bugs tried (a lost gain,
a zeroed or sign-flipped weight) give 1.7e-3 to 5e-2.
"""
import argparse
import os.path as osp
import sys

# mmstylekd first: its warnings filter must precede the import of MMagic's
# models (diffusers warns then), hence no isort here
# isort: off
import mmstylekd  # noqa: F401
from mmagic.models.editors.stylegan2 import StyleGAN2Generator
from mmagic.models.editors.stylegan3 import StyleGAN3Generator
from mmagic.registry import MODELS
from mmengine.config import Config, DictAction

from mmstylekd.deployment.exporters import (
    DEFAULT_OPSET, DEFAULT_TOLERANCE, ExportVerificationError,
    export_generator)
from mmstylekd.deployment.fast_inference import quiet_eval
from mmstylekd.evaluation import generator_complexity
from mmstylekd.models import (
    TeacherIdentity, TeacherMismatchError, build_student_from_checkpoint,
    build_teacher, check_recorded_teacher, read_checkpoint)
from mmstylekd.models.teacher_identity import recorded_teacher
# isort: on


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
    parser.add_argument('--tolerance', type=float,
                        default=DEFAULT_TOLERANCE,
                        help='largest relative L2 error (fp32) of a file '
                        'against the MMagic generator; above it the export '
                        'fails and writes nothing (default %(default)g, '
                        'fp32: correct exports measure 2e-7 at 32 px, '
                        '1.3e-6 at 256 px, 2.1e-6 at 1024 px, float32 '
                        'summation-order noise; the bugs tried give 1.7e-3 '
                        'to 5e-2)')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the check against the MMagic generator')
    parser.add_argument('--overwrite', '--force', dest='overwrite',
                        action='store_true',
                        help='overwrite existing files in --out (--force is '
                        'an alias)')
    parser.add_argument('--allow-other-teacher', action='store_true',
                        help='export a student whose checkpoint records '
                        'another teacher than model.teacher_ckpt (by '
                        'default this stops; the teacher is then not '
                        'loaded at all)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def widths(generator):
    """StyleGAN2: {resolution: width}; StyleGAN3: the Fourier input's and
    every layer's output width."""
    if isinstance(generator, StyleGAN3Generator):
        synthesis = generator.synthesis
        return [int(synthesis.input.weight.shape[0])] + [
            int(getattr(synthesis, name).weight.shape[0])
            for name in synthesis.layer_names
        ]
    return {int(k): int(v) for k, v in generator.channels.items()
            if k <= generator.out_size}


def check_teacher(cfg: Config, checkpoint: str, allow_other: bool):
    """Stop when the student was distilled from another teacher than the
    config's; returns the teacher the checkpoint records (for
    metadata.json), None when it records none."""
    state = read_checkpoint(checkpoint)
    recorded = recorded_teacher(state.get('state_dict', {}))
    if 'teacher' not in cfg.model or allow_other:
        return recorded
    if recorded is None:
        # nothing to compare: loading (or downloading) the teacher is moot
        print(f'{checkpoint} records no teacher: it cannot be checked '
              'against the config\'s.')
        return None
    path = cfg.model.get('teacher_ckpt')
    try:
        teacher = build_teacher(cfg.model.teacher, path)
        # the file is read once: compare with what it records
        check_recorded_teacher(state, TeacherIdentity.of(teacher,
                                                         path).identity,
                               checkpoint)
    except TeacherMismatchError as err:
        raise SystemExit(str(err)) from None
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        raise SystemExit(
            f'Cannot load the teacher to check that {checkpoint} was '
            f'distilled from it: {err} (--allow-other-teacher skips the '
            'check)') from None
    return recorded


def main(argv=None):
    args = parse_args(argv)
    if not 0 < args.truncation <= 1:
        raise SystemExit(f'--truncation must be in (0, 1], got '
                         f'{args.truncation}')
    if not args.tolerance > 0:
        raise SystemExit(f'--tolerance must be > 0, got {args.tolerance}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    gen_cfg = cfg.model.generator
    gen_cls = MODELS.get(gen_cfg['type'])
    if gen_cls is None or not issubclass(
            gen_cls, (StyleGAN2Generator, StyleGAN3Generator)):
        raise SystemExit(f'{args.config}: model.generator is '
                         f'{gen_cfg["type"]}, not a StyleGAN2 or StyleGAN3 '
                         'generator.')
    try:
        generator = build_student_from_checkpoint(gen_cfg, args.checkpoint)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as err:
        raise SystemExit(f'Cannot load the generator: {err}')
    teacher = check_teacher(cfg, args.checkpoint, args.allow_other_teacher)
    quiet_eval(generator)
    complexity = generator_complexity(generator)
    metadata = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        generator=type(generator).__name__,
        channels=widths(generator),
        params=complexity['params'],
        macs=complexity['macs'],
        teacher=teacher,
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
            force=args.overwrite,
            tolerance=args.tolerance)
    except FileExistsError as err:
        raise SystemExit(str(err))
    except ExportVerificationError as err:
        raise SystemExit(f'Export failed the check against MMagic: {err} '
                         '(--tolerance sets the limit; --no-verify writes '
                         'the files unchecked)')
    for kind, name in meta['files'].items():
        print(f'{kind:12s} {osp.join(args.out, name)}')
    print(f'{"metadata":12s} {osp.join(args.out, "metadata.json")}')
    unit, scale = ('GMACs', 1e9) if meta['macs'] >= 1e9 else ('MMACs', 1e6)
    print(f'{meta["out_size"]} px, {meta["params"] / 1e6:.2f}M params, '
          f'{meta["macs"] / scale:.2f} {unit} per image, truncation '
          f'{meta["truncation"]}')
    for kind, err in (meta.get('max_relative_l2_vs_mmagic') or {}).items():
        print(f'{kind:12s} relative L2 error vs MMagic: {err:.2e} '
              f'(tolerance {args.tolerance:g})')


if __name__ == '__main__':
    sys.exit(main())
