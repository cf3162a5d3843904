"""rosinality/stylegan2-pytorch checkpoints -> MMagic modules.

rosinality's ``train.py`` saves ``{'g', 'd', 'g_ema', 'g_optim', 'd_optim',
'args', 'ada_aug_p'}``, its ``convert_weight.py`` ``{'g_ema', 'latent_avg'}``
(plus ``g``/``d``); CAGAN's ``prune.py`` and the official StyleKD code save
``{'g', 'd', 'g_ema'}`` where the generator's widths are read from its
weights (``Util/network_util.py: Get_Network_Shape``: one width per conv).
MMagic's StyleGAN2 mirrors rosinality's module tree (``model.py``):

  - ``style.{i}`` (EqualLinear: raw weight, scale lr / sqrt(in), bias * lr,
    lr = ``lr_mlp`` 0.01, not stored) -> ``style_mapping.{i}`` (EqualizedLR
    ``weight_orig`` with the same gain and ``lr_mul``);
  - ``input.input`` -> ``constant_input.input``;
  - ``conv1``, ``convs.{j}``: ``conv.weight`` (1, O, I, 3, 3) ->
    ``conv.weight_orig``, ``conv.modulation`` -> ``conv.style_modulation``,
    ``noise.weight`` -> ``noise_injector.weight``, ``activate.bias`` as is,
    ``conv.blur.kernel`` as is;
  - ``to_rgb1``, ``to_rgbs.{k}``: ``bias`` (1, 3, 1, 1) as is,
    ``upsample.kernel`` as is;
  - ``noises.noise_{i}`` -> ``injected_noise_{i}``; ``latent_avg`` ->
    ``w_avg``;
  - discriminator: ``EqualConv2d``/``EqualLinear`` ``weight`` ->
    ``conv.weight_orig``/``linear.weight_orig`` at the same positions.

The file is read with ``torch.load(weights_only=True)``; the only non-tensor
type allowed besides torch's own is ``argparse.Namespace`` (``args``), a
plain attribute holder.
"""
import argparse
import math
import pickle
import re
from typing import Any, Dict, List, Optional, Tuple

import torch

from .config_values import as_int, as_real
from .config_writer import (discriminator_config, stylegan2_generator_config,
                            stylegan2_notes)
from .layout import LayoutError, Rename, apply_layout, shape_of
from .mmagic_checkpoint import ConvertedTeacher, fit_to_mmagic

#: rosinality's Generator default (``model.py``); checkpoints do not store it
DEFAULT_LR_MLP = 0.01


def load_rosinality_checkpoint(path: str) -> dict:
    """``torch.load(path, weights_only=True)``, ``args`` allowed.

    Raises:
        pickle.UnpicklingError: the file holds other Python objects (torch's
            message names the global).
    """
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(
            f'{path}: refusing to load it: it holds objects other than '
            f'tensors, plain data and argparse.Namespace. {err}') from err
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path}: expected a dict, got '
                         f'{type(ckpt).__name__}.')
    if 'g_ema' not in ckpt and 'input.input' in ckpt:
        ckpt = {'g_ema': ckpt}  # a bare generator state dict
    if 'g_ema' not in ckpt:
        raise LayoutError(f'{path}: no g_ema in the checkpoint (keys '
                          f'{sorted(ckpt)[:8]}).')
    return ckpt


def _strip_module(state: dict) -> dict:
    if state and all(k.startswith('module.') for k in state):
        return {k[len('module.'):]: v for k, v in state.items()}
    return dict(state)


def _indices(state: dict, pattern: str) -> List[int]:
    found = {int(m.group(1)) for k in state for m in [re.match(pattern, k)]
             if m}
    return sorted(found)


# ---------------------------------------------------------------- generator
def generator_widths(state: dict, where: str) -> Dict[int, int]:
    """Width per resolution of a (possibly pruned) rosinality generator.

    CAGAN/StyleKD students have one width per conv layer
    (``generator_net_shape``); MMagic's StyleGAN2 has one per resolution, so
    both convs of a resolution (and the constant input with the 4 px conv)
    must agree.

    Raises:
        ValueError: naming the layers whose widths differ.
    """
    num_blocks = len(_indices(state, r'to_rgbs\.(\d+)\.conv\.weight$'))
    const = shape_of(state, 'input.input', where)[1]
    conv1 = shape_of(state, 'conv1.conv.weight', where)[1]
    if const != conv1:
        raise ValueError(f'{where}: input.input has {const} channels but '
                         f'conv1 outputs {conv1}; MMagic uses one width at '
                         '4 px.')
    widths = {4: conv1}
    for k in range(num_blocks):
        up = shape_of(state, f'convs.{2 * k}.conv.weight', where)
        conv = shape_of(state, f'convs.{2 * k + 1}.conv.weight', where)
        res = 2**(k + 3)
        if up[1] != conv[1]:
            raise ValueError(
                f'{where}: per-layer widths differ at {res} px: '
                f'convs.{2 * k} has {up[1]} output channels, convs.{2 * k + 1}'
                f' has {conv[1]}; StyleGAN2StudentGenerator needs one width '
                'per resolution.')
        for key, shape in ((f'convs.{2 * k}.conv.weight', up),
                           (f'convs.{2 * k + 1}.conv.weight', conv)):
            if shape[-2:] != [3, 3]:
                raise ValueError(f'{where}: {key} is a {shape[-2]}x'
                                 f'{shape[-1]} kernel; MMagic uses 3x3.')
        widths[res] = up[1]
    return widths


