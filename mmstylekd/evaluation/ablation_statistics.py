"""The demo ablation's rows and statistics over seeds.

``tools/analysis_tools/run_ablation.py`` trains every row of
``configs/demo/ablation`` once per seed and measures it; here are the rows,
the columns of its table, mean and spread over the seeds, and which
differences from the reference row (the demo) exceed that spread.
"""
import glob
import json
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

#: (key, label, config file name in configs/demo/ablation) per row.
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
#: the row the others are compared with (the demo).
REFERENCE = 'c'
#: (key, header, format of the mean) of each figure.
COLUMNS = [
    ('l1', 'L1 to teacher (lower)', '{:.4f}'),
    ('psnr', 'PSNR to teacher dB (higher)', '{:.2f}'),
    ('agreement', 'same digit as teacher (higher)', '{:.1%}'),
    ('student_confidence', 'student digit confidence', '{:.2f}'),
    ('swd', 'SWD to data (lower)', '{:.2f}'),
    ('inversion_psnr', 'inversion PSNR dB (higher)', '{:.2f}'),
    ('minutes', 'train min', '{:.1f}'),
]
#: (key, name) of the figures whose differences from the reference are
#: tested against the spread.
TESTED = [('agreement', 'same digit'), ('l1', 'L1')]


def last_val(work_dir: str) -> dict:
    """The last validation record of a run.

    Args:
        work_dir: the run's work dir (its ``*/vis_data/scalars.json``).

    Returns:
        dict: the last record holding an SWD figure; empty when none.
    """
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    records = []
    for log in logs:
        with open(log) as f:
            records += [json.loads(line) for line in f]
    vals = [r for r in records if any(k.startswith('swd') for k in r)]
    return vals[-1] if vals else {}


def selected_rows(only: Optional[Sequence[str]]) -> List[tuple]:
    """The rows named by letter or config file name (all when None).

    Raises:
        ValueError: a name that is no row's.
    """
    if not only:
        return ROWS
    rows = [r for r in ROWS if r[0] in only or r[2] in only]
    unknown = set(only) - {r[0] for r in rows} - {r[2] for r in rows}
    if unknown:
        raise ValueError(f'unknown rows {sorted(unknown)}; rows are '
                         f'{[r[0] for r in ROWS]} or their config names.')
    return rows


def summarise(runs: List[dict]) -> Dict[str, Optional[Tuple[float, float]]]:
    """Mean and spread of every figure over a row's runs (one per seed).

    Args:
        runs: one dict of figures per seed (``None`` where a run lacks one).

    Returns:
        dict: column key -> (mean, sample standard deviation; 0 with one
        seed), or None where any run lacks the figure.
    """
    summary = {}
    for key, _, _ in columns(runs):
        values = [r[key] for r in runs]
        if any(v is None for v in values):
            summary[key] = None
            continue
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[key] = (statistics.fmean(values), std)
    return summary


def columns(runs: List[dict]) -> List[Tuple[str, str, str]]:
    """:data:`COLUMNS` preceded by same digit and L1 at every ``@N``
    iteration the runs measured (``agreement@N``, ``l1@N``)."""
    extra = sorted({int(k.split('@')[1]) for r in runs for k in r
                    if k.startswith('agreement@')})
    early = [(f'{name}@{it}', f'{header} at {it}', fmt) for it in extra
             for name, header, fmt in (('agreement', 'same digit', '{:.1%}'),
                                       ('l1', 'L1', '{:.4f}'))]
    return early + COLUMNS


def cell(stat: Optional[Tuple[float, float]], fmt: str) -> str:
    """``mean ± std`` as a table cell; percentages give the spread in
    points; ``n/a`` for a missing figure."""
    if stat is None:
        return 'n/a'
    mean, std = stat
    if fmt.endswith('%}'):  # percentages: the spread in points
        return f'{fmt.format(mean)} ± {100 * std:.1f}'
    return f'{fmt.format(mean)} ± {fmt.format(std).rstrip("%")}'


def beyond_spread(rows: List[dict]) -> List[str]:
    """Which rows differ from the reference by more than their spread.

    Args:
        rows: dicts with ``key`` (row letter) and ``summary``
            (:func:`summarise`).

    Returns:
        list[str]: one sentence per :data:`TESTED` figure naming the rows
        whose mean differs from the reference's by more than the sum of
        both standard deviations (or one sentence saying the reference
        was not run).
    """
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
