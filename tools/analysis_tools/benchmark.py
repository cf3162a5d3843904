"""Teacher vs student inference latency (StyleGAN2 or StyleGAN3), and one
distillation step.

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        [--device cpu|cuda] [--batch-sizes 1 8 64] \
        [--backend eager graph compile onnxruntime torchscript mmagic] \
        [--dtype fp32|fp16|bf16] [--repeats N] [--runs-per-round K] \
        [--threads T] [--json]

Both generators are built from the config (random weights: timing does not
depend on them; ``--checkpoint`` loads the student, e.g. a pruned one) and
run the same way: every backend but ``mmagic`` first converts both to the
same plain-PyTorch form (``mmstylekd.deployment``). For each backend and
batch size: median latency and spread (interquartile range) with
``torch.utils.benchmark.Timer``, teacher and student alternating by rounds
(``mmstylekd.deployment.benchmarking`` says how), images/s, measured
speed-up next to the MAC ratio (``generator_complexity``), peak memory
(weights + one forward's working memory; a CUDA graph's pool, allocated at
capture, is not seen), and on a CPU the speed-up in process CPU time.
``--layer-profile`` adds every layer's time next to its MACs. Then the time
of one StyleKD training step (the config's model with
``teacher_ckpt=None`` and ``student_init=None``: MMagic's discriminator and
generator steps with every distillation loss, optimiser wrappers built by
mmengine). With ``--json`` the last line is one JSON object holding every
figure, the device, the versions and the settings.
"""
import argparse
import json
import logging
import os
import sys
import tempfile

import torch
from mmagic.registry import MODELS
from mmengine.config import Config, DictAction

import mmstylekd  # noqa: F401  (first: it quietens third-party warnings)
from mmstylekd.deployment import BACKENDS, DTYPES
from mmstylekd.deployment.benchmarking import (benchmark_device,
                                               benchmark_generators,
                                               environment,
                                               layer_profile_rows,
                                               train_step_time,
                                               write_random_lpips_backbone)
