"""What a StyleGAN generator takes besides its weights: w and injected noise.

One place for the two inputs that pruning criteria, mapping fitting, the
teacher-student metrics and the distillation step all draw, so that teacher
and student always see them the same way.
"""
from typing import List, Optional

import torch
import torch.nn as nn


def w_from_z(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """w of a StyleGAN2/StyleGAN3 generator (no truncation, no mixing).

    Args:
        generator: an MMagic ``StyleGAN2Generator``/``StyleGAN3Generator``
            (not a DDP wrapper).
        z: (N, noise_size) latent codes.

    Returns:
        Tensor: (N, style_channels).
    """
    w = generator.style_mapping(z)
    return w[:, 0] if w.dim() == 3 else w  # StyleGAN3 broadcasts to (N, L, S)


def injected_noise(generator: nn.Module,
                   batch_size: int,
                   rng: Optional[torch.Generator] = None,
                   device: Optional[torch.device] = None
                   ) -> Optional[List[torch.Tensor]]:
    """Per-sample noise maps for every noise input of a StyleGAN2 generator.

    MMagic's training forward (``randomize_noise=True``) draws a new map per
    sample; passing these maps to teacher and student makes them add the
    same noise. StyleGAN3 has no injected noise.

    Args:
        generator: an MMagic StyleGAN2/StyleGAN3 generator.
        batch_size: B, the number of samples.
        rng: optional CPU generator for reproducible draws; None draws from
            the global generator of ``device``.
        device: where the maps live (default: the generator's).

    Returns:
        list[Tensor] | None: one (B, 1, H_i, W_i) map per noise input
        (``generator.num_injected_noises`` of them), or None for generators
        without injected noise.
    """
    if not hasattr(generator, 'num_injected_noises'):
        return None
    if device is None:
        device = next(generator.parameters()).device
    shapes = [
        getattr(generator, f'injected_noise_{i}').shape[-2:]
        for i in range(generator.num_injected_noises)
    ]
    if rng is not None:
        return [
            torch.randn(batch_size, 1, *s, generator=rng).to(device)
            for s in shapes
        ]
    return [torch.randn(batch_size, 1, *s, device=device) for s in shapes]
