"""Teacher and student images for the same z and the same injected noise."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.latent_inputs import injected_noise


@torch.no_grad()
def generate_pairs(teacher: nn.Module,
                   student: nn.Module,
                   num_samples: int,
                   seed: int = 0,
                   batch_size: int = 16) -> Tuple[torch.Tensor, torch.Tensor]:
    """Images of teacher and student for the same seeded z and noise.

    Both run in eval mode (no style mixing, no truncation), with the same
    per-sample injected noise.

    Returns:
        tuple[Tensor, Tensor]: (N, C, H, W) each, on CPU, in the generators'
        output range (about [-1, 1]).
    """
    gen = torch.Generator().manual_seed(seed)
    modes = teacher.training, student.training
    teacher.eval()
    student.eval()
    device_t = next(teacher.parameters()).device
    device_s = next(student.parameters()).device
    outs_t, outs_s = [], []
    for start in range(0, num_samples, batch_size):
        n = min(batch_size, num_samples - start)
        z = torch.randn(n, teacher.noise_size, generator=gen)
        noise = injected_noise(teacher, n, gen, device=torch.device('cpu'))
        kwargs_t = {} if noise is None else dict(
            injected_noise=[x.to(device_t) for x in noise])
        kwargs_s = {} if noise is None else dict(
            injected_noise=[x.to(device_s) for x in noise])
        outs_t.append(teacher(z.to(device_t), **kwargs_t).cpu())
        outs_s.append(student(z.to(device_s), **kwargs_s).cpu())
    teacher.train(modes[0])
    student.train(modes[1])
    return torch.cat(outs_t), torch.cat(outs_s)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, H, W, C) uint8."""
    images = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).contiguous()


@torch.no_grad()
def per_image_figures(teacher_imgs: torch.Tensor,
                      student_imgs: torch.Tensor,
                      lpips_model: Optional[nn.Module] = None,
                      batch_size: int = 16
                      ) -> Dict[str, Optional[torch.Tensor]]:
    """L1, PSNR and LPIPS of each pair of images in [-1, 1].

    L1: mean absolute difference on the [-1, 1] scale. PSNR: on images
    mapped to [0, 1] (MSE floored at 1e-10, i.e. at most 100 dB). LPIPS:
    images larger than 256 px are resized to 256 first; None without a
    model.

    Returns:
        dict: ``l1``, ``psnr``, ``lpips``: (N,) tensors (``lpips`` or None).
    """
    t = teacher_imgs.clamp(-1, 1)
    s = student_imgs.clamp(-1, 1)
    l1 = (t - s).abs().flatten(1).mean(1)
    mse = (((t - s) / 2)**2).flatten(1).mean(1).clamp_min(1e-10)
    psnr = 10 * torch.log10(1.0 / mse)
    lp = None
    if lpips_model is not None:
        device = next(lpips_model.parameters()).device
        dists = []
        for i in range(0, t.shape[0], batch_size):
            a, b = t[i:i + batch_size], s[i:i + batch_size]
            if a.shape[-1] > 256:
                a = F.interpolate(a, size=256, mode='area')
                b = F.interpolate(b, size=256, mode='area')
            dists.append(
                lpips_model(a.to(device), b.to(device)).flatten().cpu())
        lp = torch.cat(dists)
    return dict(l1=l1, psnr=psnr, lpips=lp)


def consistency_figures(teacher_imgs: torch.Tensor,
                        student_imgs: torch.Tensor,
                        lpips_model: Optional[nn.Module] = None,
                        batch_size: int = 16) -> Dict[str, Optional[float]]:
    """Means of :func:`per_image_figures` (``lpips`` None without model)."""
    figures = per_image_figures(teacher_imgs, student_imgs, lpips_model,
                                batch_size)
    return {
        k: None if v is None else v.mean().item()
        for k, v in figures.items()
    }
