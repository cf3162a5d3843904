"""GAN-inversion PSNR of teacher and student (the paper's third metric).

    python tools/analysis_tools/inversion.py CONFIG STUDENT_CKPT \
        (--images DIR | --digits N) [--steps S] [--space w|w+] \
        [--teacher-checkpoint PATH] [--models teacher student] [--json]

Projects real images into the teacher (``model.teacher_ckpt`` of the config,
or ``--teacher-checkpoint``) and into the student (the EMA generator of
STUDENT_CKPT) as the StyleGAN2 projector does (Adam on w or w+ from the mean
w; MSE plus LPIPS when its VGG weights load, plain MSE otherwise; the
generator's fixed injected noise) and prints the mean reconstruction PSNR of
each, on images mapped to [0, 1]. ``--images DIR`` reads every image file of
DIR resized to the generator's resolution; ``--digits N`` takes the first N
of scikit-learn's digits, served like the demo's training data.
"""
import argparse
import json
import time

import torch
from mmengine.config import Config, DictAction

import mmstylekd  # noqa: F401
from mmstylekd.evaluation.gan_inversion import (invert_images,
                                                load_digit_images,
                                                load_image_folder)
from mmstylekd.models import (build_lpips, build_student_from_checkpoint,
                              build_teacher, generator_configs)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('student_checkpoint')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', metavar='DIR',
                        help='folder of real images')
    source.add_argument('--digits', type=int, metavar='N',
                        help='the first N of scikit-learn\'s real digits')
    parser.add_argument('--steps', type=int, default=1000,
                        help='Adam steps per image (the projector\'s 1000)')
    parser.add_argument('--space', choices=['w', 'w+'], default='w')
    parser.add_argument('--teacher-checkpoint',
                        help='default: model.teacher_ckpt of the config')
    parser.add_argument('--models', nargs='+', default=['teacher', 'student'],
                        choices=['teacher', 'student'],
                        help='which generators to invert into')
    parser.add_argument('--lpips-net', default='vgg')
    parser.add_argument('--no-lpips', action='store_true',
                        help='plain MSE even when LPIPS loads')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', action='store_true',
                        help='print the figures as one JSON line at the end')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def build_generators(cfg, args):
    """{name: generator} for the requested models, on ``args.device``."""
    teacher_cfg, student_cfg = generator_configs(cfg)
    generators = {}
    if 'teacher' in args.models:
        generators['teacher'] = build_teacher(
            teacher_cfg, args.teacher_checkpoint
            or cfg.model.get('teacher_ckpt'))
    if 'student' in args.models:
        generators['student'] = build_student_from_checkpoint(
            student_cfg, args.student_checkpoint)
    return {k: g.to(args.device) for k, g in generators.items()}


def lpips_or_none(args):
    """(LPIPS model or None, a sentence saying which loss is used)."""
    if args.no_lpips:
        return None, 'plain MSE (--no-lpips)'
    try:
        return build_lpips(args.lpips_net), \
            f'MSE + LPIPS ({args.lpips_net})'
    except FileNotFoundError as err:
        return None, f'plain MSE: LPIPS unavailable ({err})'


def main():
    args = parse_args()
    if args.steps < 1:
        raise SystemExit('error: --steps must be at least 1')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        generators = build_generators(cfg, args)
        size = next(iter(generators.values())).out_size
        if args.images is not None:
            targets = load_image_folder(args.images, size)
            source = f'{len(targets)} images of {args.images}'
        else:
            targets = load_digit_images(args.digits, size)
            source = f'{len(targets)} real digits (scikit-learn)'
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as err:
        # missing/unreadable files and folders, wrong weights: name them
        raise SystemExit(f'error: {err}')
    lpips_model, loss_note = lpips_or_none(args)
    print(f'Inverting {source} at {size} px: {args.steps} steps in '
          f'{args.space}, loss {loss_note}.', flush=True)

    figures = dict(
        num_images=len(targets),
        steps=args.steps,
        space=args.space,
        loss='mse' if lpips_model is None else 'mse+lpips')
    start = time.time()
    for name, generator in generators.items():
        t0 = time.time()
        result = invert_images(
            generator,
            targets,
            steps=args.steps,
            space=args.space,
            lpips_model=lpips_model,
            batch_size=args.batch_size,
            seed=args.seed)
        psnr = result.psnr.mean().item()
        figures[f'{name}_psnr'] = psnr
        figures[f'{name}_seconds'] = time.time() - t0
        print(f'\n{name}: inversion PSNR {psnr:.2f} dB (mean of '
              f'{len(targets)} images; min {result.psnr.min():.2f}, max '
              f'{result.psnr.max():.2f}) in {time.time() - t0:.1f} s',
              flush=True)
    figures['seconds'] = time.time() - start
    if args.json:
        print(json.dumps(figures))


if __name__ == '__main__':
    main()
