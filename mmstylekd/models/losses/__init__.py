"""Distillation losses (all registered in MMagic's MODELS)."""
from .lpips_backbone import build_lpips, lpips_backbone_file

__all__ = ['build_lpips', 'lpips_backbone_file']
