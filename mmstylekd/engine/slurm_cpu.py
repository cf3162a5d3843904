"""Run mmengine's ``--launcher slurm`` jobs on nodes without a GPU."""
import os
import subprocess

import torch


def export_slurm_environment() -> None:
    """Set torch.distributed's variables from a Slurm task's, without a GPU.

    mmengine's slurm start (``mmengine.dist.utils._init_dist_slurm``) derives
    ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` from ``SLURM_PROCID``, ``SLURM_NTASKS``,
    ``SLURM_LOCALID`` and ``SLURM_NODELIST`` (the first host of
    ``scontrol show hostname``), and then calls ``torch.cuda.set_device``,
    which fails on a CPU node. This sets the same variables the same way, so
    that :func:`~mmstylekd.engine.setup_cpu_distributed` can start the gloo
    process group from them before the runner is built (the runner then
    keeps it). With a GPU it does nothing: mmengine's own start runs.
    Variables already set (``MASTER_ADDR``, ``MASTER_PORT``) are kept, as
    mmengine keeps them.
    """
    if torch.cuda.is_available():
        return
    proc_id = int(os.environ['SLURM_PROCID'])
    node_list = os.environ['SLURM_NODELIST']
    os.environ['RANK'] = str(proc_id)
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ.setdefault('MASTER_PORT', '29500')  # torch's default
    if 'MASTER_ADDR' not in os.environ:
        # the first node of the job hosts the rendezvous, as in mmengine
        hosts = subprocess.run(['scontrol', 'show', 'hostname', node_list],
                               capture_output=True, text=True, check=True)
        os.environ['MASTER_ADDR'] = hosts.stdout.split()[0]
