"""Summarise saved ``benchmark.py --json`` results, one block per file.

    python tools/analysis_tools/benchmark_summary.py RESULT.json [...]

A file whose last line is not a JSON result (a run that failed or was cut
off) is named with a pointer to its log.
"""
import argparse
import json
import os.path as osp

from mmstylekd.deployment.benchmarking import summary_lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('results', nargs='+',
                        help='files holding benchmark.py\'s JSON line')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path in args.results:
        name = osp.basename(path)
        try:
            with open(path) as f:
                figures = json.loads(f.read().strip().splitlines()[-1])
            lines = summary_lines(figures)
        except (OSError, ValueError, IndexError, KeyError):
            print(f'{name}: no result (see the .log next to it)')
            continue
        print(f'{name}: {lines[0]}')
        for line in lines[1:]:
            print(line)


if __name__ == '__main__':
    main()
