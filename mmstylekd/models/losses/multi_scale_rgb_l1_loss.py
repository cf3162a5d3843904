"""L1 between the intermediate RGB outputs of student and teacher."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS


@MODELS.register_module()
class MultiScaleRGBL1Loss(nn.Module):
    """Mean L1 over StyleGAN2's to-RGB outputs (the skip images), summed.

    Args:
        loss_weight (float): weight.
        loss_name (str): logged name.
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_rgb_l1'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, student_rgbs: List[torch.Tensor],
                teacher_rgbs: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            student_rgbs, teacher_rgbs: one (N, 3, H_k, W_k) per scale.
        """
        total = sum(
            F.l1_loss(s, t.detach()) for s, t in zip(student_rgbs,
                                                     teacher_rgbs))
        return self.loss_weight * total
