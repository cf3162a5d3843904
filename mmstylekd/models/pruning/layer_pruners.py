"""torch-pruning pruners for MMagic's StyleGAN2 and StyleGAN3 layers.

torch-pruning only knows ``nn.Conv2d``/``nn.Linear``-like layers. MMagic's
modulated convolutions keep their weight as a 5-D ``weight_orig`` behind an
equalised-learning-rate hook, modulate input channels with rows of a style
affine layer, and fuse the bias into the activation. Each class below is a
:class:`torch_pruning.pruner.function.BasePruningFunc` that knows where every
tensor tied to a channel lives, so torch-pruning's dependency graph can decide
which channels move together (a conv's outputs, the next conv's inputs and its
style rows, the to-RGB inputs, the constant input).

Equalised learning rate: MMagic recomputes a layer's gain as
``gain * lr_mul / sqrt(fan_in)`` at every forward. Removing input channels
changes ``fan_in``; the stored weights are rescaled by
``sqrt(new_fan_in / old_fan_in)`` so that every kept weight is numerically the
weight it was in the teacher.
"""
import copy
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmagic.models.editors.pggan.pggan_modules import EqualizedLR
from mmagic.models.editors.stylegan1.stylegan1_modules import ConstantInput
from mmagic.models.editors.stylegan2.stylegan2_modules import (
    ModulatedConv2d, ModulatedStyleConv, ModulatedToRGB)
from mmagic.models.editors.stylegan3.stylegan3_modules import (
    FullyConnectedLayer, SynthesisInput, SynthesisLayer)
from torch_pruning.pruner.function import BasePruningFunc


def _kept(num_channels: int, removed: Sequence[int]) -> torch.Tensor:
    """Sorted indices that survive removing ``removed`` from ``num_channels``.

    Returns:
        Tensor: shape (num_channels - len(set(removed)),), int64.
    """
    removed = set(int(i) for i in removed)
    return torch.tensor([i for i in range(num_channels) if i not in removed],
                        dtype=torch.long)


def _select(param: nn.Parameter, keep: torch.Tensor, dim: int,
            scale: float = 1.0) -> nn.Parameter:
    """A new parameter with ``param`` indexed by ``keep`` along ``dim``."""
    data = torch.index_select(param.data, dim, keep.to(param.device)) * scale
    return nn.Parameter(data, requires_grad=param.requires_grad)


def refresh_equalized_lr(module: nn.Module) -> None:
    """Recompute the plain ``weight`` attribute of MMagic's EqualizedLR hook.

    The hook rewrites it at every forward; refreshing it right after pruning
    keeps ``module.weight`` consistent for code that reads it before that.
    Done without autograd so the attribute is a leaf tensor: after a forward
    with gradients it is a non-leaf, which ``copy.deepcopy`` refuses.
    """
    with torch.no_grad():
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, EqualizedLR):
                hook(module, None)


def copy_generator(generator: nn.Module) -> nn.Module:
    """``copy.deepcopy`` that works after MMagic generators ran a forward."""
    for module in generator.modules():
        refresh_equalized_lr(module)
    return copy.deepcopy(generator)


def _prune_modulated_conv_in(conv: ModulatedConv2d,
                             keep: torch.Tensor) -> None:
    """Remove input channels of a StyleGAN2 modulated conv.

    Touches: ``weight_orig`` (1, O, I, k, k) along I (rescaled so the
    equalised weight is unchanged), the style affine's rows
    (``style_modulation.linear.weight_orig`` (I, S)) and its bias (I,).
    """
    old_in = conv.in_channels
    conv.weight_orig = _select(
        conv.weight_orig, keep, 2, scale=math.sqrt(len(keep) / old_in))
    conv.in_channels = len(keep)
    refresh_equalized_lr(conv)

    affine = conv.style_modulation
    affine.linear.weight_orig = _select(affine.linear.weight_orig, keep, 0)
    affine.linear.out_features = len(keep)
    refresh_equalized_lr(affine.linear)
    if affine.bias is not None:
        affine.bias = _select(affine.bias, keep, 0)


class ModulatedStyleConvPruner(BasePruningFunc):
    """Pruner for MMagic's ``ModulatedStyleConv`` (conv + noise + act).

    Output channels: ``conv.weight_orig`` dim 1 and the fused activation bias.
    Input channels: see :func:`_prune_modulated_conv_in`.
    """
    TARGET_MODULES = ModulatedStyleConv

    def prune_out_channels(self, layer: ModulatedStyleConv,
                           idxs: Sequence[int]) -> ModulatedStyleConv:
        keep = _kept(layer.conv.out_channels, idxs)
        layer.conv.weight_orig = _select(layer.conv.weight_orig, keep, 1)
        layer.conv.out_channels = len(keep)
        refresh_equalized_lr(layer.conv)
        layer.activate.bias = _select(layer.activate.bias, keep, 0)
        return layer

    def prune_in_channels(self, layer: ModulatedStyleConv,
                          idxs: Sequence[int]) -> ModulatedStyleConv:
        _prune_modulated_conv_in(layer.conv,
                                 _kept(layer.conv.in_channels, idxs))
        return layer

    def get_out_channels(self, layer: ModulatedStyleConv) -> int:
        return layer.conv.out_channels

    def get_in_channels(self, layer: ModulatedStyleConv) -> int:
        return layer.conv.in_channels


