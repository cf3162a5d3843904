"""A StyleGAN2 generator in plain PyTorch, converted from MMagic's.

MMagic's ``StyleGAN2Generator`` needs mmcv's compiled ops (``upfirdn2d``,
``fused_bias_leakyrelu``), recomputes its equalised-lr weights at every
forward (creating CPU scalar tensors, which breaks CUDA-graph capture) and
fuses the style into a per-sample grouped convolution weight. The modules
here compute the same function with ``torch.nn.functional`` only:

* equalised-lr scales are applied once, at conversion;
* the modulated convolution modulates its input and demodulates its output,
  so its weight is a constant (ONNX/TorchScript friendly, any batch size);
* ``upfirdn2d`` (blur, 2x upsampling of the RGB skip) is a depthwise
  ``conv2d`` / ``conv_transpose2d`` with the flipped filter;
* bias + leaky ReLU * sqrt(2) and noise injection are elementwise ops, the
  noise by default the generator's own ``injected_noise_{i}`` buffers
  (MMagic's ``randomize_noise=False``).

Nothing in a forward creates a tensor on another device than its input's,
and every op runs in fp16 / bf16 as well as fp32; in fp16 the modulated
convolutions pre-normalise weights and styles as NVlabs' StyleGAN2-ADA
does (:class:`PlainModulatedConv2d`), so that large trained styles cannot
overflow.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.models.editors.pggan.pggan_modules import EqualizedLR, PixelNorm
from mmagic.models.editors.stylegan2 import StyleGAN2Generator
from mmagic.models.editors.stylegan2.stylegan2_modules import (
    ModulatedConv2d, ModulatedStyleConv, ModulatedToRGB)

from .plain_generator import PlainGenerator

#: Modules whose forward uses their ``weight`` parameter as is when no
#: equalised-lr hook is on them (MMagic's layers built with
#: ``equalized_lr_cfg=None``).
PLAIN_WEIGHT_MODULES = (nn.Linear, nn.Conv2d, ModulatedConv2d)


def equalized_weight(module: nn.Module, name: str = 'weight') -> torch.Tensor:
    """The weight a module uses in its forward, equalised-lr scale applied.

    MMagic's ``EqualizedLR`` forward pre-hook recomputes ``weight`` from
    ``weight_orig`` at every call; its own ``compute_weight`` gives the same
    numbers once. Without that hook, the parameter itself, but only for the
    modules known to use it as is (:data:`PLAIN_WEIGHT_MODULES`, with no
    other forward pre-hook or parametrization that could rewrite it).

    Raises:
        TypeError: any other module (its forward may use another weight
            than the stored one); the message names its type.
    """
    hooks = list(module._forward_pre_hooks.values())
    for hook in hooks:
        if isinstance(hook, EqualizedLR) and hook.name == name:
            return hook.compute_weight(module).detach().clone()
    others = [getattr(h, '__qualname__', type(h).__name__) for h in hooks]
    parametrized = name in getattr(module, 'parametrizations', {})
    weight = getattr(module, name, None)
    if (isinstance(module, PLAIN_WEIGHT_MODULES) and not others
            and not parametrized and isinstance(weight, nn.Parameter)):
        return weight.detach().clone()
    if others:
        why = f'forward pre-hooks {others}'
    elif parametrized:
        why = f'a parametrization of {name!r}'
    elif not isinstance(weight, nn.Parameter):
        why = f'no {name!r} parameter'
    else:
        why = 'an unknown type'
    raise TypeError(
        f'cannot tell the {name!r} that a {type(module).__name__} uses in its '
        f'forward ({why}): the converter knows MMagic\'s EqualizedLR hook '
        f'and plain {", ".join(c.__name__ for c in PLAIN_WEIGHT_MODULES)} '
        'layers only')


class PlainUpFirDn2d(nn.Module):
    """mmcv's ``upfirdn2d`` (up 1 or 2, down 1) as a depthwise convolution.

    ``upfirdn2d`` zero-stuffs by ``up``, pads and convolves with the flipped
    filter. With ``up == 1`` that is a depthwise ``conv2d``; with
    ``up > 1`` a depthwise ``conv_transpose2d`` of stride ``up`` (no
    zero-stuffed tensor is built).

    Args:
        kernel (Tensor): 2-D filter (k, k), gain already applied.
        channels (int): channels of the input (the filter is repeated).
        up (int): upsampling factor.
        padding (int | tuple): mmcv's padding: ``p``, ``(px, py)`` (both
            sides of each axis) or ``(x0, x1, y0, y1)``.
    """

    def __init__(self, kernel: torch.Tensor, channels: int, up: int,
                 padding):
        super().__init__()
        k = kernel.shape[0]
        if tuple(kernel.shape) != (k, k):
            raise ValueError(f'square filters only, got {tuple(kernel.shape)}')
        if isinstance(padding, int):
            padding = (padding, padding)
        if len(padding) == 2:  # mmcv: (x, y), not (before, after)
            padding = (padding[0], padding[0], padding[1], padding[1])
        self.up = int(up)
        self.channels = int(channels)
        if self.up == 1:
            # conv2d is a correlation: flip to get upfirdn2d's convolution
            filt = torch.flip(kernel, [0, 1])
            pads = [int(p) for p in padding]
        else:
            # conv_transpose2d scatters the filter as is; its full output is
            # upfirdn2d's with padding (k - 1, k - up): shift it
            filt = kernel
            full = [k - 1, k - self.up] * 2
            pads = [int(p) - f for p, f in zip(padding, full)]
        self.register_buffer(
            'weight',
            filt[None, None].repeat(channels, 1, 1, 1).contiguous())
        # the conv's own padding where it can (a transposed conv's padding
        # crops), else an explicit F.pad (negative values crop)
        if len(set(pads)) == 1 and (pads[0] >= 0) == (self.up == 1):
            self.padding, self.pad = abs(pads[0]), [0, 0, 0, 0]
        else:
            self.padding, self.pad = 0, pads
        self.explicit_pad = any(p != 0 for p in self.pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H', W'), as mmcv's upfirdn2d."""
        if self.up == 1:
            if self.explicit_pad:
                x = F.pad(x, self.pad)
            return F.conv2d(x, self.weight, padding=self.padding,
                            groups=self.channels)
        x = F.conv_transpose2d(x, self.weight, stride=self.up,
                               padding=self.padding, groups=self.channels)
        if self.explicit_pad:
            x = F.pad(x, self.pad)
        return x


class PlainModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution with a constant weight.

    ``conv(x, W * s) * d == conv(x * s, W) * d`` with the style ``s``
    (per sample, per input channel) and the demodulation
    ``d = rsqrt(sum_{i,k} (W_oik s_i)^2 + eps) = rsqrt((s^2) @ sum_k W^2 +
    eps)`` (per sample, per output channel).

    fp16 pre-normalisation (NVlabs' ``modulated_conv2d``; the demodulation
    cancels both factors): with demodulation, each output channel's weight
    is stored scaled to ``max_{i,k} |W_oik| = 1 / sqrt(C_in k k)`` (``eps``
    scaled alike, so fp32 and bf16 compute the same function), and in fp16
    the styles are divided by their largest magnitude per sample. Whatever
    the trained weights, the modulated input then stays within the input's
    magnitude (times the activation gain), and the demodulation sum below
    1 instead of growing with the square of the styles (65504 is fp16's
    largest number).

    Args:
        conv (ModulatedConv2d): MMagic's layer (weights are copied).
        input_gain (float): factor the input misses (the producer left out
            its activation gain; applied to the per-channel style, free).
    """

    def __init__(self, conv: ModulatedConv2d, input_gain: float = 1.):
        super().__init__()
        if conv.downsample:
            raise NotImplementedError('downsampling modulated convs (used in '
                                      'discriminators) are not converted')
        mod = conv.style_modulation
        if mod.with_activation:
            raise NotImplementedError('a style modulation with activation is '
                                      'not converted')
        weight = equalized_weight(conv)[0]  # (out, in, k, k)
        eps = torch.full((weight.shape[0], ), float(conv.eps))
        if conv.demodulate:
            # rsqrt(c^2 S + c^2 eps) * (c x) == rsqrt(S + eps) * x
            peak = weight.abs().amax(dim=[1, 2, 3])
            scale = torch.where(
                peak > 0, 1 / (math.sqrt(weight[0].numel()) * peak),
                torch.ones_like(peak))
            weight = weight * scale[:, None, None, None]
            eps = eps * scale**2
        self.register_buffer('affine_weight', equalized_weight(mod.linear))
        bias = mod.bias.detach() * mod.lr_mul if mod.bias is not None else \
            torch.zeros(weight.shape[1])
        self.register_buffer('affine_bias', bias + conv.style_bias)
        self.input_gain = float(input_gain)
        self.demodulate = bool(conv.demodulate)
        self.register_buffer('demod_eps', eps)
        self.upsample = bool(conv.upsample)
        self.padding = int(conv.padding)
        if self.upsample:
            # conv_transpose2d wants (in, out, k, k)
            self.register_buffer('weight', weight.transpose(0, 1).contiguous())
            self.blur = PlainUpFirDn2d(conv.blur.kernel, weight.shape[0], 1,
                                       tuple(conv.blur.pad))
        else:
            self.register_buffer('weight', weight.contiguous())
            self.blur = nn.Identity()
        self.register_buffer('weight_sq', weight.pow(2).sum([2, 3]))

    def forward(self, x: torch.Tensor, w: torch.Tensor,
                bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x (N, C_in, H, W), w (N, style), bias (1, C_out, 1, 1) added
        after the demodulation -> (N, C_out, H', W')."""
        style = F.linear(w, self.affine_weight, self.affine_bias)  # (N, C)
        if self.demodulate and x.dtype == torch.float16:
            style = style / style.abs().amax(dim=1, keepdim=True)
        x = x * (style * self.input_gain)[:, :, None, None]
        if self.upsample:
            x = self.blur(F.conv_transpose2d(x, self.weight, stride=2))
        else:
            x = F.conv2d(x, self.weight, padding=self.padding)
        if self.demodulate:
            demod = torch.rsqrt(
                F.linear(style * style, self.weight_sq) + self.demod_eps)
            if bias is None:
                return x * demod[:, :, None, None]
            # one pass: bias + x * demod
            return torch.addcmul(bias, x, demod[:, :, None, None])
        return x if bias is None else x + bias


