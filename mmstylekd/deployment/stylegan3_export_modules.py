"""A StyleGAN3 generator in plain PyTorch, converted from MMagic's.

MMagic's ``StyleGAN3Generator`` runs its layers through mmcv's
``filtered_lrelu`` (on a CPU, the slow reference path: a zero-stuffed
tensor, a 2-D convolution of it, bias-act, another 2-D convolution of the
full-resolution result), modulates a per-sample weight for a grouped
convolution, and builds its Fourier-feature transforms and sampling grid with
in-place writes into fresh ``torch.eye`` tensors at every forward. The modules
here compute the same function with ``torch.nn.functional`` only:

* the mapping's and affines' equalised-lr gains, the layers' weight
  pre-normalisation and the magnitude-EMA input gain (``magnitude_ema``,
  a constant once trained) are applied once, at conversion;
* the modulated convolution modulates its input and demodulates its output
  (``conv(x * s, W) * d``), so its weight is a constant (ONNX/TorchScript
  friendly, any batch size);
* the filtered leaky ReLU is mmcv's ``_filtered_lrelu_ref`` in plain ops:
  bias (added with the demodulation), upsampling as a depthwise transposed
  convolution of stride ``up`` with the ``up_filter`` (gain ``up**2`` and
  the activation gain sqrt(2) folded into it; no zero-stuffed tensor), the
  layer's own padding as a crop/pad of its output, leaky ReLU, clamp at
  ``conv_clamp``, then downsampling as a depthwise strided convolution with
  the flipped ``down_filter``; separable (1-D) filters either as two 1-D
  passes or as one 2-D pass of their outer product, whichever
  :data:`SEPARABLE_DEFAULT` says is faster (the radial filters of -R
  configs are 2-D);
* the Fourier input's sampling grid is a buffer; its per-sample rotation and
  translation are built with ``torch.stack`` on the input's device.

Nothing in a forward creates a tensor on another device than its input's
(``zeros_like``/``ones_like`` only), and every op runs in fp16 / bf16 (in
the module's dtype: filters and weights are buffers) as well as fp32.

The one intended difference from MMagic: MMagic pre-normalises the styles
of a batch by their mean square over the whole batch (NVlabs' code does
the same), so its images depend on the rest of the batch through the
demodulation's ``1e-8``; here each sample is normalised by its own
(identical at batch 1, and 1e-9-close otherwise).
"""
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.models.editors.stylegan3 import StyleGAN3Generator
from mmagic.models.editors.stylegan3.stylegan3_modules import (
    FullyConnectedLayer, MappingNetwork, SynthesisInput, SynthesisLayer,
    SynthesisNetwork)

from .plain_generator import PlainGenerator

#: Default for separable (1-D) up/down filters: two 1-D depthwise passes
#: (True) or one 2-D depthwise pass of the filters' outer product (False).
#: Measured on a 2-core CPU (oneDNN's depthwise kernels), the 2-D pass is
#: the faster one for both the upsampling (transposed) and downsampling
#: convolutions of SG3-T/R 256; both give the same images to float32
#: rounding.
SEPARABLE_DEFAULT = {'up': False, 'down': False}

#: MMagic's demodulation epsilon (``modulated_conv2d``).
DEMOD_EPS = 1e-8