class ModulatedToRGBPruner(BasePruningFunc):
    """Pruner for MMagic's ``ModulatedToRGB``: input channels only.

    Its outputs are image channels, which are never pruned.
    """
    TARGET_MODULES = ModulatedToRGB

    def prune_out_channels(self, layer: ModulatedToRGB, idxs: Sequence[int]):
        raise RuntimeError('The image channels of a to-RGB layer cannot be '
                           'pruned.')

    def prune_in_channels(self, layer: ModulatedToRGB,
                          idxs: Sequence[int]) -> ModulatedToRGB:
        _prune_modulated_conv_in(layer.conv,
                                 _kept(layer.conv.in_channels, idxs))
        return layer

    def get_out_channels(self, layer: ModulatedToRGB) -> int:
        return layer.conv.out_channels

    def get_in_channels(self, layer: ModulatedToRGB) -> int:
        return layer.conv.in_channels


class ConstantInputPruner(BasePruningFunc):
    """Pruner for StyleGAN2's learned constant input (1, C, 4, 4)."""
    TARGET_MODULES = ConstantInput

    def prune_out_channels(self, layer: ConstantInput,
                           idxs: Sequence[int]) -> ConstantInput:
        layer.input = _select(layer.input, _kept(layer.input.shape[1], idxs),
                              1)
        return layer

    def prune_in_channels(self, layer: ConstantInput, idxs: Sequence[int]):
        raise RuntimeError('A constant input has no input channels.')

    def get_out_channels(self, layer: ConstantInput) -> int:
        return layer.input.shape[1]

    def get_in_channels(self, layer: ConstantInput) -> Optional[int]:
        return None


def _prune_affine_rows(affine: FullyConnectedLayer, keep: torch.Tensor,
                       scale: float = 1.0) -> None:
    """Keep rows ``keep`` of a StyleGAN3 style affine layer (O, S)."""
    affine.weight = _select(affine.weight, keep, 0, scale=scale)
    if affine.bias is not None:
        affine.bias = _select(affine.bias, keep, 0, scale=scale)
    affine.out_features = len(keep)


class SynthesisLayerPruner(BasePruningFunc):
    """Pruner for StyleGAN3's ``SynthesisLayer``.

    Output channels: ``weight`` (O, I, k, k) dim 0 and ``bias`` (O,).
    Input channels: ``weight`` dim 1 and the style affine's rows. The to-RGB
    layer scales its styles by ``1 / sqrt(I * k * k)``; its affine rows are
    rescaled so that the kept channels' styles are unchanged.
    """
    TARGET_MODULES = SynthesisLayer

    def prune_out_channels(self, layer: SynthesisLayer,
                           idxs: Sequence[int]) -> SynthesisLayer:
        if layer.is_torgb:
            raise RuntimeError('The image channels of the to-RGB synthesis '
                               'layer cannot be pruned.')
        keep = _kept(layer.out_channels, idxs)
        layer.weight = _select(layer.weight, keep, 0)
        layer.bias = _select(layer.bias, keep, 0)
        layer.out_channels = len(keep)
        return layer

    def prune_in_channels(self, layer: SynthesisLayer,
                          idxs: Sequence[int]) -> SynthesisLayer:
        keep = _kept(layer.in_channels, idxs)
        scale = math.sqrt(len(keep) / layer.in_channels) \
            if layer.is_torgb else 1.0
        layer.weight = _select(layer.weight, keep, 1)
        _prune_affine_rows(layer.affine, keep, scale=scale)
        layer.in_channels = len(keep)
        return layer

    def get_out_channels(self, layer: SynthesisLayer) -> int:
        return layer.out_channels

    def get_in_channels(self, layer: SynthesisLayer) -> int:
        return layer.in_channels


class SynthesisInputPruner(BasePruningFunc):
    """Pruner for StyleGAN3's Fourier-feature ``SynthesisInput``.

    The module ties its Fourier features to its output channels (a square
    ``weight`` (C, C) applied as ``features @ (weight / sqrt(C)).T``), so a
    removed output channel also removes its Fourier feature (``freqs`` (C, 2),
    ``phases`` (C,), the column of ``weight``). ``weight`` is rescaled by
    ``sqrt(C' / C)`` to cancel the change of its ``1 / sqrt(C)`` gain.
    """
    TARGET_MODULES = SynthesisInput

    def prune_out_channels(self, layer: SynthesisInput,
                           idxs: Sequence[int]) -> SynthesisInput:
        keep = _kept(layer.channels, idxs)
        scale = math.sqrt(len(keep) / layer.channels)
        weight = _select(layer.weight, keep, 0)
        layer.weight = _select(weight, keep, 1, scale=scale)
        layer.freqs = layer.freqs[keep.to(layer.freqs.device)]
        layer.phases = layer.phases[keep.to(layer.phases.device)]
        layer.channels = len(keep)
        return layer

    def prune_in_channels(self, layer: SynthesisInput, idxs: Sequence[int]):
        raise RuntimeError('StyleGAN3 synthesis input has no input channels.')

    def get_out_channels(self, layer: SynthesisInput) -> int:
        return layer.channels

    def get_in_channels(self, layer: SynthesisInput) -> Optional[int]:
        return None


STYLEGAN2_PRUNERS = {
    ConstantInput: ConstantInputPruner(),
    ModulatedStyleConv: ModulatedStyleConvPruner(),
    ModulatedToRGB: ModulatedToRGBPruner(),
}

STYLEGAN3_PRUNERS = {
    SynthesisInput: SynthesisInputPruner(),
    SynthesisLayer: SynthesisLayerPruner(),
}
