"""What the plain StyleGAN2 and StyleGAN3 generators share.

Both map z through their mapping network, truncate w towards a mean latent
and feed one w per layer to their synthesis network; they differ in the
synthesis network alone (:class:`PlainStyleGAN2Generator`,
:class:`PlainStyleGAN3Generator`).
"""
from typing import List, Optional

import torch
import torch.nn as nn


class PlainGenerator(nn.Module):
    """z -> w -> truncated w -> synthesis; subclasses define ``mapping``,
    ``num_latents``, ``truncate(w)`` (MMagic's StyleGAN2 and StyleGAN3
    truncate differently) and ``synthesis(latent, noises)``."""

    @classmethod
    def from_mmagic(cls, generator: nn.Module, *args, **kwargs):
        """Convert an MMagic generator (eval mode, weights frozen); the
        arguments are the subclass's."""
        with torch.no_grad():
            return cls(generator, *args, **kwargs).eval()

    def register_mean_latent(self, mean_latent: torch.Tensor) -> None:
        """Keep the (style_channels,) w that truncation pulls towards."""
        self.register_buffer(
            'mean_latent', mean_latent.detach().float().reshape(-1).clone())

    def forward(self,
                z: torch.Tensor,
                noises: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        """z (N, noise_size) -> image (N, 3, out_size, out_size); one
        truncated w for every layer."""
        w = self.truncate(self.mapping(z))
        latent = w[:, None].expand(-1, self.num_latents, -1)
        return self.synthesis(latent, noises)
