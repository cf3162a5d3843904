"""A StyleGAN2 generator whose synthesis widths are given explicitly."""
from typing import Dict, Optional

from mmagic.models.editors.stylegan2 import StyleGAN2Generator
from mmagic.registry import MODELS

from ..pruning.ratio import check_round_to, kept_channels


@MODELS.register_module()
class StyleGAN2StudentGenerator(StyleGAN2Generator):
    """MMagic's ``StyleGAN2Generator`` with explicit per-resolution widths.

    MMagic hard-codes 512 channels up to 32 px; a thin student needs other
    widths. Everything else (mapping network, forward signature, injected-noise
    buffers, style mixing, ``get_mean_latent``) is MMagic's own, so the student
    is a drop-in for MMagic's EMA, metrics and visualisation hooks.

    Exactly one of ``channels`` and ``ratio`` gives the widths, so the
    architecture is rebuilt from the config alone (MMagic's EMA copies the
    generator at build time; ``--resume`` and ``load_from`` rebuild it).

    Args:
        out_size (int): output resolution.
        style_channels (int): width of w (and of the mapping network).
        channels (dict[int, int], optional): synthesis width per resolution,
            keys 4, 8, ..., out_size (the constant input and the 4 px conv use
            ``channels[4]``; both convs of a block use its resolution's width).
        ratio (float, optional): instead of ``channels``, remove this fraction
            of every width of the teacher (0.7 keeps ``C - int(0.7 C)``).
        round_to (int, optional): with ``ratio``, round every kept width
            down to a multiple of it (:func:`kept_channels`; 8 or 16 suit
            tensor cores and onnxruntime's blocked kernels). The pruning
            criterion still chooses which channels are kept.
        teacher_channels (dict[int, int], optional): the teacher widths the
            ratio applies to; default MMagic's table for
            ``channel_multiplier`` (an MMagic ``StyleGAN2Generator`` teacher).
        **kwargs: any other argument of ``StyleGAN2Generator``.
    """

    def __init__(self,
                 out_size: int,
                 style_channels: int,
                 channels: Optional[Dict[int, int]] = None,
                 ratio: Optional[float] = None,
                 teacher_channels: Optional[Dict[int, int]] = None,
                 round_to: Optional[int] = None,
                 **kwargs):
        if (channels is None) == (ratio is None):
            raise ValueError('StyleGAN2StudentGenerator needs exactly one of '
                             '`channels` (widths per resolution) and `ratio`.')
        if round_to is not None and ratio is None:
            raise ValueError('round_to rounds the widths that `ratio` gives; '
                             'with explicit `channels` give rounded widths.')
        check_round_to(round_to)
        self._width_spec = dict(
            channels=channels, ratio=ratio, teacher=teacher_channels,
            round_to=round_to)
        self._out_size_for_widths = out_size
        super().__init__(out_size, style_channels, **kwargs)

    @property
    def channels(self) -> Dict[int, int]:
        """Synthesis width per resolution (the student's)."""
        return self._student_channels

    @channels.setter
    def channels(self, teacher_channels: Dict[int, int]) -> None:
        # StyleGAN2Generator.__init__ assigns its hard-coded width table to
        # `self.channels` and then builds every layer from `self.channels`.
        # Keeping the table as the teacher's widths and answering with the
        # student's lets MMagic's own constructor build the student.
        if self._width_spec['teacher'] is not None:
            teacher_channels = {
                int(k): int(v)
                for k, v in self._width_spec['teacher'].items()
            }
        self.teacher_channels = dict(teacher_channels)
        resolutions = [
            2**i for i in range(2, self._out_size_for_widths.bit_length())
        ]
        if self._width_spec['ratio'] is not None:
            ratio = self._width_spec['ratio']
            widths = {
                res: kept_channels(self.teacher_channels[res], ratio,
                                   self._width_spec['round_to'])
                for res in resolutions
            }
        else:
            given = {
                int(k): int(v)
                for k, v in self._width_spec['channels'].items()
            }
            missing = [res for res in resolutions if res not in given]
            if missing:
                raise ValueError(
                    f'`channels` must give a width for every resolution '
                    f'{resolutions}; missing {missing}.')
            bad = {k: v for k, v in given.items() if v < 1}
            if bad:
                raise ValueError(f'Widths must be positive, got {bad}.')
            widths = {res: given[res] for res in resolutions}
        self._student_channels = widths
