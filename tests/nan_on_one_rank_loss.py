"""Test-only loss: an L1 loss that turns NaN on one rank from one iteration.

Imported by ``tests/configs/stylekd_tiny_nan-16x16.py`` (``custom_imports``,
with ``tests/`` on PYTHONPATH) to show that every process stops together
when a single rank's loss diverges.
"""
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.dist import get_rank


@MODELS.register_module()
class NanOnOneRankLoss(nn.Module):
    """L1 loss; NaN on rank ``rank`` from iteration ``start_iter`` on."""

    def __init__(self, rank: int = 1, start_iter: int = 2,
                 loss_weight: float = 1.0):
        super().__init__()
        self.rank, self.start_iter = rank, start_iter
        self.loss_weight = loss_weight

    def forward(self, pred, target):
        loss = F.l1_loss(pred, target) * self.loss_weight
        iteration = MessageHub.get_current_instance().get_info('iter')
        if get_rank() == self.rank and iteration >= self.start_iter:
            loss = loss * float('nan')
        return loss