def fc_weights(
        layer: FullyConnectedLayer) -> Tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias a ``FullyConnectedLayer`` uses in its forward
    (equalised-lr gains applied; a zero bias where it has none)."""
    if not isinstance(layer, FullyConnectedLayer):
        raise TypeError(f'expected MMagic\'s StyleGAN3 FullyConnectedLayer, '
                        f'got {type(layer).__name__}')
    weight = layer.weight.detach().float() * float(layer.weight_gain)
    if layer.bias is None:
        bias = torch.zeros(weight.shape[0])
    else:
        bias = layer.bias.detach().float() * float(layer.bias_gain)
    return weight.clone(), bias.clone()


def _padding4(padding) -> List[int]:
    """mmcv's padding (``p``, ``[x, y]``, ``[x0, x1, y0, y1]``) as
    ``[x0, x1, y0, y1]``."""
    if isinstance(padding, int):
        padding = [padding, padding]
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        padding = [padding[0], padding[0], padding[1], padding[1]]
    if len(padding) != 4:
        raise ValueError(f'bad padding {padding}')
    return padding


class PlainUpFirDn(nn.Module):
    """mmcv's ``upfirdn2d`` (reference path, ``flip_filter=False``) with
    ``up`` or ``down`` (not both), depthwise, any padding.

    * ``up``: zero-stuffing, padding, convolution with the filter is a
      depthwise ``conv_transpose2d`` of stride ``up`` (the filter as is),
      whose output is upfirdn2d's with padding ``(k - 1, k - up)``; the
      requested padding is a crop / zero pad of it.
    * ``down``: convolution with the flipped filter and keeping every
      ``down``-th sample is a strided depthwise ``conv2d`` (padding
      first, as an explicit ``F.pad``, where there is any).

    Args:
        filt (Tensor | None): (k,) separable or (k, k) filter; None: the
            identity ([[1]]), as mmcv.
        channels (int): channels of the input.
        up (int): upsampling factor (1: none).
        down (int): downsampling factor (1: none).
        padding: mmcv's padding, relative to the upsampled image.
        gain (float): mmcv's ``gain`` (overall scale of the signal); any
            extra factor (an activation gain) may be folded in here.
        separable (bool): for a (k,) filter: two 1-D passes (True) or one
            2-D pass with the outer product (False).
    """

    def __init__(self, filt: Optional[torch.Tensor], channels: int,
                 up: int = 1, down: int = 1, padding=0, gain: float = 1.,
                 separable: bool = True):
        super().__init__()
        up, down = int(up), int(down)
        if up > 1 and down > 1:
            raise ValueError('up or down, not both')
        if filt is None:
            filt = torch.ones(1, 1)
        filt = filt.detach().float()
        if filt.ndim not in (1, 2):
            raise ValueError(f'filters are (k,) or (k, k), got '
                             f'{tuple(filt.shape)}')
        pads = _padding4(padding)
        self.channels = int(channels)
        self.up, self.down = up, down
        kw, kh = int(filt.shape[-1]), int(filt.shape[0])
        # mmcv: filter * gain ** (ndim / 2); flip unless flip_filter
        if filt.ndim == 1 and separable:
            self.separable = True
            fx = fy = filt * math.sqrt(gain)  # (k,) each
        else:
            self.separable = False
            if filt.ndim == 1:
                filt = torch.outer(filt, filt)
            fx = fy = filt * gain  # (k, k); fy unused
        if self.up > 1 or self.down == 1:
            # transposed conv (stride up, 1 included): the filter as is;
            # full output = upfirdn2d's with padding (k - 1, k - up)
            self.transposed = True
            full = [kw - 1, kw - up, kh - 1, kh - up]
            self.pad = [p - f for p, f in zip(pads, full)]
        else:
            # strided conv: a correlation, flip the filter
            self.transposed = False
            self.pad = pads
            fx = torch.flip(fx, list(range(fx.ndim)))
            fy = torch.flip(fy, list(range(fy.ndim)))
        self.explicit_pad = any(p != 0 for p in self.pad)
        c = self.channels
        if self.separable:
            self.register_buffer('weight_x',
                                 fx.view(1, 1, 1, kw).repeat(c, 1, 1, 1))
            self.register_buffer('weight_y',
                                 fy.view(1, 1, kh, 1).repeat(c, 1, 1, 1))
        else:
            self.register_buffer('weight_x',
                                 fx.view(1, 1, kh, kw).repeat(c, 1, 1, 1))
            self.register_buffer('weight_y', torch.zeros(0))
        self.identity = (kw == 1 and kh == 1 and up == 1 and down == 1
                         and float(fx.reshape(-1)[0]) == 1.)
        self.slice_only = (kw == 1 and kh == 1 and down > 1
                           and float(fx.reshape(-1)[0]) == 1.)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H', W'), as mmcv's upfirdn2d."""
        if self.identity:
            if self.explicit_pad:
                x = F.pad(x, self.pad)
            return x
        if self.transposed:
            if self.separable:
                x = F.conv_transpose2d(x, self.weight_x, stride=(1, self.up),
                                       groups=self.channels)
                x = F.conv_transpose2d(x, self.weight_y, stride=(self.up, 1),
                                       groups=self.channels)
            else:
                x = F.conv_transpose2d(x, self.weight_x, stride=self.up,
                                       groups=self.channels)
            if self.explicit_pad:
                x = F.pad(x, self.pad)
            return x
        if self.explicit_pad:
            x = F.pad(x, self.pad)
        if self.slice_only:
            return x[:, :, ::self.down, ::self.down]
        if self.separable:
            x = F.conv2d(x, self.weight_x, stride=(1, self.down),
                         groups=self.channels)
            return F.conv2d(x, self.weight_y, stride=(self.down, 1),
                            groups=self.channels)
        return F.conv2d(x, self.weight_x, stride=self.down,
                        groups=self.channels)


