"""A converted teacher: MMagic modules, their weights, the checkpoint file.

Every converter returns a :class:`ConvertedTeacher`; :func:`fit_to_mmagic`
builds the MMagic module of a config and checks that the converted tensors
fill it exactly (names and shapes), and :func:`save_mmagic_checkpoint`
writes MMagic's checkpoint layout (``state_dict`` with ``generator_ema.``,
``generator.``, ``discriminator.`` keys, as MMagic's converted official
weights, plus ``meta``) atomically, loadable with ``weights_only=True``.
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch
from mmagic.registry import MODELS

from ..engine.atomic_output import atomic_write
from ..utils import StateDictFit, plain
from ..version import __version__


@dataclass
class ConvertedTeacher:
    """What a converter read and made of it.

    Attributes:
        source (str): the input file.
        source_format (str): e.g. ``'nvlabs-stylegan2-ada'``.
        generator_cfg (dict): MMagic/mmstylekd generator config.
        states (dict): ``'generator_ema'`` (always), ``'generator'``,
            ``'discriminator'`` -> MMagic ``state_dict``.
        discriminator_cfg (dict, optional): discriminator config when the
            source has a discriminator.
        carried (dict): what was carried over (``w_avg``, ``noise``,
            ``discriminator``, ``generator``) -> where it came from.
        notes (list[str]): behaviour of the source that the MMagic modules
            reproduce only approximately (e.g. activation clamping).
    """
    source: str
    source_format: str
    generator_cfg: dict
    states: Dict[str, Dict[str, torch.Tensor]]
    discriminator_cfg: Optional[dict] = None
    carried: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def build_module(cfg: dict) -> torch.nn.Module:
    """Build an MMagic/mmstylekd module from a plain config dict."""
    return MODELS.build(copy.deepcopy(cfg))


def fit_to_mmagic(cfg: dict,
                  tensors: Dict[str, torch.Tensor],
                  where: str,
                  derived: Callable[[str], bool] = lambda key: False
                  ) -> Dict[str, torch.Tensor]:
    """Check converted tensors against the MMagic module of ``cfg``.

    Args:
        cfg (dict): the generator or discriminator config.
        tensors (dict): MMagic key -> tensor (from
            :func:`~.layout.apply_layout`; its ``origin`` names source keys).
        where (str): file and part, for messages.
        derived: MMagic keys the module computes itself (taken from the
            freshly built module when ``tensors`` lacks them).

    Returns:
        dict: the module's complete ``state_dict`` (loaded strictly).

    Raises:
        ValueError: a key of the module is not provided, a provided key is
            not in the module, or shapes differ (message names MMagic and
            source keys).
    """
    module = build_module(cfg)
    own = module.state_dict()
    origin = getattr(tensors, 'origin', {})

    def name(key):
        return f'{key} (from {origin[key]})' if key in origin else key

    fit = StateDictFit.compare(own, tensors, given_name='source',
                               own_name='MMagic', optional=derived,
                               key_name=name)
    if not fit.fits:
        report = fit.describe(
            missing='MMagic keys without a source',
            unexpected='source tensors MMagic does not have')
        raise ValueError(f'{where} does not fit {cfg["type"]}: {report}.')
    state = {k: tensors.get(k, v).clone() for k, v in own.items()}
    module.load_state_dict(state, strict=True)
    return state


def save_mmagic_checkpoint(converted: ConvertedTeacher,
                           path: str,
                           force: bool = False) -> dict:
    """Write ``converted`` as an MMagic checkpoint.

    Keys: ``generator_ema.<k>`` (the source's EMA generator), and when the
    source has them ``generator.<k>`` and ``discriminator.<k>``; ``meta``
    records the source, its format, the configs and what was carried over.

    Returns:
        dict: the checkpoint that was written.
    """
    state = {}
    for prefix in ('generator_ema', 'generator', 'discriminator'):
        for key, value in converted.states.get(prefix, {}).items():
            state[f'{prefix}.{key}'] = value
    checkpoint = dict(
        state_dict=state,
        meta=plain(
            dict(
                converted_from=osp.abspath(converted.source),
                source_format=converted.source_format,
                generator_cfg=converted.generator_cfg,
                discriminator_cfg=converted.discriminator_cfg,
                carried_over=converted.carried,
                notes=converted.notes,
                mmstylekd_version=__version__)))
    atomic_write(path, lambda tmp: torch.save(checkpoint, tmp), force)
    return checkpoint


def summary(converted: ConvertedTeacher) -> str:
    """A few lines on what was converted, for the tools' output."""
    lines = [f'{converted.source} ({converted.source_format})']
    for name, state in converted.states.items():
        values = sum(v.numel() for v in state.values())
        lines.append(f'  {name}: {len(state)} tensors, {values:,} values')
    for what, where in converted.carried.items():
        lines.append(f'  carried over: {what} ({where})')
    lines += [f'  note: {note}' for note in converted.notes]
    return '\n'.join(lines)
