"""LPIPS between student and teacher images, through the lpips package."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from .lpips_backbone import build_lpips


@MODELS.register_module()
class LPIPSLoss(nn.Module):
    """Learned perceptual distance (Zhang et al., CVPR 2018), frozen.

    Images larger than ``max_size`` are area-resized to it first, as the
    StyleKD paper does (256 px). The VGG backbone loads from torchvision's
    cache; when it is missing the error names the file and where to put it.

    Args:
        loss_weight (float): weight (the paper: 3).
        net (str): ``'vgg'`` (default), ``'alex'`` or ``'squeeze'``.
        max_size (int): resize larger images to this size.
        loss_name (str): logged name.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 net: str = 'vgg',
                 max_size: int = 256,
                 loss_name: str = 'loss_lpips'):
        super().__init__()
        self.loss_weight = loss_weight
        self.max_size = max_size
        self._loss_name = loss_name
        self.lpips = build_lpips(net)

    def loss_name(self) -> str:
        return self._loss_name

    def train(self, mode: bool = True):
        super().train(mode)
        self.lpips.eval()  # the perceptual network is never trained
        return self

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Args:
            pred, target: (N, 3, H, W) images in [-1, 1].
        """
        if pred.shape[-1] > self.max_size:
            pred = F.interpolate(pred, size=self.max_size, mode='area')
            target = F.interpolate(target, size=self.max_size, mode='area')
        return self.loss_weight * self.lpips(pred, target.detach()).mean()
