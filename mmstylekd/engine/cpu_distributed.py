"""Run mmengine's ``--launcher pytorch`` jobs on machines without a GPU."""
import logging
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> None:
    """Make a multi-process config run on CPUs (gloo), when there is no GPU.

    mmengine assumes GPUs for ``--launcher pytorch``: its ``init_dist`` calls
    ``torch.cuda.set_device`` (which fails without one) and its DDP wrappers
    get ``device_ids=[LOCAL_RANK]``, which DDP refuses for modules on the
    CPU. Here the process group is initialised with gloo before the runner
    is built (the runner then keeps it) and the wrapper gets no device ids.
    On a machine with a GPU nothing changes (the config's backend, nccl).

    Args:
        cfg: the config, modified in place; ``cfg.launcher`` must be set.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') != 'gloo' and \
            os.environ.get('RANK', '0') == '0':
        print_log(
            f'No GPU: the processes communicate through gloo instead of '
            f'{dist_cfg.get("backend", "nccl")}.',
            logger='current', level=logging.WARNING)
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        options = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        torch_dist.init_process_group(backend='gloo', **options)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
