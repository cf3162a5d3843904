"""How close a student's images are to its teacher's (same z, same noise).

    python tools/analysis_tools/consistency.py CONFIG STUDENT_CKPT \
        [--teacher-checkpoint PATH] [--num-samples N] [--seed S] \
        [--save-npz FILE] [--lpips] [--json]

Prints L1 (on [-1, 1]), PSNR (dB) and, when the config distils with an
LPIPS loss or ``--lpips`` asks for it, LPIPS (only when its backbone's
weights load, else reported as null with the reason). Otherwise LPIPS is
null and nothing is loaded or downloaded for it.
"""
import argparse
import json
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction

import mmstylekd  # noqa: F401
from mmstylekd.engine.console import prints_hidden
from mmstylekd.evaluation import (consistency_figures, digit_agreement,
                                  generate_pairs, to_uint8)
from mmstylekd.models import (TeacherMismatchError, build_lpips,
                              build_student_from_checkpoint, build_teacher,
                              check_student_teacher, generator_configs)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('student_checkpoint')
    parser.add_argument('--teacher-checkpoint',
                        help='default: model.teacher_ckpt of the config')
    parser.add_argument('--num-samples', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--lpips', action='store_true',
                        help='also report LPIPS (by default only when the '
                        'config has an LPIPSLoss); its backbone\'s ImageNet '
                        'weights are downloaded when missing')
    parser.add_argument('--lpips-net',
                        help='LPIPS backbone (default: the config\'s '
                        'LPIPSLoss net, else vgg)')
    parser.add_argument('--save-npz', help='write teacher/student uint8 '
                        'images (N x H x W x C, RGB) to this .npz')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the --save-npz file when it exists')
    parser.add_argument('--digit-agreement', action='store_true',
                        help='digits demo: how often a classifier fitted on '
                        'scikit-learn\'s digits gives teacher and student '
                        'images the same label')
    parser.add_argument('--allow-other-teacher', action='store_true',
                        help='compare a student distilled from another '
                        'teacher (by default this stops)')
    parser.add_argument('--allow-random-teacher', action='store_true',
                        help='compare with a teacher of random weights '
                        '(no teacher checkpoint)')
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def lpips_loss_net(cfg: Config):
    """The backbone of the config's LPIPS distillation loss, or None."""
    distiller = cfg.model.get('distiller') or {}
    for loss in (distiller.get('distill_losses') or {}).values():
        if loss.get('type') == 'LPIPSLoss':
            return loss.get('net', 'vgg')
    return None


def main():
    args = parse_args()
    if args.save_npz and osp.exists(args.save_npz) and not args.overwrite:
        raise SystemExit(f'{args.save_npz} exists: give another --save-npz '
                         'or add --overwrite to replace it.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    teacher_cfg, student_cfg = generator_configs(cfg)
    teacher_path = args.teacher_checkpoint or cfg.model.get('teacher_ckpt')
    # MMagic's style-mode notes and mmengine's checkpoint-backend notes
    with prints_hidden():
        student = build_student_from_checkpoint(student_cfg,
                                                args.student_checkpoint)
        teacher = build_teacher(teacher_cfg, teacher_path)
        try:
            check_student_teacher(args.student_checkpoint, teacher,
                                  teacher_path, args.allow_other_teacher,
                                  args.allow_random_teacher)
        except TeacherMismatchError as err:
            raise SystemExit(str(err)) from None
    config_net = lpips_loss_net(cfg)
    lpips_model = None
    if args.lpips or config_net:
        try:
            lpips_model = build_lpips(args.lpips_net or config_net or 'vgg')
        except FileNotFoundError as err:
            print(f'LPIPS skipped: {err}')
    with prints_hidden():
        imgs_t, imgs_s = generate_pairs(teacher, student, args.num_samples,
                                        args.seed, args.batch_size)
    figures = consistency_figures(imgs_t, imgs_s, lpips_model)
    figures['num_samples'] = args.num_samples
    lp = 'n/a' if figures['lpips'] is None else f'{figures["lpips"]:.4f}'
    print(f'teacher vs student on {args.num_samples} samples: '
          f'L1 {figures["l1"]:.4f}  PSNR {figures["psnr"]:.2f} dB  '
          f'LPIPS {lp}')
    if args.digit_agreement:
        figures.update(digit_agreement(imgs_t, imgs_s))
        print(f'same digit for the same z: {figures["agreement"]:.1%} '
              f'(classifier confidence: teacher '
              f'{figures["teacher_confidence"]:.2f}, student '
              f'{figures["student_confidence"]:.2f})')
    if args.save_npz:
        np.savez_compressed(
            args.save_npz,
            teacher=to_uint8(imgs_t).numpy(),
            student=to_uint8(imgs_s).numpy())
        print(f'images saved to {args.save_npz}')
    if args.json:
        print(json.dumps(figures))


if __name__ == '__main__':
    main()
