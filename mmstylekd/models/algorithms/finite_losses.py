"""Stop every process together when a loss stops being finite.

A rank that raises alone leaves the others waiting in DDP's gradient
all-reduce (torchrun tears them down; srun or a scheduler can leave them
hanging until the NCCL timeout). So each step reduces one vector of
"not finite" flags across the processes, before the backward pass, and
every rank raises the same message. The cost is one small all-reduce and
one device-to-host read per step (mmengine's logging already reads every
loss to the host each step), not one read per loss.
"""
from typing import Dict, Union

import torch
from mmengine import MessageHub
from mmengine.dist import all_reduce, get_world_size

LossValue = Union[torch.Tensor, float]


def stop_if_not_finite(log_vars: Dict[str, LossValue], step: str) -> None:
    """Raise on every rank when any rank's loss is inf or NaN.

    Args:
        log_vars: the step's losses, {name: scalar tensor or float}; every
            rank must pass the same names (all ranks run the same step).
        step: which step computed them (``'generator'``/``'discriminator'``)
            for the message.

    Raises:
        FloatingPointError: naming the losses, the iteration and how many
            processes saw them.
    """
    if not log_vars:
        return
    names = sorted(log_vars)
    device = next((v.device for v in log_vars.values() if torch.is_tensor(v)),
                  torch.device('cpu'))
    flags = torch.stack([
        ~torch.isfinite(torch.as_tensor(log_vars[n], device=device).detach()
                        ).all() for n in names
    ]).float()
    all_reduce(flags, op='sum')  # no-op in one process
    if not bool(flags.any()):
        return
    iteration = MessageHub.get_current_instance().get_info('iter')
    counts = {name: int(c) for name, c in zip(names, flags) if c > 0}
    if len(counts) > 1:
        counts.pop('loss', None)  # the total only echoes its components
    bad = ', '.join(f'{name} ({count} of {get_world_size()} process(es))'
                    for name, count in counts.items())
    raise FloatingPointError(
        f'Not finite (inf or NaN) at iteration {iteration}, {step} step: '
        f'{bad}. Training stopped on every process (lower the learning '
        'rate or the loss weights).')
