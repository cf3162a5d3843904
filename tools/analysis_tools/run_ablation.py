"""Run the demo ablation and print one table.

    python tools/analysis_tools/run_ablation.py [--iters N] [--num-samples N]

Trains each config of ``configs/demo/ablation`` with the same budget, seeds
and evaluation (``tools/train.py``; the runs' final validation gives SWD and
the teacher-student figures), then measures every last checkpoint with
``consistency.py`` on the same z. Prints a markdown table; ``--json`` adds
the figures as one JSON line.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = [
    ('(a) baseline: re-init mapping, L1', 'ablation_a_baseline.py'),
    ('(b) + mapping inheritance', 'ablation_b_mapping.py'),
    ('(c) + latent-direction loss', 'ablation_c_latent_direction.py'),
    ('(d) (c) with random directions', 'ablation_d_random_direction.py'),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=1000)
    parser.add_argument('--num-samples', type=int, default=256)
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument('--only', nargs='*', help='config file names')
    parser.add_argument('--json', action='store_true')
    return parser.parse_args()


def run(cmd):
    print('+', ' '.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f'failed: {" ".join(cmd)}')
    return proc.stdout


def last_val(work_dir):
    """The last validation record of a run (its scalars.json)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    records = [json.loads(line) for log in logs for line in open(log)]
    vals = [r for r in records if any(k.startswith('swd') for k in r)]
    return vals[-1] if vals else {}


def main():
    args = parse_args()
    rows = []
    for label, name in CONFIGS:
        if args.only and name not in args.only:
            continue
        cfg = osp.join('configs', 'demo', 'ablation', name)
        work = osp.join(args.work_dir, osp.splitext(name)[0])
        start = time.time()
        run([sys.executable, 'tools/train.py', cfg, '--work-dir', work,
             '--cfg-options', f'train_cfg.max_iters={args.iters}',
             f'train_cfg.val_interval={args.iters}'])
        minutes = (time.time() - start) / 60
        with open(osp.join(ROOT, work, 'last_checkpoint')) as f:
            ckpt = f.read().strip()
        out = run([sys.executable, 'tools/analysis_tools/consistency.py',
                   cfg, ckpt, '--num-samples', str(args.num_samples),
                   '--digit-agreement', '--json'])
        fig = json.loads(out.strip().splitlines()[-1])
        val = last_val(osp.join(ROOT, work))
        rows.append(dict(label=label, config=name, l1=fig['l1'],
                         psnr=fig['psnr'], agreement=fig['agreement'],
                         student_confidence=fig['student_confidence'],
                         swd=val.get('swd/avg'), minutes=minutes))
    print()
    print('| run | L1 to teacher (lower) | PSNR to teacher dB (higher) | '
          'same digit as teacher (higher) | student digit confidence | '
          'SWD to data (lower) | train min |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        swd = 'n/a' if r['swd'] is None else f'{r["swd"]:.2f}'
        print(f'| {r["label"]} | {r["l1"]:.4f} | {r["psnr"]:.2f} | '
              f'{r["agreement"]:.1%} | {r["student_confidence"]:.2f} | '
              f'{swd} | {r["minutes"]:.1f} |')
    print(f'\n{args.iters} iterations each, batch 16, seed 2022; figures on '
          f'{args.num_samples} samples (seed 0), EMA student.')
    if args.json:
        print(json.dumps(rows))


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