def _modulated_conv(name: str) -> List[Rename]:
    """The modulated convolution of a style conv or a to-RGB layer."""
    return [
        Rename(f'{name}.conv.weight', f'{name}.conv.weight_orig'),
        Rename(f'{name}.conv.modulation.weight',
               f'{name}.conv.style_modulation.linear.weight_orig'),
        Rename(f'{name}.conv.modulation.bias',
               f'{name}.conv.style_modulation.bias'),
    ]


def _generator_table(num_mlps: int, num_blocks: int) -> List[Rename]:
    table = []
    for i in range(1, num_mlps + 1):
        table += [
            Rename(f'style.{i}.weight',
                   f'style_mapping.{i}.linear.weight_orig'),
            Rename(f'style.{i}.bias', f'style_mapping.{i}.bias')
        ]
    table.append(Rename('input.input', 'constant_input.input'))
    convs = ['conv1'] + [f'convs.{j}' for j in range(2 * num_blocks)]
    for name in convs:
        table += _modulated_conv(name) + [
            Rename(f'{name}.noise.weight', f'{name}.noise_injector.weight'),
            Rename(f'{name}.activate.bias', f'{name}.activate.bias'),
        ]
    for j in range(0, 2 * num_blocks, 2):
        table.append(
            Rename(f'convs.{j}.conv.blur.kernel',
                   f'convs.{j}.conv.blur.kernel'))
    rgbs = ['to_rgb1'] + [f'to_rgbs.{k}' for k in range(num_blocks)]
    for name in rgbs:
        table += _modulated_conv(name) + [Rename(f'{name}.bias',
                                                 f'{name}.bias')]
    table += [
        Rename(f'to_rgbs.{k}.upsample.kernel', f'to_rgbs.{k}.upsample.kernel')
        for k in range(num_blocks)
    ]
    table += [
        Rename(f'noises.noise_{i}', f'injected_noise_{i}')
        for i in range(2 * num_blocks + 1)
    ]
    return table


def convert_generator(state: dict,
                      where: str,
                      lr_mlp: float = DEFAULT_LR_MLP,
                      latent_avg: Optional[torch.Tensor] = None):
    """(config, MMagic state dict) of a rosinality generator state dict."""
    state = _strip_module(state)
    if 'style.0.weight' in state:
        raise ValueError(
            f'{where}: style.0.weight: this mapping network has no PixelNorm '
            'in front (StyleKD\'s --mlp_cfg student); MMagic\'s StyleGAN2 '
            'mapping starts with PixelNorm.')
    mlps = _indices(state, r'style\.(\d+)\.weight$')
    if mlps != list(range(1, len(mlps) + 1)) or not mlps:
        raise LayoutError(f'{where}: mapping layers style.N.weight found for '
                          f'N in {mlps}; expected 1 .. n_mlp.')
    noise_size = shape_of(state, 'style.1.weight', where)[1]
    style_channels = shape_of(state, f'style.{mlps[-1]}.weight', where)[0]
    widths = generator_widths(state, where)
    out_size = max(widths)
    cfg = stylegan2_generator_config(
        out_size=out_size,
        style_channels=style_channels,
        noise_size=noise_size,
        num_mlps=len(mlps),
        lr_mlp=lr_mlp,
        channels=widths,
        img_channels=shape_of(state, 'to_rgb1.conv.weight', where)[1],
        w_avg_beta=0.998 if latent_avg is not None else None)
    table = _generator_table(len(mlps), int(math.log2(out_size)) - 2)
    tensors = dict(state)
    if latent_avg is not None:
        tensors['latent_avg'] = latent_avg
        table.append(Rename('latent_avg', 'w_avg', (style_channels, )))
    mapped = apply_layout(tensors, table, where)
    return cfg, fit_to_mmagic(cfg, mapped, where)


