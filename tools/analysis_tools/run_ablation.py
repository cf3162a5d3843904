"""Run the demo ablation over several seeds and print one table.

    python tools/analysis_tools/run_ablation.py [--iters N] \
        [--seeds 2022 2023 2024] [--only a c f] [--reuse] [--json]

Trains each row's config of ``configs/demo/ablation`` once per seed
(``tools/train.py --cfg-options randomness.seed=S``) with the same budget,
then measures every last checkpoint the same way: ``consistency.py`` (L1 and
PSNR to the teacher, same digit, student digit confidence; same z for all
rows), the run's final validation (SWD to the data) and ``inversion.py``
(GAN-inversion PSNR of the student on real digits, fixed images and seed).
Prints mean +- standard deviation over the seeds per column and which
differences from row (c), the demo, exceed their spread.
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time

from mmstylekd.evaluation.ablation_statistics import (
    beyond_spread, cell, columns, last_val, selected_rows, summarise)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=600,
                        help='training iterations per run (the demo: 1500)')
    parser.add_argument('--seeds', type=int, nargs='+',
                        default=[2022, 2023, 2024],
                        help='training seeds (randomness.seed), one run '
                        'per row and seed')
    parser.add_argument('--num-samples', type=int, default=256,
                        help='samples for the teacher-student figures')
    parser.add_argument('--inversion-images', type=int, default=32,
                        help='real digits inverted into each student')
    parser.add_argument('--inversion-steps', type=int, default=100)
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument('--only', nargs='+',
                        help='rows to run: letters (a ... g) or config file '
                        'names')
    parser.add_argument('--reuse', action='store_true',
                        help='reuse a run\'s result.json when it was made '
                        'with the same --iters (resume an interrupted '
                        'ablation)')
    parser.add_argument('--measure-at', type=int, nargs='+', default=[],
                        help='also measure same digit and L1 at these '
                        'iterations (checkpoints are saved there): how '
                        'fast each row converges')
    parser.add_argument('--json', action='store_true',
                        help='print all figures as one JSON line at the end')
    return parser.parse_args()


def run(cmd):
    print('+', ' '.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f'failed: {" ".join(cmd)}')
    return proc.stdout


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def train_and_measure(cfg, work, seed, args):
    """Train one row with one seed and measure it (a dict of figures)."""
    result_file = osp.join(ROOT, work, 'result.json')
    if args.reuse and osp.isfile(result_file):
        with open(result_file) as f:
            result = json.load(f)
        if result.get('iters') == args.iters and all(
                f'agreement@{it}' in result for it in args.measure_at):
            print(f'reusing {result_file}', flush=True)
            return result
    start = time.time()
    interval = math.gcd(args.iters, *args.measure_at)
    run([sys.executable, 'tools/train.py', cfg, '--work-dir', work,
         '--cfg-options', f'train_cfg.max_iters={args.iters}',
         f'train_cfg.val_interval={args.iters}', f'randomness.seed={seed}',
         f'default_hooks.checkpoint.interval={interval}'])
    minutes = (time.time() - start) / 60
    with open(osp.join(ROOT, work, 'last_checkpoint')) as f:
        ckpt = f.read().strip()

    def consistency(checkpoint):
        return last_json(run([sys.executable,
                              'tools/analysis_tools/consistency.py', cfg,
                              checkpoint, '--num-samples',
                              str(args.num_samples), '--digit-agreement',
                              '--json']))

    fig = consistency(ckpt)
    early = {}
    for it in args.measure_at:
        at = consistency(osp.join(ROOT, work, f'iter_{it}.pth'))
        early[f'agreement@{it}'] = at['agreement']
        early[f'l1@{it}'] = at['l1']
    inv = last_json(run([sys.executable, 'tools/analysis_tools/inversion.py',
                         cfg, ckpt, '--digits', str(args.inversion_images),
                         '--steps', str(args.inversion_steps), '--models',
                         'student', '--no-lpips', '--batch-size',
                         str(args.inversion_images), '--json']))
    result = dict(seed=seed, iters=args.iters, checkpoint=ckpt,
                  l1=fig['l1'], psnr=fig['psnr'],
                  agreement=fig['agreement'],
                  student_confidence=fig['student_confidence'],
                  swd=last_val(osp.join(ROOT, work)).get('swd/avg'),
                  inversion_psnr=inv['student_psnr'], minutes=minutes,
                  **early)
    with open(result_file, 'w') as f:
        json.dump(result, f)
    return result


def main():
    args = parse_args()
    rows = []
    try:
        chosen = selected_rows(args.only)
    except ValueError as err:
        raise SystemExit(f'error: {err}') from None
    for key, label, name in chosen:
        cfg = osp.join('configs', 'demo', 'ablation', name)
        runs = []
        for seed in args.seeds:
            work = osp.join(args.work_dir, osp.splitext(name)[0],
                            f'seed_{seed}')
            runs.append(train_and_measure(cfg, work, seed, args))
        rows.append(dict(key=key, label=label, config=name, runs=runs,
                         summary=summarise(runs)))

    shown = columns([r for row in rows for r in row['runs']])
    print()
    print('| run | ' + ' | '.join(h for _, h, _ in shown) + ' |')
    print('|---|' + '---|' * len(shown))
    for row in rows:
        cells = [cell(row['summary'].get(k), f) for k, _, f in shown]
        print(f'| {row["label"]} | ' + ' | '.join(cells) + ' |')
    print(f'\nMean ± standard deviation over seeds {args.seeds} '
          f'(randomness.seed); {args.iters} iterations each, batch 16; '
          f'teacher figures on {args.num_samples} samples (seed 0), EMA '
          f'student; inversion: the first {args.inversion_images} real '
          f'digits, {args.inversion_steps} steps in w, plain MSE.')
    print(' '.join(beyond_spread(rows)))
    if args.json:
        print(json.dumps([{k: v for k, v in row.items()} for row in rows]))


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
