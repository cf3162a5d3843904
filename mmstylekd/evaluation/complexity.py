"""Parameters and multiply-accumulates of a generator for one image."""
from typing import Dict

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


def generator_complexity(generator: nn.Module) -> Dict[str, int]:
    """Count a generator's parameters and MACs for one image.

    Parameters: the whole generator, mapping network included. MACs: every
    matrix multiply and convolution that torch dispatches for one z -> image
    forward (mapping, style affines, modulated and transposed convolutions),
    counted by ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2).
    Filtering (upfirdn2d blur, StyleGAN3's filtered activations) runs in
    mmcv's C++ ops and is not counted, as in the paper's figures.

    Returns:
        dict: ``params`` and ``macs`` (ints).
    """
    params = sum(p.numel() for p in generator.parameters())
    was_training = generator.training
    generator.eval()
    device = next(generator.parameters()).device
    z = torch.randn(1, generator.noise_size, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        generator(z)
    generator.train(was_training)
    return dict(params=int(params), macs=int(counter.get_total_flops() // 2))
