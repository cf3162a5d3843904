"""tools/slurm_train.sh and slurm_test.sh: a Slurm job of two CPU tasks.

No cluster here: a stand-in ``srun`` on PATH starts the ``--ntasks`` tasks on
this machine with the SLURM_* variables a job's tasks get, and a stand-in
``scontrol`` answers ``scontrol show hostname`` (mmengine's slurm start and
ours ask it for the first node). The tasks then go through
``--launcher slurm`` for real: gloo process group, two ranks.
"""
import glob
import os
import socket
import stat
import subprocess
import sys

from conftest import REPO, check

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'

SRUN = r'''#!/usr/bin/env bash
# stand-in srun: record the arguments, then start --ntasks tasks here
echo "$@" >> "$SRUN_RECORD"
ntasks=1
while [ $# -gt 0 ]; do
  case "$1" in
    -p|-J|-N|-n) shift 2 ;;
    --ntasks=*) ntasks=${1#--ntasks=}; shift ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ -n "${SRUN_RECORD_ONLY:-}" ] && exit 0
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_NNODES=1 \
  SLURM_NODELIST='cpu-node[1]' SLURM_JOB_ID=4242 "$@" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
exit $rc
'''

SCONTROL = r'''#!/usr/bin/env bash
# stand-in scontrol: "scontrol show hostname NODELIST" -> this machine
if [ "$1 $2" = "show hostname" ]; then echo 127.0.0.1; exit 0; fi
echo "stand-in scontrol: unsupported: $*" >&2
exit 1
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def slurm_env(tmp_path, **extra):
    """PATH with the stand-ins first, and the job's settings."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               PYTHON=sys.executable, SRUN_RECORD=str(tmp_path / 'srun.txt'),
               GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1',
               MASTER_PORT=str(free_port()), PYTHONUNBUFFERED='1')
    env.pop('MASTER_ADDR', None)  # the tasks must ask scontrol
    env.update(extra)
    return env


def test_slurm_train_runs_two_cpu_tasks(tmp_path):
    work = tmp_path / 'work'
    proc = check(subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'debug', 'kd', TINY, str(work),
         '--cfg-options', 'train_cfg.max_iters=2'],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env=slurm_env(tmp_path)))
    srun_args = (tmp_path / 'srun.txt').read_text()
    assert srun_args.startswith('-p debug --job-name=kd --gres=gpu:2 '
                                '--ntasks=2 --ntasks-per-node=2 '
                                '--cpus-per-task=1')
    assert f'{sys.executable} -u {REPO}/tools/train.py {TINY} ' \
        f'--work-dir={work} --cfg-options train_cfg.max_iters=2 ' \
        '--launcher=slurm' in srun_args
    # rank 0's log: one job of two processes started by slurm, on gloo
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert 'Distributed launcher: slurm' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert 'communicate through gloo' in proc.stdout + log
    # without --quiet, train.py's terminal is MMagic's (config, hook table)
    assert 'Hooks will be executed' in proc.stdout
    assert (work / 'iter_2.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith(
        'iter_2.pth')


def test_slurm_test_passes_checkpoint_and_launcher(tmp_path):
    check(subprocess.run(
        ['bash', 'tools/slurm_test.sh', 'debug', 'eval', TINY, 'ckpt.pth',
         '--out', 'metrics.json'],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env=slurm_env(tmp_path, SRUN_RECORD_ONLY='1', GRES='')))
    srun_args = (tmp_path / 'srun.txt').read_text()
    assert '--gres' not in srun_args  # GRES="": nodes without GPUs
    assert srun_args.strip().endswith(
        f'{sys.executable} -u {REPO}/tools/test.py {TINY} ckpt.pth '
        '--out metrics.json --launcher=slurm')