class PlainStyleConv(nn.Module):
    """Modulated conv + noise injection + bias + leaky ReLU.

    The output leaves out the activation gain (``scale``, sqrt(2)): its
    consumers apply it to their per-channel styles for free.

    Args:
        layer (ModulatedStyleConv): MMagic's layer.
        noise (Tensor): its fixed noise buffer (1, 1, H, W).
        input_gain (float): the gain its input misses.
    """

    def __init__(self, layer: ModulatedStyleConv, noise: torch.Tensor,
                 input_gain: float = 1.):
        super().__init__()
        self.conv = PlainModulatedConv2d(layer.conv, input_gain)
        self.register_buffer('noise_weight',
                             layer.noise_injector.weight.detach().clone())
        self.register_buffer('noise', noise.detach().clone())
        self.register_buffer('bias',
                             layer.activate.bias.detach().view(1, -1, 1, 1))
        self.negative_slope = float(layer.activate.negative_slope)
        self.scale = float(layer.activate.scale)
        # MMagic clamps the (scaled) activations of its fp16 layers
        self.clamp = float(layer.conv_clamp) / self.scale \
            if layer.fp16_enabled else 0.

    def forward(self, x: torch.Tensor, w: torch.Tensor,
                noise: Optional[torch.Tensor]) -> torch.Tensor:
        """x (N, C_in, H, W), w (N, style), noise (N or 1, 1, H', W') or
        None for the fixed buffer -> activations / scale
        (N, C_out, H', W')."""
        x = self.conv(x, w, self.bias)
        if noise is None:
            noise = self.noise
        # in place: x is this layer's own fresh tensor (inference only)
        x = F.leaky_relu(x.add_(self.noise_weight * noise),
                         self.negative_slope, inplace=True)
        if self.clamp > 0:
            x = x.clamp(-self.clamp, self.clamp)
        return x


