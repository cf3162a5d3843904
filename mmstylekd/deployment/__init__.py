"""Deployment: StyleGAN2 and StyleGAN3 generators in plain PyTorch, their
ONNX and TorchScript export, and fast inference backends."""
from .exporters import (estimate_mean_latent, export_generator, export_onnx,
                        export_torchscript, plain_generator_of)
from .fast_inference import BACKENDS, DTYPES, FastGenerator, fast_generator
from .half_precision import half_precision_errors
from .plain_generator import PlainGenerator
from .stylegan2_export_modules import PlainStyleGAN2Generator
from .stylegan3_export_modules import PlainStyleGAN3Generator

__all__ = [
    'PlainGenerator', 'PlainStyleGAN2Generator', 'PlainStyleGAN3Generator',
    'plain_generator_of', 'export_generator', 'export_onnx',
    'export_torchscript', 'estimate_mean_latent', 'fast_generator',
    'FastGenerator', 'BACKENDS', 'DTYPES', 'half_precision_errors'
]
