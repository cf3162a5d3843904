"""Parameters and MACs of a config's teacher and student, one image each.

    python tools/analysis_tools/complexity.py CONFIG [--json]

Builds both generators from the config alone (no checkpoint needed).
Parameters count the whole generator, mapping network included; MACs count
one z -> image forward at the config's resolution.
"""
import argparse
import json

from mmagic.registry import MODELS
from mmengine.config import Config, DictAction

import mmstylekd  # noqa: F401
from mmstylekd.engine.console import prints_hidden
from mmstylekd.evaluation import generator_complexity
from mmstylekd.models import build_student, generator_configs


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--json', action='store_true',
                        help='end with one JSON line of the figures')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    teacher_cfg, student_cfg = generator_configs(cfg)
    with prints_hidden():  # MMagic's style-mode notes
        figures = {
            'teacher': generator_complexity(
                MODELS.build(teacher_cfg.to_dict())),
            'student': generator_complexity(build_student(student_cfg)),
        }
    t, s = figures['teacher'], figures['student']
    # small demo generators would read 0.00 GMACs: pick the unit per table
    unit, scale = ('GMACs', 1e9) if t['macs'] >= 1e9 else ('MMACs', 1e6)
    print(f'{"":8s} {"params":>12s} {unit:>10s}')
    for name, fig in figures.items():
        print(f'{name:8s} {fig["params"] / 1e6:11.2f}M '
              f'{fig["macs"] / scale:10.2f}')
    print(f'student/teacher: params {s["params"] / t["params"]:.1%}, '
          f'MACs {s["macs"] / t["macs"]:.1%}')
    if args.json:
        print(json.dumps(figures))


if __name__ == '__main__':
    main()