class PlainSynthesisLayer(nn.Module):
    """One ``SynthesisLayer``: modulated conv + filtered leaky ReLU.

    Modulated convolution in input-modulation form. MMagic's weight for
    sample ``n`` is ``g * d[n, o] * Wn[o, i] * sn[n, i]`` with the
    pre-normalised weight ``Wn = W / rms_o(W)``, styles
    ``sn = s / rms(s)``, the demodulation
    ``d = rsqrt(sum_{i,k} (Wn sn)^2 + 1e-8)`` and the magnitude-EMA input
    gain ``g = rsqrt(magnitude_ema)``. With ``M = C_in k k`` this is
    ``conv(x * sn, Wn * g / sqrt(M)) * rsqrt(sn^2 @ Q + 1e-8 / M)`` with
    ``Q[o, i] = sum_k Wn[o, i]^2 / M`` (rows summing to 1): a constant
    weight, and a demodulation sum bounded by ``max_i sn_i^2 <= C_in`` in
    any dtype. In fp16 the styles are first divided by their largest
    magnitude (the demodulation cancels the factor). The to-RGB layer
    (no demodulation) folds its weight gain and ``g`` into its affine.

    Then mmcv's ``filtered_lrelu`` reference path: bias, upsample
    (``up_filter``, gain ``up**2``, the layer's padding), leaky ReLU
    (slope 0.2, gain sqrt(2), folded into the upsampling filter; slope 1
    and gain 1 for to-RGB), clamp at ``conv_clamp``, downsample
    (``down_filter``).

    Args:
        layer (SynthesisLayer): MMagic's layer (weights are copied).
        separable (dict): per stage (``'up'``, ``'down'``), whether a 1-D
            filter runs as two 1-D passes.
    """

    def __init__(self, layer: SynthesisLayer, separable: dict):
        super().__init__()
        if not isinstance(layer, SynthesisLayer):
            raise TypeError(f'expected an MMagic SynthesisLayer, got '
                            f'{type(layer).__name__}')
        weight = layer.weight.detach().float()  # (out, in, k, k)
        out_c, in_c, k, _ = weight.shape
        gain = float(layer.magnitude_ema.detach().float().rsqrt())
        aw, ab = fc_weights(layer.affine)
        self.is_torgb = bool(layer.is_torgb)
        self.demodulate = not self.is_torgb
        fan_in = in_c * k * k
        if self.demodulate:
            rms = weight.square().mean([1, 2, 3], keepdim=True).sqrt()
            rms = torch.where(rms > 0, rms, torch.ones_like(rms))
            wn = weight / rms
            scale = gain / math.sqrt(fan_in)
            self.register_buffer('weight', (wn * scale).contiguous())
            self.register_buffer('weight_sq',
                                 wn.square().sum([2, 3]) / fan_in)
            self.register_buffer('demod_eps',
                                 torch.full((out_c, ), DEMOD_EPS / fan_in))
        else:
            # styles * 1/sqrt(fan_in) (MMagic's to-RGB weight_gain) * g
            scale = gain / math.sqrt(fan_in)
            aw, ab = aw * scale, ab * scale
            self.register_buffer('weight', weight.contiguous())
            self.register_buffer('weight_sq', torch.zeros(0))
            self.register_buffer('demod_eps', torch.zeros(0))
        self.register_buffer('affine_weight', aw)
        self.register_buffer('affine_bias', ab)
        self.register_buffer('bias',
                             layer.bias.detach().float().view(1, -1, 1, 1))
        self.padding = int(layer.conv_kernel) - 1
        if k - 1 != self.padding:
            raise ValueError(f'{type(layer).__name__}: kernel {k} does not '
                             f'match conv_kernel {layer.conv_kernel}')
        # filtered_lrelu(gain=sqrt(2) / 1, slope=0.2 / 1, clamp=conv_clamp)
        act_gain = 1. if self.is_torgb else math.sqrt(2)
        self.slope = 1. if self.is_torgb else 0.2
        self.clamp = (float(layer.conv_clamp)
                      if layer.conv_clamp is not None else -1.)
        up, down = int(layer.up_factor), int(layer.down_factor)
        # the activation gain is folded into the (linear) upsampling
        self.up = PlainUpFirDn(layer.up_filter, out_c, up=up,
                               padding=list(layer.padding),
                               gain=up**2 * act_gain,
                               separable=bool(separable['up']))
        self.down = PlainUpFirDn(layer.down_filter, out_c, down=down,
                                 separable=bool(separable['down']))
        self.out_channels = int(out_c)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """x (N, C_in, H, W), w (N, style) -> (N, C_out, H', W')."""
        styles = F.linear(w, self.affine_weight, self.affine_bias)
        if self.demodulate:
            if styles.dtype == torch.float16:
                styles = styles / styles.abs().amax(dim=1, keepdim=True)
            styles = styles * torch.rsqrt(
                styles.square().mean(dim=1, keepdim=True))
            x = F.conv2d(x * styles[:, :, None, None], self.weight,
                         padding=self.padding)
            demod = torch.rsqrt(
                F.linear(styles.square(), self.weight_sq) + self.demod_eps)
            x = torch.addcmul(self.bias, x, demod[:, :, None, None])
        else:
            x = F.conv2d(x * styles[:, :, None, None], self.weight,
                         padding=self.padding) + self.bias
        x = self.up(x)
        if self.slope != 1.:
            x = F.leaky_relu(x, self.slope, inplace=True)
        if self.clamp >= 0:
            x = x.clamp_(-self.clamp, self.clamp)
        return self.down(x)


