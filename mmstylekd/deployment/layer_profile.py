"""Where a plain generator spends its time, layer by layer.

Times every layer of a :class:`PlainStyleGAN2Generator` (mapping network,
each style conv, each to-RGB) or :class:`PlainStyleGAN3Generator` (mapping,
Fourier input, each synthesis layer, and inside it the up/down filters of
its filtered leaky ReLU) with forward hooks in eager mode, and counts its
MACs with ``torch.utils.flop_counter``: the figures that show why a student
with ``k`` times fewer MACs is not ``k`` times faster (narrow layers run at a
lower arithmetic efficiency; filtering and elementwise work shrink with the
width, not its square).
"""
import statistics
import time
from typing import Dict, List

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from .stylegan2_export_modules import PlainStyleGAN2Generator


def profiled_layers(plain: nn.Module) -> Dict[str, tuple]:
    """name -> (module, kind) of the layers that are timed, in forward
    order."""
    if isinstance(plain, PlainStyleGAN2Generator):
        layers = {'mapping': (plain.mapping, 'mapping'),
                  'conv1': (plain.conv1, 'conv'),
                  'to_rgb1': (plain.to_rgb1, 'to_rgb')}
        for i, block in enumerate(plain.blocks):
            layers[f'blocks.{i}.up_conv'] = (block.up_conv, 'up_conv')
            layers[f'blocks.{i}.conv'] = (block.conv, 'conv')
            layers[f'blocks.{i}.to_rgb'] = (block.to_rgb, 'to_rgb')
        return layers
    layers = {'mapping': (plain.mapping, 'mapping'),
              'input': (plain.input, 'input')}
    for i, layer in enumerate(plain.layers):
        layers[f'layers.{i}'] = (layer,
                                 'to_rgb' if layer.is_torgb else 'layer')
    return layers


def _filters(module: nn.Module) -> List[nn.Module]:
    """A StyleGAN3 layer's up/down filters (none in StyleGAN2)."""
    return [m for name, m in module.named_children()
            if name in ('up', 'down')]


@torch.inference_mode()
def layer_profile(plain: nn.Module,
                  batch: int = 1,
                  repeats: int = 5) -> List[dict]:
    """Median milliseconds and MACs of every layer (CPU, eager).

    Args:
        plain: a plain StyleGAN2 or StyleGAN3 generator (on CPU).
        batch: images per forward.
        repeats: timed forwards (after one warm-up).

    Returns:
        list[dict]: ``name``, ``resolution`` (output side, 0 for the
        mapping), ``channels`` (output channels, 0 for the mapping),
        ``kind``, ``ms`` (median), ``filter_ms`` (median time of its
        StyleGAN3 up/down filtering, part of ``ms``; 0 in StyleGAN2),
        ``macs`` (for the whole batch), in forward order.
    """
    layers = profiled_layers(plain)
    timed = dict(layers)
    parent = {}
    for name, (module, _) in layers.items():
        for j, filt in enumerate(_filters(module)):
            timed[f'{name}.filter{j}'] = (filt, 'filter')
            parent[f'{name}.filter{j}'] = name
    times = {name: [] for name in timed}
    shapes = {}
    starts = {}
    handles = []

    def stop(name, output):
        times[name].append((time.perf_counter() - starts[name]) * 1e3)
        shapes[name] = tuple(output.shape)

    for name, (module, _) in timed.items():
        handles.append(module.register_forward_pre_hook(
            lambda m, a, name=name: starts.__setitem__(
                name, time.perf_counter())))
        handles.append(module.register_forward_hook(
            lambda m, a, o, name=name: stop(name, o)))
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
    # per forward, the sum of a layer's filters; then the median
    filter_ms = {name: [0.] * repeats for name in layers}
    for name, owner in parent.items():
        filter_ms[owner] = [
            a + b for a, b in zip(filter_ms[owner], times[name])]
    rows = []
    for name, (module, kind) in layers.items():
        fqn = f'{type(plain).__name__}.{name}'
        shape = shapes[name]
        rows.append(dict(
            name=name,
            resolution=int(shape[-1]) if len(shape) == 4 else 0,
            channels=int(shape[1]) if len(shape) == 4 else 0,
            kind=kind,
            ms=statistics.median(times[name]),
            filter_ms=statistics.median(filter_ms[name]),
            macs=int(sum(flops.get(fqn, {}).values()) // 2)))
    return rows
