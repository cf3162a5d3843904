"""The random inputs of a distillation step, drawn once for both networks.

Teacher and student must see the same z, the same style mixing, the same
injected noise and the same latent offsets, or the distillation losses would
compare images of different inputs.
"""
import random
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch
import torch.nn as nn

from ..latent_inputs import injected_noise


@dataclass
class SharedDraws:
    """The random inputs of one distillation step, the same for both.

    Attributes:
        z: one (B, noise_size) tensor, or two when styles are mixed.
        inject_index: the style-mixing crossover layer, or None.
        noise: per-sample injected noise, one (B, 1, H_i, W_i) map per noise
            input (StyleGAN2), or None.
        offsets: the latent shifts d, (B, style_channels).
    """
    z: List[torch.Tensor]
    inject_index: Optional[int]
    noise: Optional[List[torch.Tensor]]
    offsets: torch.Tensor


class SharedDrawSampler(nn.Module):
    """Draw :class:`SharedDraws` the way the student trains.

    A module so that the teacher's directions follow the model's device; they
    are derived from the teacher and so not written into checkpoints.

    Args:
        latent_directions: (num_directions, style_channels), the teacher's
            (:func:`~..latent_directions.compute_latent_directions`).
        offset_weight: the scale of the latent offsets.
    """

    def __init__(self, latent_directions: torch.Tensor, offset_weight: float):
        super().__init__()
        self.register_buffer(
            'latent_directions', latent_directions, persistent=False)
        self.offset_weight = float(offset_weight)

    def sample_latent_offsets(self, num: int) -> torch.Tensor:
        """One teacher direction per sample, scaled by N(0, 1) * offset.

        Returns:
            Tensor: (num, style_channels), on the directions' device.
        """
        dirs = self.latent_directions
        idx = torch.randint(0, dirs.shape[0], (num, ), device=dirs.device)
        chosen = dirs[idx] / dirs[idx].norm(dim=1, keepdim=True)
        return chosen * torch.randn(num, 1, device=dirs.device) * \
            self.offset_weight

    def draw(self, student: nn.Module, noise_fn: Callable[..., torch.Tensor],
             num_batches: int) -> SharedDraws:
        """z, style mixing, injected noise and latent offsets for a step.

        Args:
            student: the (unwrapped) student generator, whose style mixing
                (``default_style_mode``, ``mix_prob``) is followed.
            noise_fn: MMagic's ``BaseGAN.noise_fn`` (draws z).
            num_batches: B.

        Returns:
            SharedDraws: B samples (the random generators are used in the
            same order on every rank).
        """
        mix = getattr(student, 'default_style_mode', None) == 'mix' and \
            random.random() < student.mix_prob
        return SharedDraws(
            z=[
                noise_fn(num_batches=num_batches)
                for _ in range(2 if mix else 1)
            ],
            inject_index=random.randint(1, student.num_latents -
                                        1) if mix else None,
            noise=injected_noise(student, num_batches),
            offsets=self.sample_latent_offsets(num_batches))
