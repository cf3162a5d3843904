"""Deployment: StyleGAN2 generators in plain PyTorch, their ONNX and
TorchScript export, and fast inference backends."""
from .exporters import (estimate_mean_latent, export_generator, export_onnx,
                        export_torchscript)
from .fast_inference import BACKENDS, DTYPES, FastGenerator, fast_generator
from .half_precision import half_precision_errors
from .stylegan2_export_modules import PlainStyleGAN2Generator

__all__ = [
    'PlainStyleGAN2Generator', 'export_generator', 'export_onnx',
    'export_torchscript', 'estimate_mean_latent', 'fast_generator',
    'FastGenerator', 'BACKENDS', 'DTYPES', 'half_precision_errors'
]