class PlainToRGB(nn.Module):
    """1x1 modulated conv (no demodulation) + bias + upsampled skip.

    A 1x1 convolution of a modulated input is a batched matrix product with
    a modulated (3, C) weight: the input is read once, never rescaled.

    Args:
        layer (ModulatedToRGB): MMagic's layer.
        input_gain (float): the gain its input misses.
    """

    def __init__(self, layer: ModulatedToRGB, input_gain: float = 1.):
        super().__init__()
        conv = layer.conv
        if conv.kernel_size != 1 or conv.demodulate:
            raise NotImplementedError('to-RGB layers are 1x1, without '
                                      'demodulation')
        mod = conv.style_modulation
        self.register_buffer('affine_weight', equalized_weight(mod.linear))
        self.register_buffer(
            'affine_bias', mod.bias.detach() * mod.lr_mul + conv.style_bias)
        self.register_buffer('weight', equalized_weight(conv)[0, :, :, 0, 0])
        self.register_buffer('bias', layer.bias.detach().clone())
        self.input_gain = float(input_gain)
        self.clamp = float(layer.conv_clamp) if layer.fp16_enabled else 0.
        if hasattr(layer, 'upsample'):
            up = layer.upsample
            channels = self.bias.shape[1]
            self.upsample = PlainUpFirDn2d(up.kernel, channels, up.factor,
                                           tuple(up.pad))
        else:
            self.upsample = nn.Identity()

    def forward(self, x: torch.Tensor, w: torch.Tensor,
                skip: Optional[torch.Tensor]) -> torch.Tensor:
        """x (N, C, H, W), w (N, style), skip (N, 3, H/2, W/2) or None ->
        (N, 3, H, W)."""
        n, c, h, wd = x.shape
        style = F.linear(w, self.affine_weight, self.affine_bias)  # (N, C)
        weight = self.weight[None] * (style * self.input_gain)[:, None]
        out = torch.bmm(weight, x.reshape(n, c, h * wd))
        out = out.view(n, -1, h, wd) + self.bias
        if self.clamp > 0:
            out = out.clamp(-self.clamp, self.clamp)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class PlainSynthesisBlock(nn.Module):
    """One resolution: upsampling style conv, style conv, to-RGB.

    Args:
        up_conv, conv (ModulatedStyleConv): MMagic's two convs.
        to_rgb (ModulatedToRGB): MMagic's to-RGB layer.
        noises (tuple[Tensor, Tensor]): their fixed noise buffers.
    """

    def __init__(self, up_conv: ModulatedStyleConv, conv: ModulatedStyleConv,
                 to_rgb: ModulatedToRGB, noises: Sequence[torch.Tensor],
                 input_gain: float):
        super().__init__()
        self.up_conv = PlainStyleConv(up_conv, noises[0], input_gain)
        self.conv = PlainStyleConv(conv, noises[1], self.up_conv.scale)
        self.to_rgb = PlainToRGB(to_rgb, self.conv.scale)

    def forward(self, x: torch.Tensor, skip: torch.Tensor,
                latent: torch.Tensor, noise1: Optional[torch.Tensor],
                noise2: Optional[torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W), skip (N, 3, H, W), latent (N, 3, style): the
        w of the three layers -> features and RGB at 2H x 2W."""
        x = self.up_conv(x, latent[:, 0], noise1)
        x = self.conv(x, latent[:, 1], noise2)
        return x, self.to_rgb(x, latent[:, 2], skip)


class PlainMapping(nn.Module):
    """PixelNorm + equalised-lr linear layers with bias-leaky-ReLU * sqrt(2).

    Args:
        style_mapping (nn.Sequential): MMagic's mapping network.
    """

    def __init__(self, style_mapping: nn.Sequential):
        super().__init__()
        layers = list(style_mapping)
        if not isinstance(layers[0], PixelNorm):
            raise NotImplementedError(
                'conditional StyleGAN2 generators (cond_size) are not '
                'converted')
        self.eps = float(layers[0].eps)
        weights, biases = [], []
        for layer in layers[1:]:
            if layer.act_type != 'fused_bias':
                raise NotImplementedError(
                    f'mapping layers with activation {layer.act_type!r}')
            weights.append(equalized_weight(layer.linear))
            biases.append(layer.bias.detach() * layer.lr_mul)
        self.register_buffer('weight', torch.stack(weights))
        self.register_buffer('bias', torch.stack(biases))
        self.num_layers = len(weights)
        self.scale = math.sqrt(2.)
        self.inv_sqrt_dim = 1. / math.sqrt(weights[0].shape[1])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, noise_size) -> w (N, style_channels)."""
        # MMagic's pixel_norm: x / (||x|| / sqrt(C) + eps)
        norm = torch.linalg.vector_norm(z, dim=1, keepdim=True)
        x = z / (norm * self.inv_sqrt_dim + self.eps)
        for i in range(self.num_layers):
            x = F.linear(x, self.weight[i], self.bias[i])
            x = F.leaky_relu(x, 0.2) * self.scale
        return x


class PlainStyleGAN2Generator(PlainGenerator):
    """z or w -> image, computing what MMagic's ``StyleGAN2Generator`` does.

    Build it with :meth:`~PlainGenerator.from_mmagic`. ``forward(z)``
    equals MMagic's
    ``generator(z, randomize_noise=False, truncation=truncation,
    truncation_latent=mean_latent)`` in eval mode (one style per sample).

    Args:
        generator (StyleGAN2Generator): MMagic's generator (or a subclass,
            e.g. ``StyleGAN2StudentGenerator``); weights are copied.
        truncation (float): truncation factor (1: none).
        mean_latent (Tensor, optional): (style_channels,) mean w for the
            truncation; required when ``truncation < 1``.
    """

    __jit_unused_properties__ = ['noise_shapes']

    def __init__(self,
                 generator: StyleGAN2Generator,
                 truncation: float = 1.,
                 mean_latent: Optional[torch.Tensor] = None):
        super().__init__()
        if not isinstance(generator, StyleGAN2Generator):
            raise TypeError(f'expected an MMagic StyleGAN2Generator, got '
                            f'{type(generator).__name__}')
        self.mapping = PlainMapping(generator.style_mapping)
        self.noise_size = int(generator.noise_size)
        self.style_channels = int(generator.style_channels)
        self.out_size = int(generator.out_size)
        self.num_latents = int(generator.num_latents)
        self.bgr2rgb = bool(generator.bgr2rgb)
        self.register_buffer(
            'constant_input',
            generator.constant_input.input.detach().clone())
        noises = [
            getattr(generator, f'injected_noise_{i}')
            for i in range(generator.num_injected_noises)
        ]
        self.conv1 = PlainStyleConv(generator.conv1, noises[0])
        self.to_rgb1 = PlainToRGB(generator.to_rgb1, self.conv1.scale)
        blocks = []
        gain = self.conv1.scale  # what the previous output leaves out
        for i, to_rgb in enumerate(generator.to_rgbs):
            blocks.append(
                PlainSynthesisBlock(generator.convs[2 * i],
                                    generator.convs[2 * i + 1], to_rgb,
                                    noises[2 * i + 1:2 * i + 3], gain))
            gain = blocks[-1].conv.scale
        self.blocks = nn.ModuleList(blocks)
        self.truncation = float(truncation)
        if self.truncation < 1 and mean_latent is None:
            raise ValueError('truncation < 1 needs the mean latent')
        if mean_latent is None:
            mean_latent = torch.zeros(self.style_channels)
        self.register_mean_latent(mean_latent)

    @property
    def noise_shapes(self) -> List[Tuple[int, int, int, int]]:
        """Shapes (1, 1, H, W) of the injected noises, in layer order."""
        shapes = [tuple(self.conv1.noise.shape)]
        for block in self.blocks:
            shapes += [tuple(block.up_conv.noise.shape),
                       tuple(block.conv.noise.shape)]
        return shapes

    def truncate(self, w: torch.Tensor) -> torch.Tensor:
        """MMagic's truncation ``mean + t * (w - mean)`` (any shape
        (..., style_channels)); as MMagic's StyleGAN2, only for t < 1."""
        if self.truncation < 1:
            w = self.mean_latent + self.truncation * (w - self.mean_latent)
        return w

    def synthesis(self,
                  latent: torch.Tensor,
                  noises: Optional[List[torch.Tensor]] = None
                  ) -> torch.Tensor:
        """Synthesis network: latent (N, num_latents, style) -> image.

        Args:
            latent (Tensor): one w per layer (truncation not applied here).
            noises (list[Tensor], optional): ``len(noise_shapes)`` noises
                (N or 1, 1, H, W); None: the fixed buffers.

        Returns:
            Tensor: (N, 3, out_size, out_size), MMagic's output range
            (about [-1, 1], not clamped).
        """
        n = latent.shape[0]
        out = self.constant_input.expand(n, -1, -1, -1)
        out = self.conv1(out, latent[:, 0],
                         None if noises is None else noises[0])
        skip = self.to_rgb1(out, latent[:, 1], None)
        index = 1
        for block in self.blocks:
            # MMagic: the first up-conv shares w index 1 with to_rgb1
            noise1: Optional[torch.Tensor] = None
            noise2: Optional[torch.Tensor] = None
            if noises is not None:
                noise1, noise2 = noises[index], noises[index + 1]
            out, skip = block(out, skip, latent[:, index:index + 3], noise1,
                              noise2)
            index += 2
        if self.bgr2rgb:
            skip = torch.flip(skip, [1])
        return skip
