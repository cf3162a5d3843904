"""Sample-based pruning criteria split their samples between processes.

Two real processes (gloo on 127.0.0.1) prune the tiny config's MMagic
StyleGAN2 teacher with the content-aware (CAGAN) and the diversity-aware
(DCP-GAN) criterion; a third, alone, prunes it on the same samples. Every
process is this file run as a script (``python tests/<this file> ...``),
with one intra-op thread, and writes what it pruned: the student's state
dict, the criterion's scores, the kept channels and the batch size of every
forward pass of the generator (to count the samples it scored).
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import REPO, build_noisy_generator, check

TINY = 'tests/configs/stylekd_tiny_stylegan2-16x16.py'
# 7 samples in batches of 2, 2, 2, 1: rank 0 scores batches 0-1 (4
# samples), rank 1 batches 2-3 (3 samples, the short batch)
CONTENT = dict(type='ContentAwareImportance', num_samples=7, batch_size=2,
               noise_prob=0.3, seed=3)
# 5 samples in batches of 2, 2, 1: rank 0 scores batch 0 (2 samples), rank
# 1 batches 1-2 (3 samples); one forward with a graph and one per direction
DIVERSITY = dict(type='DiversityAwareImportance', num_samples=5,
                 batch_size=2, num_directions=2, strength=3.0,
                 pca_samples=100, seed=3)
CASES = {
    'content-aware': (CONTENT, {0: 4, 1: 3}, 1),
    'diversity-aware': (DIVERSITY, {0: 2, 1: 3}, 1 + 2),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def launch(args, world_size, port=None, rank=0):
    """Start ``python THIS_FILE args`` as rank ``rank`` of ``world_size``."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
               WORLD_SIZE=str(world_size), RANK=str(rank),
               LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(port or 0))
    if world_size == 1:
        for key in ('RANK', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
            env.pop(key)
    return subprocess.Popen(
        [sys.executable, osp.abspath(__file__)] + [str(a) for a in args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def finish(proc, timeout=600):
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    return check(
        subprocess.CompletedProcess(proc.args, proc.returncode, stdout,
                                    stderr))


@pytest.fixture(scope='module', params=sorted(CASES))
def pruned(request, tmp_path_factory):
    """{'single' | 0 | 1: record} of one criterion."""
    criterion = json.dumps(CASES[request.param][0])
    work = tmp_path_factory.mktemp(request.param)
    files = {0: work / 'rank0.pt', 1: work / 'rank1.pt',
             'single': work / 'single.pt'}
    port = free_port()
    procs = [launch([criterion, files[rank]], 2, port, rank)
             for rank in (0, 1)]
    procs.append(launch([criterion, files['single']], 1))
    for proc in procs:
        finish(proc)
    records = {key: torch.load(path) for key, path in files.items()}
    records['case'] = request.param
    return records


def test_two_processes_prune_as_one_on_their_shares(pruned):
    _, shares, forwards_per_sample = CASES[pruned['case']]
    rank0, rank1, single = pruned[0], pruned[1], pruned['single']
    assert (rank0['rank'], rank0['world_size']) == (0, 2)
    assert (rank1['rank'], rank1['world_size']) == (1, 2)
    assert single['world_size'] == 1
    # each process scored its share of the samples only (the first forward
    # is the dependency graph's trace, one latent)
    for rank, record in ((0, rank0), (1, rank1)):
        assert record['forwards'][0] == 1
        assert sum(record['forwards'][1:]) == \
            shares[rank] * forwards_per_sample, rank
    assert sum(single['forwards'][1:]) == \
        sum(shares.values()) * forwards_per_sample
    # the scores are not trivially equal: every layer has differing,
    # positive scores
    assert single['scores'].keys() == single['kept'].keys()
    for name, score in single['scores'].items():
        assert score.min() >= 0 and score.max() > score.min(), name
    # both ranks got the same scores, widths and weights ...
    for key in ('scores', 'student'):
        assert rank0[key].keys() == rank1[key].keys() == single[key].keys()
        for name, value in rank0[key].items():
            assert torch.equal(value, rank1[key][name]), (key, name)
    assert rank0['kept'] == rank1['kept']
    # ... those of one process scoring all the samples
    assert rank0['kept'] == single['kept']
    for key in ('scores', 'student'):
        for name, value in single[key].items():
            torch.testing.assert_close(rank0[key][name], value, rtol=1e-6,
                                       atol=1e-9, msg=f'{key} {name}')


def test_prune_tool_with_two_processes(tmp_path):
    """``tools/dist_launch.sh prune.py 2`` writes the checkpoint that one
    ``tools/prune.py`` process writes."""
    teacher = build_noisy_generator(
        dict(type='StyleGANv2Generator', out_size=16, style_channels=16,
             num_mlps=2))
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict={f'generator_ema.module.{k}': v
                                for k, v in teacher.state_dict().items()}),
               ckpt)
    options = ['--teacher-checkpoint', ckpt, '--cfg-options'] + [
        f'model.student_init.criterion.{k}={v}'
        for k, v in dict(CONTENT, num_samples=4).items()
    ]
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
               PYTHON=sys.executable, PORT=str(free_port()))
    two = subprocess.Popen(
        ['bash', 'tools/dist_launch.sh', 'prune.py', '2', TINY, '--out',
         tmp_path / 'two.pth'] + options,
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    one = subprocess.Popen(
        [sys.executable, 'tools/prune.py', TINY, '--out',
         tmp_path / 'one.pth'] + options,
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    finish(one)
    log = finish(two)
    # only rank 0 reports and writes
    assert (log.stdout + log.stderr).count('Student written to') == 1
    one, two = (torch.load(tmp_path / f'{n}.pth') for n in ('one', 'two'))
    assert one['meta']['criterion']['type'] == 'ContentAwareImportance'
    assert one['meta']['kept_channels'] == two['meta']['kept_channels']
    assert one['state_dict'].keys() == two['state_dict'].keys()
    for key, value in one['state_dict'].items():
        torch.testing.assert_close(two['state_dict'][key], value, rtol=1e-6,
                                   atol=1e-9, msg=key)


def prune_in_this_process(criterion: str, out: str) -> None:
    """One process of the tests above: prune the tiny config's teacher with
    ``criterion`` (JSON); save what it did to ``out``."""
    import torch.distributed as torch_dist
    from mmagic.registry import TASK_UTILS
    from mmengine.config import Config
    from mmengine.dist import get_dist_info

    import mmstylekd  # noqa: F401
    from mmstylekd.models import (build_student, generator_configs,
                                  init_student_from_teacher)

    torch.set_num_threads(1)
    if int(os.environ.get('WORLD_SIZE', '1')) > 1:
        torch_dist.init_process_group('gloo')
    criterion = json.loads(criterion)

    scores, forwards = {}, []
    importance = TASK_UTILS.get(criterion['type'])
    compute = importance.compute

    def spy(self, generator, arch, roots):
        result = compute(self, generator, arch, roots)
        scores.update({name: result[m].clone() for name, m in roots})
        return result

    importance.compute = spy

    teacher_cfg, student_cfg = generator_configs(
        Config.fromfile(osp.join(REPO, TINY)))
    teacher = build_noisy_generator(teacher_cfg)
    forward = type(teacher).forward

    def counted(self, styles, *args, **kwargs):
        first = styles[0] if isinstance(styles, (list, tuple)) else styles
        forwards.append(first.shape[0])
        return forward(self, styles, *args, **kwargs)

    type(teacher).forward = counted
    torch.manual_seed(1)
    student = build_student(student_cfg).eval()
    report = init_student_from_teacher(student, teacher, criterion=criterion)
    rank, world_size = get_dist_info()
    torch.save(
        dict(rank=rank, world_size=world_size, scores=scores,
             forwards=forwards, kept=report['kept'],
             student=student.state_dict()), out)
    if world_size > 1:
        torch_dist.destroy_process_group()


if __name__ == '__main__':
    prune_in_this_process(*sys.argv[1:])