# ------------------------------------------------------------ discriminator
def convert_discriminator(state: dict, where: str):
    """(config, MMagic state dict) of a rosinality discriminator."""
    state = _strip_module(state)
    blocks = _indices(state, r'convs\.(\d+)\.conv1\.0\.weight$')
    if blocks != list(range(1, len(blocks) + 1)):
        raise LayoutError(f'{where}: residual blocks convs.N found for N in '
                          f'{blocks}; expected 1 .. number of blocks.')
    in_size = 2**(len(blocks) + 2)
    channels = {in_size: shape_of(state, 'convs.0.0.weight', where)[0]}
    table = [
        Rename('convs.0.0.weight', 'convs.0.0.conv.weight_orig'),
        Rename('convs.0.1.bias', 'convs.0.1.bias')
    ]
    for i in blocks:
        out = shape_of(state, f'convs.{i}.conv2.1.weight', where)[0]
        channels[in_size >> i] = out
        p = f'convs.{i}'
        table += [
            Rename(f'{p}.conv1.0.weight', f'{p}.conv1.0.conv.weight_orig'),
            Rename(f'{p}.conv1.1.bias', f'{p}.conv1.1.bias'),
            Rename(f'{p}.conv2.0.kernel', f'{p}.conv2.0.kernel'),
            Rename(f'{p}.conv2.1.weight', f'{p}.conv2.1.conv.weight_orig'),
            Rename(f'{p}.conv2.2.bias', f'{p}.conv2.2.bias'),
            Rename(f'{p}.skip.0.kernel', f'{p}.skip.0.kernel'),
            Rename(f'{p}.skip.1.weight', f'{p}.skip.1.conv.weight_orig'),
        ]
    table += [
        Rename('final_conv.0.weight', 'final_conv.0.conv.weight_orig'),
        Rename('final_conv.1.bias', 'final_conv.1.bias'),
        Rename('final_linear.0.weight', 'final_linear.0.linear.weight_orig'),
        Rename('final_linear.0.bias', 'final_linear.0.bias'),
        Rename('final_linear.1.weight', 'final_linear.1.linear.weight_orig'),
        Rename('final_linear.1.bias', 'final_linear.1.bias'),
    ]
    # rosinality's Discriminator: stddev_group = 4, stddev_feat = 1
    cfg = discriminator_config(in_size, channels,
                               shape_of(state, 'convs.0.0.weight', where)[1],
                               mbstd_group_size=4)
    mapped = apply_layout(state, table, where)
    return cfg, fit_to_mmagic(cfg, mapped, where)


# ------------------------------------------------------------------- entry
def _mapping_lr(lr_mlp: Optional[float], args: Any,
                path: str) -> Tuple[float, List[str]]:
    """The mapping learning-rate multiplier and the note it needs.

    Args:
        lr_mlp (float, optional): given by the caller (``--lr-mlp``).
        args: the checkpoint's ``args`` (may lack ``lr_mlp``, or be None).
        path (str): the checkpoint, for messages.

    Returns:
        tuple: (``lr_mlp``, else ``args.lr_mlp``, else rosinality's default;
        the notes: the default is noted).

    Raises:
        ValueError: the value is not a finite number (``'0.01'``, nan).
    """
    if lr_mlp is not None:
        return float(as_real(lr_mlp, 'lr_mlp')), []
    stored = getattr(args, 'lr_mlp', None)
    if stored is not None:
        return float(as_real(stored, f'{path}: args.lr_mlp')), []
    return DEFAULT_LR_MLP, [
        f'lr_mlp is not stored in the checkpoint; used rosinality\'s '
        f'default {DEFAULT_LR_MLP}.'
    ]


def convert_rosinality_checkpoint(path: str,
                                  lr_mlp: Optional[float] = None
                                  ) -> ConvertedTeacher:
    """Convert a rosinality-format ``.pt`` (also CAGAN / StyleKD students).

    Args:
        path (str): the checkpoint.
        lr_mlp (float, optional): the mapping network's learning-rate
            multiplier; default ``args.lr_mlp`` when the file has ``args``
            with it, else rosinality's 0.01.

    Returns:
        ConvertedTeacher: ``generator_ema`` from ``g_ema``, ``generator``
        from ``g``, ``discriminator`` from ``d`` when present.
    """
    ckpt = load_rosinality_checkpoint(path)
    args = ckpt.get('args')
    lr_mlp, notes = _mapping_lr(lr_mlp, args, path)
    carried = {}
    latent_avg = ckpt.get('latent_avg')
    cfg, state = convert_generator(ckpt['g_ema'], f'{path}: g_ema', lr_mlp,
                                   latent_avg)
    notes += stylegan2_notes(cfg)
    carried['noise'] = 'noises.noise_* -> injected_noise_*'
    if latent_avg is not None:
        carried['w_avg'] = 'latent_avg -> w_avg'
    size = getattr(args, 'size', None)
    if size is not None and as_int(size, f'{path}: args.size') != \
            cfg['out_size']:
        raise ValueError(f'{path}: args.size={size} but g_ema generates '
                         f'{cfg["out_size"]} px.')
    states = {'generator_ema': state}
    if ckpt.get('g') is not None:
        g_cfg, states['generator'] = convert_generator(
            ckpt['g'], f'{path}: g', lr_mlp, latent_avg)
        if g_cfg != cfg:
            raise ValueError(f'{path}: g and g_ema have different '
                             f'architectures ({g_cfg} vs {cfg}).')
        carried['generator'] = 'g -> generator'
    d_cfg = None
    if ckpt.get('d') is not None:
        d_cfg, states['discriminator'] = convert_discriminator(
            ckpt['d'], f'{path}: d')
        carried['discriminator'] = 'd -> discriminator'
    return ConvertedTeacher(
        source=str(path),
        source_format='rosinality-stylegan2',
        generator_cfg=cfg,
        discriminator_cfg=d_cfg,
        states=states,
        carried=carried,
        notes=notes)