class PlainSynthesisInput(nn.Module):
    """``SynthesisInput``: Fourier features of the per-sample rotated and
    translated frequencies, through a learned channel mixing.

    The sampling grid (``affine_grid`` of the fixed ``theta``) is a buffer
    (2, H * W); the per-sample transform ``m_r @ m_t @ transform`` is
    stacked from the normalised affine output ``(r_c, r_s, t_x, t_y)``.

    Args:
        inp (SynthesisInput): MMagic's module.
    """

    def __init__(self, inp: SynthesisInput):
        super().__init__()
        if not isinstance(inp, SynthesisInput):
            raise TypeError(f'expected an MMagic SynthesisInput, got '
                            f'{type(inp).__name__}')
        aw, ab = fc_weights(inp.affine)
        self.register_buffer('affine_weight', aw)
        self.register_buffer('affine_bias', ab)
        self.register_buffer('transform', inp.transform.detach().float()
                             .clone())
        self.register_buffer('freqs', inp.freqs.detach().float().clone())
        self.register_buffer('phases', inp.phases.detach().float().clone())
        channels = int(inp.weight.shape[0])
        self.register_buffer(
            'weight', inp.weight.detach().float() / math.sqrt(channels))
        self.bandwidth = float(inp.bandwidth)
        self.sampling_rate = float(inp.sampling_rate)
        size = [int(s) for s in inp.size]
        self.width, self.height = size[0], size[1]
        # MMagic's grid, built as it builds it
        theta = torch.eye(2, 3)
        theta[0, 0] = 0.5 * size[0] / inp.sampling_rate
        theta[1, 1] = 0.5 * size[1] / inp.sampling_rate
        grid = F.affine_grid(theta.unsqueeze(0), [1, 1, size[1], size[0]],
                             align_corners=False)  # (1, H, W, 2)
        self.register_buffer('grid', grid[0].reshape(-1, 2).t().contiguous())

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """w (N, style) -> (N, C, H, W)."""
        t = F.linear(w, self.affine_weight, self.affine_bias)
        t = t / torch.linalg.vector_norm(t[:, :2], dim=1, keepdim=True)
        rc, rs, tx, ty = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
        zero, one = torch.zeros_like(rc), torch.ones_like(rc)
        m_r = torch.stack([rc, -rs, zero, rs, rc, zero, zero, zero, one],
                          dim=1).view(-1, 3, 3)
        m_t = torch.stack([one, zero, -tx, zero, one, -ty, zero, zero, one],
                          dim=1).view(-1, 3, 3)
        transforms = m_r @ m_t @ self.transform
        phases = self.phases + (self.freqs @ transforms[:, :2, 2:]).squeeze(2)
        freqs = self.freqs @ transforms[:, :2, :2]  # (N, C, 2)
        amplitudes = (1 - (torch.linalg.vector_norm(freqs, dim=2) -
                           self.bandwidth) /
                      (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        x = freqs @ self.grid + phases[:, :, None]  # (N, C, H * W)
        x = torch.sin(x * (math.pi * 2)) * amplitudes[:, :, None]
        x = self.weight @ x
        return x.view(x.shape[0], x.shape[1], self.height, self.width)


class PlainFullyConnected(nn.Module):
    """``FullyConnectedLayer``: linear, then (``'lrelu'``) bias-act's leaky
    ReLU(0.2) * sqrt(2).

    Args:
        layer (FullyConnectedLayer): MMagic's layer.
    """

    def __init__(self, layer: FullyConnectedLayer):
        super().__init__()
        weight, bias = fc_weights(layer)
        self.register_buffer('weight', weight)
        self.register_buffer('bias', bias)
        self.lrelu = layer.activation == 'lrelu'
        self.scale = math.sqrt(2.)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in) -> (N, out)."""
        x = F.linear(x, self.weight, self.bias)
        if self.lrelu:
            x = F.leaky_relu(x, 0.2) * self.scale
        return x


class PlainStyleGAN3Mapping(nn.Module):
    """``MappingNetwork`` (unconditional): normalise z, then the
    fully connected layers with bias + leaky ReLU(0.2) * sqrt(2).

    Args:
        mapping (MappingNetwork): MMagic's mapping network.
    """

    def __init__(self, mapping: MappingNetwork):
        super().__init__()
        if not isinstance(mapping, MappingNetwork):
            raise TypeError(f'expected an MMagic StyleGAN3 MappingNetwork, '
                            f'got {type(mapping).__name__}')
        if mapping.cond_size is not None and mapping.cond_size > 0:
            raise NotImplementedError('conditional StyleGAN3 generators '
                                      '(cond_size > 0) are not converted')
        if not mapping.noise_size:
            raise NotImplementedError('mapping networks without z input')
        layers = []
        for i in range(mapping.num_layers):
            layer = getattr(mapping, f'fc{i}')
            if layer.activation not in ('lrelu', 'linear'):
                raise NotImplementedError(
                    f'mapping layers with activation {layer.activation!r}')
            layers.append(PlainFullyConnected(layer))
        self.layers = nn.ModuleList(layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, noise_size) -> w (N, style_channels)."""
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        for fc in self.layers:
            x = fc(x)
        return x


class PlainStyleGAN3Generator(PlainGenerator):
    """z or w -> image, computing what MMagic's ``StyleGAN3Generator`` does.

    Build it with :meth:`from_mmagic` (or
    :func:`plain_stylegan3_from_mmagic`). ``forward(z)`` equals MMagic's
    ``generator(z, truncation=truncation)`` in eval mode (one w per sample,
    truncation towards the mapping's ``w_avg`` on every layer).

    Same interface as :class:`PlainStyleGAN2Generator` (``mapping``,
    ``truncate``, ``synthesis(latent, noises)``, ``noise_shapes``,
    ``mean_latent``, ``num_latents``, ...); StyleGAN3 has no injected
    noise, so ``noise_shapes`` is empty and ``noises`` is ignored.

    Args:
        generator (StyleGAN3Generator): MMagic's generator (or a subclass,
            e.g. ``StyleGAN3StudentGenerator``); weights are copied.
        truncation (float): truncation factor (1: none).
        mean_latent (Tensor, optional): (style_channels,) w to truncate
            towards; default the mapping's ``w_avg`` (MMagic's choice).
        separable (dict, optional): ``{'up': bool, 'down': bool}``, how
            separable filters run (default :data:`SEPARABLE_DEFAULT`).
    """

    __jit_unused_properties__ = ['noise_shapes']

    def __init__(self,
                 generator: StyleGAN3Generator,
                 truncation: float = 1.,
                 mean_latent: Optional[torch.Tensor] = None,
                 separable: Optional[dict] = None):
        super().__init__()
        if not isinstance(generator, StyleGAN3Generator):
            raise TypeError(f'expected an MMagic StyleGAN3Generator, got '
                            f'{type(generator).__name__}')
        synthesis = generator.synthesis
        if not isinstance(synthesis, SynthesisNetwork):
            raise TypeError(f'expected an MMagic StyleGAN3 SynthesisNetwork, '
                            f'got {type(synthesis).__name__}')
        separable = dict(SEPARABLE_DEFAULT, **(separable or {}))
        self.mapping = PlainStyleGAN3Mapping(generator.style_mapping)
        self.noise_size = int(generator.noise_size)
        self.style_channels = int(generator.style_channels)
        self.out_size = int(generator.out_size)
        self.img_channels = int(generator.img_channels)
        self.num_latents = int(generator.num_ws)
        self.rgb2bgr = bool(generator.rgb2bgr)
        self.input = PlainSynthesisInput(synthesis.input)
        self.layers = nn.ModuleList([
            PlainSynthesisLayer(getattr(synthesis, name), separable)
            for name in synthesis.layer_names
        ])
        if len(self.layers) + 1 != self.num_latents:
            raise ValueError(f'{len(self.layers)} synthesis layers for '
                             f'{self.num_latents} latents')
        self.output_scale = float(synthesis.output_scale)
        self.truncation = float(truncation)
        if mean_latent is None:
            w_avg = getattr(generator.style_mapping, 'w_avg', None)
            if w_avg is None and self.truncation != 1:
                raise ValueError('truncation != 1 needs the mean latent (the '
                                 'mapping has no w_avg)')
            mean_latent = (w_avg if w_avg is not None else
                           torch.zeros(self.style_channels))
        self.register_mean_latent(mean_latent)

    @property
    def noise_shapes(self) -> List[Tuple[int, int, int, int]]:
        """StyleGAN3 injects no noise: ``[]``."""
        return []

    def truncate(self, w: torch.Tensor) -> torch.Tensor:
        """MMagic's truncation ``w_avg + t * (w - w_avg)`` (any shape
        (..., style_channels)); as MMagic's StyleGAN3, any t != 1."""
        if self.truncation != 1:
            w = self.mean_latent + self.truncation * (w - self.mean_latent)
        return w

    def synthesis(self,
                  latent: torch.Tensor,
                  noises: Optional[List[torch.Tensor]] = None
                  ) -> torch.Tensor:
        """Synthesis network: latent (N, num_latents, style) -> image.

        Args:
            latent (Tensor): one w per layer (truncation not applied here):
                index 0 the Fourier input, then one per layer.
            noises: ignored (no injected noise in StyleGAN3).

        Returns:
            Tensor: (N, img_channels, out_size, out_size), MMagic's output
            range (about [-1, 1], not clamped).
        """
        x = self.input(latent[:, 0])
        i = 1
        for layer in self.layers:
            x = layer(x, latent[:, i])
            i += 1
        if self.output_scale != 1:
            x = x * self.output_scale
        if self.rgb2bgr:
            x = torch.flip(x, [1])
        return x


def plain_stylegan3_from_mmagic(generator: StyleGAN3Generator,
                                truncation: float = 1.,
                                mean_latent: Optional[torch.Tensor] = None,
                                separable: Optional[dict] = None
                                ) -> PlainStyleGAN3Generator:
    """:meth:`PlainGenerator.from_mmagic` of :class:`PlainStyleGAN3Generator`
    (weights copied, eval mode)."""
    return PlainStyleGAN3Generator.from_mmagic(generator, truncation,
                                               mean_latent, separable)