from mmstylekd.deployment.fast_inference import quiet_eval
from mmstylekd.engine.console import silenced
from mmstylekd.evaluation import generator_complexity
from mmstylekd.models import (build_student, build_student_from_checkpoint,
                              generator_configs)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='student checkpoint (training '
                        'or tools/prune.py); default: built from the config')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 8, 64])
    parser.add_argument('--backend', nargs='+', default=['eager'],
                        choices=BACKENDS)
    parser.add_argument('--dtype', default='fp32', choices=list(DTYPES))
    parser.add_argument('--repeats', type=int,
                        help='timing rounds per model, teacher and student '
                        'alternating (default 10 on CUDA, 5 on CPU)')
    parser.add_argument('--runs-per-round', type=int,
                        help='timed calls in each round (one Timer '
                        'measurement, after its two warm-up calls; default '
                        '5 on CUDA, 2 on CPU)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='calls of each model before the first round')
    parser.add_argument('--threads', type=int,
                        help='CPU threads for torch and onnxruntime '
                        '(default: torch\'s)')
    parser.add_argument('--compile-mode', help='torch.compile mode for the '
                        'compile backend (default: torch\'s default)')
    parser.add_argument('--train-batch-size', type=int,
                        help='batch of the timed training step (default: '
                        'the config\'s train_dataloader.batch_size)')
    parser.add_argument('--train-steps', type=int, default=2,
                        help='timed training steps after one warm-up step')
    parser.add_argument('--skip-train-step', action='store_true')
    parser.add_argument('--gan-baseline', metavar='GAN_CONFIG',
                        help='also time one training step of this MMagic '
                        'GAN config (e.g. the student\'s architecture '
                        'trained without a teacher) next to the StyleKD '
                        'step')
    parser.add_argument('--random-lpips-weights', action='store_true',
                        help='offline: time an LPIPS loss of the training '
                        'step with a randomly initialised backbone (same '
                        'cost; in a scratch TORCH_HOME)')
    parser.add_argument('--layer-profile', action='store_true',
                        help='also time every layer of both generators '
                        '(plain eager, CPU, first batch size) next to its '
                        'MACs')
    parser.add_argument('--json', action='store_true',
                        help='end with one JSON line of every figure')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


# ------------------------------------------------------------------ main
def print_table(rows: list, macs: dict) -> None:
    ratio = macs['teacher'] / macs['student']
    head = (f'{"backend":12s} {"dtype":5s} {"batch":>5s} '
            f'{"teacher ms (IQR)":>22s} {"student ms (IQR)":>20s} '
            f'{"T img/s":>8s} {"S img/s":>8s} {"speed-up":>8s} '
            f'{"MAC ratio":>9s} {"T MB":>7s} {"S MB":>7s} '
            f'{"CPU-time speed-up":>17s}')
    print(head)
    for row in rows:
        t, s = row['teacher'], row['student']
        cells = []
        for fig in (t, s):
            cells.append(f'{fig["median"]:9.2f} ({fig["q1"]:.1f}-'
                         f'{fig["q3"]:.1f})')
        mem = [('-' if fig['peak_mem_mb'] is None else
                f'{fig["peak_mem_mb"]:7.1f}') for fig in (t, s)]
        cpu_speedup = ('-' if row['cpu_time_speedup'] is None else
                       f'{row["cpu_time_speedup"]:.2f}x')
        print(f'{row["backend"]:12s} {row["dtype"]:5s} {row["batch"]:5d} '
              f'{cells[0]:>22s} {cells[1]:>20s} '
              f'{t["images_per_s"]:8.1f} {s["images_per_s"]:8.1f} '
              f'{row["speedup"]:7.2f}x {ratio:8.2f}x '
              f'{mem[0]:>7s} {mem[1]:>7s} {cpu_speedup:>17s}')


def print_layer_profile(rows: list, batch: int, repeats: int) -> None:
    """Per-layer time and MACs, teacher next to student (eager, CPU);
    for StyleGAN3 also the time in each layer's up/down filtering."""
    sg3 = any(r['teacher_filter_ms'] for r in rows)
    print(f'per-layer profile (plain eager, CPU, batch {batch}, median of '
          f'{repeats}):')
    filt_head = f' {"T filter ms":>11s} {"S filter ms":>11s}' if sg3 else ''
    print(f'{"layer":18s} {"px":>4s} {"T ch":>5s} {"S ch":>5s} '
          f'{"teacher ms":>10s} {"student ms":>10s}{filt_head}'
          f' {"time ratio":>10s} {"MAC ratio":>9s}')
    for r in rows:
        mac_ratio = (f'{r["teacher_macs"] / r["student_macs"]:8.2f}x'
                     if r['student_macs'] else f'{"-":>9s}')
        filt = (f' {r["teacher_filter_ms"]:11.2f} '
                f'{r["student_filter_ms"]:11.2f}' if sg3 else '')
        print(f'{r["name"]:18s} {r["resolution"]:4d} '
              f'{r["teacher_channels"]:5d} {r["student_channels"]:5d} '
              f'{r["teacher_ms"]:10.2f} {r["student_ms"]:10.2f}{filt} '
              f'{r["teacher_ms"] / r["student_ms"]:9.2f}x {mac_ratio}')
    total = [sum(r[f'{k}_ms'] for r in rows) for k in ('teacher', 'student')]
    filt_total = [sum(r[f'{k}_filter_ms'] for r in rows)
                  for k in ('teacher', 'student')]
    filt = (f' {filt_total[0]:11.2f} {filt_total[1]:11.2f}' if sg3 else '')
    print(f'{"sum":18s} {"":4s} {"":5s} {"":5s} {total[0]:10.2f} '
          f'{total[1]:10.2f}{filt} {total[0] / total[1]:9.2f}x')


def main(argv=None):
    args = parse_args(argv)
    try:
        device = benchmark_device(args.device)
    except RuntimeError as err:
        raise SystemExit(str(err)) from None
    if device.type == 'cuda':
        # fixed shapes: let cuDNN pick its fastest kernels (both models)
        torch.backends.cudnn.benchmark = True
    # inductor on a CPU-only build announces that it found no CUDA runtime
    logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    cuda = device.type == 'cuda'
    if args.repeats is None:
        args.repeats = 10 if cuda else 5
    if args.runs_per_round is None:
        args.runs_per_round = 5 if cuda else 2
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    teacher_cfg, student_cfg = generator_configs(cfg)
    torch.manual_seed(0)
    with silenced():
        teacher = quiet_eval(MODELS.build(teacher_cfg.to_dict()))
        if args.checkpoint:
            student = build_student_from_checkpoint(student_cfg,
                                                    args.checkpoint)
        else:
            student = build_student(student_cfg)
        quiet_eval(student)
    generators = dict(teacher=teacher, student=student)
    macs = {name: generator_complexity(gen)['macs']
            for name, gen in generators.items()}

    env = environment(device, args.threads)
    print(f'device: {env["device_name"]} ({device.type}), threads '
          f'{args.threads}')
    print('versions: ' + ', '.join(
        f'{k} {env[k]}' for k in ('python', 'torch', 'cuda', 'mmcv',
                                  'mmengine', 'mmagic', 'onnxruntime')
        if env[k]))
    print(f'config: {args.config}; student: '
          f'{args.checkpoint or "built from the config"}; teacher: random '
          f'weights; dtype {args.dtype}; torch.utils.benchmark.Timer, '
          f'{args.repeats} rounds of {args.runs_per_round} timed calls, '
          f'teacher and student alternating, after {args.warmup} warm-up')
    unit, scale = ('G', 1e9) if macs['teacher'] >= 1e9 else ('M', 1e6)
    print(f'MACs per image: teacher {macs["teacher"] / scale:.2f}{unit}, '
          f'student {macs["student"] / scale:.2f}{unit} '
          f'({macs["teacher"] / macs["student"]:.2f}x)')

    with tempfile.TemporaryDirectory(prefix='mmstylekd_bench_') as tmp:
        rows = benchmark_generators(
            generators, args.backend, args.batch_sizes, device, tmp,
            dtype=args.dtype, rounds=args.repeats,
            runs_per_round=args.runs_per_round, warmup=args.warmup,
            threads=args.threads, compile_mode=args.compile_mode)
    print_table(rows, macs)
    layers = None
    if args.layer_profile:
        layers = layer_profile_rows(generators, args.batch_sizes[0],
                                    args.repeats)
        print_layer_profile(layers, args.batch_sizes[0], args.repeats)

    train = None
    if not args.skip_train_step:
        del generators, teacher, student
        torch_home = os.environ.get('TORCH_HOME')
        with tempfile.TemporaryDirectory(prefix='mmstylekd_lpips_') as home:
            if args.random_lpips_weights:
                # a scratch cache: the real one never gets random weights
                os.environ['TORCH_HOME'] = home
                print('LPIPS: randomly initialised backbone (timing only) '
                      f'at {write_random_lpips_backbone("vgg")}')
            try:
                train = train_step_time(cfg, device, args.train_batch_size,
                                        args.train_steps)
            finally:
                os.environ.pop('TORCH_HOME', None)
                if torch_home is not None:
                    os.environ['TORCH_HOME'] = torch_home
        print(f'training step (StyleKD, batch {train["batch"]}, discriminator'
              f' + generator, no regularisation): {train["seconds"]:.3f} s '
              f'(mean of {train["steps"]} after Timer\'s warm-up)')
        if args.gan_baseline:
            gan_cfg = Config.fromfile(args.gan_baseline)
            train['gan_baseline'] = dict(
                config=args.gan_baseline,
                **train_step_time(gan_cfg, device, train['batch'],
                                  args.train_steps))
            gan = train['gan_baseline']['seconds']
            print(f'training step of {args.gan_baseline} (no teacher, batch '
                  f'{train["batch"]}): {gan:.3f} s; StyleKD step / GAN step '
                  f'{train["seconds"] / gan:.2f}x')
    if args.json:
        print(json.dumps(dict(
            config=args.config,
            checkpoint=args.checkpoint,
            environment=env,
            settings=dict(backends=args.backend, dtype=args.dtype,
                          batch_sizes=args.batch_sizes,
                          repeats=args.repeats,
                          runs_per_round=args.runs_per_round,
                          warmup=args.warmup,
                          compile_mode=args.compile_mode,
                          random_lpips_weights=args.random_lpips_weights),
            macs=dict(macs, ratio=macs['teacher'] / macs['student']),
            results=rows,
            layer_profile=layers,
            train_step=train)))


if __name__ == '__main__':
    sys.exit(main())
