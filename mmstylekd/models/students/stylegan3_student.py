"""A StyleGAN3 generator whose synthesis widths are given per layer."""
import inspect
from copy import deepcopy
from typing import List, Optional, Sequence

from mmagic.models.editors.stylegan3 import StyleGAN3Generator
from mmagic.models.editors.stylegan3.stylegan3_modules import (
    SynthesisInput, SynthesisLayer, SynthesisNetwork)
from mmagic.registry import MODELS

from ..pruning.ratio import check_round_to, kept_channels


@MODELS.register_module()
class StyleGAN3StudentSynthesisNetwork(SynthesisNetwork):
    """MMagic's StyleGAN3 ``SynthesisNetwork`` with explicit layer widths.

    MMagic derives widths from ``channel_base``/``channel_max``. This class
    lets MMagic compute the whole alias-free layout (cut-offs, sampling rates,
    sizes, filters) and then rebuilds the Fourier input and every layer with
    the student's widths; layer names follow MMagic's ``L{idx}_{size}_{C}``.

    Args:
        channels (list[int], optional): width of the Fourier input and of
            layers ``L0`` .. ``L{num_layers-1}`` (``num_layers`` values; the
            to-RGB layer always outputs ``img_channels``).
        ratio (float, optional): instead, remove this fraction of every width
            of the teacher layout (``C - int(ratio * C)``).
        round_to (int, optional): with ``ratio``, round every kept width
            down to a multiple of it (:func:`kept_channels`).
        **kwargs: arguments of ``SynthesisNetwork``.
    """

    def __init__(self,
                 style_channels: int,
                 out_size: int,
                 img_channels: int,
                 channels: Optional[Sequence[int]] = None,
                 ratio: Optional[float] = None,
                 round_to: Optional[int] = None,
                 **kwargs):
        if (channels is None) == (ratio is None):
            raise ValueError('StyleGAN3StudentSynthesisNetwork needs exactly '
                             'one of `channels` (width per layer) and '
                             '`ratio`.')
        if round_to is not None and ratio is None:
            raise ValueError('round_to rounds the widths that `ratio` gives; '
                             'with explicit `channels` give rounded widths.')
        check_round_to(round_to)
        layer_kwargs = {
            k: v
            for k, v in kwargs.items()
            if k not in inspect.signature(SynthesisNetwork).parameters
        }
        super().__init__(style_channels, out_size, img_channels, **kwargs)
        self.teacher_channels: List[int] = [
            getattr(self, name).out_channels
            for name in self.layer_names[:-1]
        ]
        if ratio is not None:
            widths = [kept_channels(c, ratio, round_to)
                      for c in self.teacher_channels]
        else:
            widths = [int(c) for c in channels]
            if len(widths) != self.num_layers or min(widths) < 1:
                raise ValueError(
                    f'`channels` must give {self.num_layers} positive widths '
                    f'(one per synthesis layer before to-RGB), got {widths}.')
        self.channels = widths
        self._rebuild(widths + [img_channels], layer_kwargs)

    def _rebuild(self, widths: List[int], layer_kwargs: dict) -> None:
        """Replace the input and every layer by ones of the given widths."""
        old_input = self.input
        self.input = SynthesisInput(
            style_channels=self.style_channels,
            channels=widths[0],
            size=int(old_input.size[0]),
            sampling_rate=old_input.sampling_rate,
            bandwidth=old_input.bandwidth)
        names = []
        for idx, name in enumerate(self.layer_names):
            old = getattr(self, name)
            delattr(self, name)
            layer = SynthesisLayer(
                style_channels=self.style_channels,
                is_torgb=old.is_torgb,
                is_critically_sampled=old.is_critically_sampled,
                use_fp16=old.use_fp16,
                in_channels=widths[max(idx - 1, 0)],
                out_channels=widths[idx],
                in_size=int(old.in_size[0]),
                out_size=int(old.out_size[0]),
                in_sampling_rate=old.in_sampling_rate,
                out_sampling_rate=old.out_sampling_rate,
                in_cutoff=old.in_cutoff,
                out_cutoff=old.out_cutoff,
                in_half_width=old.in_half_width,
                out_half_width=old.out_half_width,
                **layer_kwargs)
            new_name = f'L{idx}_{layer.out_size[0]}_{layer.out_channels}'
            setattr(self, new_name, layer)
            names.append(new_name)
        self.layer_names = names


@MODELS.register_module()
class StyleGAN3StudentGenerator(StyleGAN3Generator):
    """MMagic's ``StyleGAN3Generator`` with a student synthesis network.

    Same forward signature, mapping network (with its ``w_avg`` buffer) and
    ``get_training_kwargs`` as MMagic's, so MMagic's ``StyleGAN3`` model, EMA,
    metrics (equivariance included) work on it unchanged.

    Args:
        channels (list[int], optional): per-layer widths, see
            :class:`StyleGAN3StudentSynthesisNetwork`.
        ratio (float, optional): fraction of every teacher width removed.
        round_to (int, optional): with ``ratio``, kept widths are rounded
            down to multiples of it.
        synthesis_cfg (dict): the teacher's synthesis config (``channel_base``,
            ``channel_max``, ``num_layers``, ...); its type is replaced.
        **kwargs: other arguments of ``StyleGAN3Generator``.
    """

    def __init__(self,
                 out_size: int,
                 style_channels: int,
                 img_channels: int,
                 channels: Optional[Sequence[int]] = None,
                 ratio: Optional[float] = None,
                 round_to: Optional[int] = None,
                 synthesis_cfg: dict = dict(type='SynthesisNetwork'),
                 **kwargs):
        synthesis_cfg = deepcopy(synthesis_cfg)
        synthesis_cfg.update(
            type='StyleGAN3StudentSynthesisNetwork',
            channels=list(channels) if channels is not None else None,
            ratio=ratio,
            round_to=round_to)
        super().__init__(
            out_size,
            style_channels,
            img_channels,
            synthesis_cfg=synthesis_cfg,
            **kwargs)
