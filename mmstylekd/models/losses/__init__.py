"""Distillation losses (all registered in MMagic's MODELS)."""
from .latent_direction_loss import LatentDirectionLoss, relation_matrix
from .lpips_backbone import build_lpips, lpips_backbone_file
from .lpips_loss import LPIPSLoss
from .multi_scale_rgb_l1_loss import MultiScaleRGBL1Loss

__all__ = [
    'LatentDirectionLoss', 'relation_matrix', 'build_lpips',
    'lpips_backbone_file', 'LPIPSLoss', 'MultiScaleRGBL1Loss'
]
