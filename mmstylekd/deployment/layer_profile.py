"""Where a plain StyleGAN2 generator spends its time, layer by layer.

Times every layer of a :class:`PlainStyleGAN2Generator` (mapping network,
each style conv, each to-RGB) with forward hooks in eager mode and counts its
MACs with ``torch.utils.flop_counter``: the figures that show why a student
with ``k`` times fewer MACs is not ``k`` times faster (narrow layers run at a
lower arithmetic efficiency; elementwise work shrinks with the width, not
its square).
"""
import statistics
import time
from typing import Dict, List

import torch
from torch.utils.flop_counter import FlopCounterMode

from .stylegan2_export_modules import PlainStyleGAN2Generator


def profiled_layers(plain: PlainStyleGAN2Generator) -> Dict[str, tuple]:
    """name -> (module, resolution, kind) of the layers that are timed."""
    layers = {'mapping': (plain.mapping, 0, 'mapping'),
              'conv1': (plain.conv1, 4, 'conv'),
              'to_rgb1': (plain.to_rgb1, 4, 'to_rgb')}
    res = 4
    for i, block in enumerate(plain.blocks):
        res *= 2
        layers[f'blocks.{i}.up_conv'] = (block.up_conv, res, 'up_conv')
        layers[f'blocks.{i}.conv'] = (block.conv, res, 'conv')
        layers[f'blocks.{i}.to_rgb'] = (block.to_rgb, res, 'to_rgb')
    return layers


@torch.inference_mode()
def layer_profile(plain: PlainStyleGAN2Generator,
                  batch: int = 1,
                  repeats: int = 5) -> List[dict]:
    """Median milliseconds and MACs of every layer (CPU, eager).

    Args:
        plain: the generator (on CPU).
        batch: images per forward.
        repeats: timed forwards (after one warm-up).

    Returns:
        list[dict]: ``name``, ``resolution``, ``kind``, ``ms`` (median),
        ``macs`` (for the whole batch), in forward order.
    """
    layers = profiled_layers(plain)
    times = {name: [] for name in layers}
    starts = {}
    handles = []
    for name, (module, _, _) in layers.items():
        handles.append(module.register_forward_pre_hook(
            lambda m, a, name=name: starts.__setitem__(
                name, time.perf_counter())))
        handles.append(module.register_forward_hook(
            lambda m, a, o, name=name: times[name].append(
                (time.perf_counter() - starts[name]) * 1e3)))
    z = torch.randn(batch, plain.noise_size)
    try:
        plain(z)  # warm-up
        for values in times.values():
            values.clear()
        for _ in range(repeats):
            plain(z)
    finally:
        for handle in handles:
            handle.remove()
    counter = FlopCounterMode(display=False)
    with counter:
        plain(z)
    flops = counter.get_flop_counts()
    rows = []
    for name, (module, res, kind) in layers.items():
        fqn = f'PlainStyleGAN2Generator.{name}'
        rows.append(dict(
            name=name,
            resolution=res,
            kind=kind,
            ms=statistics.median(times[name]),
            macs=int(sum(flops.get(fqn, {}).values()) // 2)))
    return rows
