"""Fit a student's own (smaller) mapping network to the teacher's, or
freeze it."""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.utils import ProgressBar

from ..latent_inputs import w_from_z


def fit_mapping_network(student: nn.Module,
                        teacher: nn.Module,
                        iters: int = 2000,
                        batch_size: int = 64,
                        lr: float = 1.0,
                        seed: int = 0,
                        progress: bool = True) -> Dict[str, float]:
    """Train ``student.style_mapping`` so that w_student(z) ~ w_teacher(z).

    The StyleKD recipe for heterogeneous students whose mapping network is
    smaller than the teacher's: minimise the L1 distance between their w for
    random z, before distillation starts. StyleGAN3's ``w_avg`` is copied from
    the teacher (the student now lives in the teacher's w space).

    Args:
        lr: Adam's learning rate on the stored parameters. MMagic's mapping
            layers multiply them by ``lr_mlp`` (0.01), so the effective rate
            of the weights is ``lr * lr_mlp`` (default 1e-2).

    Returns:
        dict: ``l1_before`` and ``l1_after`` on a held-out batch.
    """
    gen = torch.Generator().manual_seed(seed)
    device = next(student.parameters()).device
    held_out = torch.randn(256, teacher.noise_size, generator=gen).to(device)
    with torch.no_grad():
        target_held_out = w_from_z(teacher, held_out)
        before = F.l1_loss(w_from_z(student, held_out), target_held_out).item()
    mapping = student.style_mapping
    params = list(mapping.parameters())
    frozen = [p for p in params if not p.requires_grad]
    for param in frozen:  # a frozen mapping network is fitted first
        param.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=lr)
    bar = ProgressBar(iters) if progress and is_main_process() else None
    for _ in range(iters):
        z = torch.randn(batch_size, teacher.noise_size, generator=gen)
        z = z.to(device)
        with torch.no_grad():
            target = w_from_z(teacher, z)
        loss = F.l1_loss(w_from_z(student, z), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if bar is not None:
            bar.update()
    # The training optimiser holds every generator parameter, frozen ones
    # included, and Adam steps any parameter whose .grad is set: a gradient
    # left from fitting would move a frozen mapping network at the first
    # step (and be added to the first real gradient of a trained one).
    optimizer.zero_grad(set_to_none=True)
    for param in frozen:
        param.requires_grad_(False)
    if hasattr(mapping, 'w_avg') and hasattr(teacher.style_mapping, 'w_avg'):
        mapping.w_avg.copy_(teacher.style_mapping.w_avg)
    with torch.no_grad():
        after = F.l1_loss(w_from_z(student, held_out), target_held_out).item()
    return dict(l1_before=before, l1_after=after)


def _w_with_grad(mapping: nn.Module, args, w: torch.Tensor):
    """Forward hook of a frozen mapping network: its w accepts gradients."""
    if w.requires_grad or any(p.requires_grad for p in mapping.parameters()):
        return None  # not frozen (mapping fitting unfreezes it)
    return w.detach().requires_grad_(torch.is_grad_enabled())


def freeze_mapping_network(mapping: nn.Module) -> None:
    """Freeze a mapping network; its w still accepts gradients.

    MMagic's path-length regulariser differentiates the image with respect
    to w, which a frozen mapping network would return without
    ``requires_grad``. The hook is a module-level function so that the
    model stays picklable.

    Args:
        mapping: a generator's ``style_mapping`` (before any DDP wrapper is
            built: DDP must know which parameters train).
    """
    mapping.requires_grad_(False)
    mapping.register_forward_hook(_w_with_grad)
