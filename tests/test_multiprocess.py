"""Two real processes through tools/dist_train.sh (gloo on this CPU)."""
import glob
import json
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import REPO, check

DIST = 'tests/configs/stylekd_tiny_dist-16x16.py'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def dist_train(work, nproc, *args):
    """``bash tools/dist_train.sh DIST nproc --work-dir work ...``."""
    env = dict(
        __import__('os').environ, PYTHON=sys.executable,
        PORT=str(free_port()), PYTHONUNBUFFERED='1',
        PYTHONPATH=osp.join(REPO, 'tests'))
    return subprocess.run(
        ['bash', 'tools/dist_train.sh', DIST, str(nproc), '--work-dir',
         str(work)] + [str(a) for a in args],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


def rank_records(work, rank):
    """Draws, losses and final student of one rank, all runs merged."""
    merged = dict(draws={}, losses={}, student=None)
    for path in sorted(glob.glob(f'{work}/rank{rank}_*.pt')):
        record = torch.load(path)
        merged['draws'].update(record['draws'])
        merged['losses'].update(record['losses'])
        merged['student'] = record['student']
    return merged


def logged_losses(work):
    """Rank 0's logged losses per iteration (all runs of the work dir)."""
    records = {}
    for path in sorted(glob.glob(f'{work}/*/vis_data/scalars.json')):
        for line in open(path):
            record = json.loads(line)
            if 'loss' in record:
                records[record['step']] = record
    return records


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """20 iterations straight and 10 + 10 with --resume, two processes."""
    root = tmp_path_factory.mktemp('dist')
    straight, split = root / 'straight', root / 'split'
    check(dist_train(straight, 2, '--cfg-options', 'train_cfg.max_iters=20'))
    check(dist_train(split, 2, '--cfg-options', 'train_cfg.max_iters=10'))
    resumed = check(dist_train(split, 2, '--resume', '--cfg-options',
                               'train_cfg.max_iters=20'))
    return dict(straight=straight, split=split, resumed_log=resumed.stdout +
                resumed.stderr)


def assert_ranks_differ(rank0, rank1, iterations):
    for it in iterations:
        for key in ('z', 'noise', 'offsets'):
            a, b = rank0['draws'][it][key], rank1['draws'][it][key]
            assert a.shape == b.shape
            assert not torch.allclose(a, b), (it, key)


def test_two_ranks_draw_differently_and_keep_one_student(runs):
    rank0 = rank_records(runs['straight'], 0)
    rank1 = rank_records(runs['straight'], 1)
    assert sorted(rank0['draws']) == list(range(20))
    assert_ranks_differ(rank0, rank1, range(20))
    # per-sample noise: the samples of one rank differ from each other
    noise = rank0['draws'][0]['noise']
    assert noise.shape[0] == 2 and not torch.equal(noise[0], noise[1])
    # DDP keeps one student: every weight equal on both ranks, and trained
    for key, value in rank0['student'].items():
        assert torch.equal(value, rank1['student'][key]), key
    assert rank0['losses'][5]['loss_l1'] != rank1['losses'][5]['loss_l1']


def test_two_process_resume_continues_exactly(runs):
    straight, split = logged_losses(runs['straight']), logged_losses(
        runs['split'])
    assert sorted(split) == sorted(straight) == list(range(1, 21))
    for step in range(11, 21):
        for key in ('loss_l1', 'loss_relation', 'loss_gen',
                    'loss_disc_fake'):
            assert split[step][key] == straight[step][key], (step, key)
    for rank in (0, 1):
        a = rank_records(runs['straight'], rank)
        b = rank_records(runs['split'], rank)
        for it in range(10, 20):
            for key in ('z', 'noise', 'offsets'):
                assert torch.equal(a['draws'][it][key],
                                   b['draws'][it][key]), (rank, it, key)
        for key, value in a['student'].items():
            assert torch.equal(value, b['student'][key]), (rank, key)
    assert_ranks_differ(rank_records(runs['split'], 0),
                        rank_records(runs['split'], 1), range(10, 20))
    assert 'Student initialised from teacher' not in runs['resumed_log']


def test_resume_with_another_number_of_processes_is_logged(runs, tmp_path):
    work = tmp_path / 'one'
    work.mkdir()
    ckpt = runs['split'] / 'iter_10.pth'
    proc = check(dist_train(work, 1, '--resume', ckpt, '--cfg-options',
                            'train_cfg.max_iters=12'))
    assert 'Resuming a run of 2 process(es) with 1' in proc.stdout + \
        proc.stderr
    records = rank_records(work, 0)
    assert sorted(records['draws']) == [10, 11]


def test_a_nan_on_one_rank_stops_every_rank_promptly(tmp_path):
    """Two processes started as a scheduler (srun) would start them: nobody
    tears the other rank down, so a rank left waiting in DDP's all-reduce
    would hang until the test's timeout."""
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = dict(
            __import__('os').environ, RANK=str(rank), LOCAL_RANK=str(rank),
            WORLD_SIZE='2', MASTER_ADDR='127.0.0.1', MASTER_PORT=port,
            PYTHONUNBUFFERED='1', PYTHONPATH=osp.join(REPO, 'tests'))
        procs.append(subprocess.Popen(
            [sys.executable, 'tools/train.py',
             'tests/configs/stylekd_tiny_nan-16x16.py', '--work-dir',
             str(tmp_path), '--launcher', 'pytorch'],
            cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=240)[0])
    finally:
        for proc in procs:
            proc.kill()
    for proc, out in zip(procs, outputs):
        assert proc.returncode != 0, out[-3000:]
        assert ('Not finite (inf or NaN) at iteration 2, generator step: '
                'loss_nan (1 of 2 process(es))') in out, out[-3000:]
