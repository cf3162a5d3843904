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
import glob
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ROWS = [
    ('a', '(a) baseline: re-init mapping, L1', 'ablation_a_baseline.py'),
    ('b', '(b) + mapping inheritance', 'ablation_b_mapping.py'),
    ('c', '(c) + latent-direction loss (demo)',
     'ablation_c_latent_direction.py'),
    ('d', '(d) (c) with random directions', 'ablation_d_random_direction.py'),
    ('e', '(e) (c) with content-aware pruning',
     'ablation_e_content_aware.py'),
    ('f', '(f) (c) with diversity-aware pruning',
     'ablation_f_diversity_aware.py'),
    ('g', '(g) heterogeneous student, fitted 2-layer mapping',
     'ablation_g_heterogeneous.py'),
    ('h', '(h) (c) with Singular Value Scaling', 'ablation_h_svs.py'),
    ('i', '(i) (c) with diversity-aware pruning + SVS',
     'ablation_i_dcp_svs.py'),
]
REFERENCE = 'c'
# (key, header, format of the mean)
COLUMNS = [
    ('l1', 'L1 to teacher (lower)', '{:.4f}'),
    ('psnr', 'PSNR to teacher dB (higher)', '{:.2f}'),
    ('agreement', 'same digit as teacher (higher)', '{:.1%}'),
    ('student_confidence', 'student digit confidence', '{:.2f}'),
    ('swd', 'SWD to data (lower)', '{:.2f}'),
    ('inversion_psnr', 'inversion PSNR dB (higher)', '{:.2f}'),
    ('minutes', 'train min', '{:.1f}'),
]
# columns whose differences from the reference row are tested
TESTED = [('agreement', 'same digit'), ('l1', 'L1')]


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


def last_val(work_dir):
    """The last validation record of a run (its scalars.json)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    records = [json.loads(line) for log in logs for line in open(log)]
    vals = [r for r in records if any(k.startswith('swd') for k in r)]
    return vals[-1] if vals else {}


def selected_rows(only):
    if not only:
        return ROWS
    rows = [r for r in ROWS if r[0] in only or r[2] in only]
    unknown = set(only) - {r[0] for r in rows} - {r[2] for r in rows}
    if unknown:
        raise SystemExit(f'error: unknown rows {sorted(unknown)}; rows are '
                         f'{[r[0] for r in ROWS]} or their config names.')
    return rows


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


def summarise(runs):
    """{column: (mean, std)}; std is the sample standard deviation (0 with
    one seed); None where a run lacks the figure."""
    summary = {}
    for key, _, _ in columns(runs):
        values = [r[key] for r in runs]
        if any(v is None for v in values):
            summary[key] = None
            continue
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[key] = (statistics.fmean(values), std)
    return summary


def columns(runs):
    """COLUMNS plus same digit and L1 at the --measure-at iterations."""
    extra = sorted({int(k.split('@')[1]) for r in runs for k in r
                    if k.startswith('agreement@')})
    early = [(f'{name}@{it}', f'{header} at {it}', fmt) for it in extra
             for name, header, fmt in (('agreement', 'same digit', '{:.1%}'),
                                       ('l1', 'L1', '{:.4f}'))]
    return early + COLUMNS


def cell(stat, fmt):
    if stat is None:
        return 'n/a'
    mean, std = stat
    if fmt.endswith('%}'):  # percentages: the spread in points
        return f'{fmt.format(mean)} ± {100 * std:.1f}'
    return f'{fmt.format(mean)} ± {fmt.format(std).rstrip("%")}'


def beyond_spread(rows):
    """Sentences on which rows differ from the reference by more than the
    sum of their standard deviations, per tested column."""
    ref = next((r for r in rows if r['key'] == REFERENCE), None)
    if ref is None:
        return [f'Row ({REFERENCE}) was not run: no comparison.']
    lines = []
    for key, name in TESTED:
        r_mean, r_std = ref['summary'][key]
        found = []
        for row in rows:
            if row is ref:
                continue
            mean, std = row['summary'][key]
            diff = mean - r_mean
            if abs(diff) > std + r_std:
                shown = f'{100 * diff:+.1f} points' if key == 'agreement' \
                    else f'{diff:+.4f}'
                found.append(f'({row["key"]}) {shown}')
        lines.append(f'{name}: ' + (', '.join(found) if found else 'none') +
                     f' differ from ({REFERENCE}) by more than the sum of '
                     'their standard deviations.')
    return lines


def main():
    args = parse_args()
    rows = []
    for key, label, name in selected_rows(args.only):
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
