"""Load generator weights from MMagic-style checkpoints, with clear errors."""
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

from ..utils import StateDictFit

#: Prefixes under which MMagic checkpoints store a generator, in the order
#: they are tried (the EMA generator is the one MMagic evaluates).
GENERATOR_PREFIXES = ('generator_ema.module.', 'generator_ema.',
                      'generator.module.', 'generator.')


def read_checkpoint(path: str, map_location: str = 'cpu') -> dict:
    """Read a checkpoint from a local path or a URL (mmengine's loader).

    Raises:
        FileNotFoundError: naming the file when a local path does not exist.
    """
    if '://' not in path and not osp.isfile(path):
        raise FileNotFoundError(
            f'Checkpoint not found: {path}. Download it (see the model zoo '
            'in README.md) or give the right path/URL.')
    try:
        return _load_checkpoint(path, map_location=map_location)
    except Exception as err:  # network errors, corrupt files
        raise RuntimeError(f'Could not read checkpoint {path}: {err}') from err


def extract_generator_state(
        checkpoint: dict,
        source: str = '<checkpoint>',
        prefixes: Sequence[str] = GENERATOR_PREFIXES
) -> Dict[str, torch.Tensor]:
    """The generator's ``state_dict`` from an MMagic checkpoint.

    Accepts a full training checkpoint (``state_dict`` with
    ``generator_ema.``/``generator.`` keys, also DDP's ``.module.``) or a bare
    generator ``state_dict``.
    """
    state = checkpoint.get('state_dict', checkpoint)
    for prefix in prefixes:
        sub = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
        if sub:
            return sub
    if any(k.startswith(('style_mapping.', 'synthesis.', 'convs.'))
           for k in state):
        return dict(state)
    raise KeyError(f'{source} holds no generator weights: expected keys '
                   f'starting with one of {list(prefixes)}.')


def load_generator_weights(generator: nn.Module,
                           path: str,
                           prefixes: Optional[Sequence[str]] = None) -> None:
    """Load a generator's weights from ``path`` (local file or URL).

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the weights do not fit the generator (another
            architecture or resolution); the message names the file and the
            first mismatching keys.
    """
    state = extract_generator_state(
        read_checkpoint(path), path, prefixes or GENERATOR_PREFIXES)
    fit = StateDictFit.compare(generator.state_dict(), state)
    if not fit.fits:
        hint = ''
        if any('to_rgbs' in k or 'injected_noise' in k
               for k in fit.missing + fit.unexpected):
            hint = (' The number of synthesis blocks differs: the checkpoint'
                    ' was made for another output resolution.')
        raise ValueError(f'{path} does not fit {type(generator).__name__}.'
                         f'{hint} {fit.describe(missing="Missing keys")}.')
    generator.load_state_dict(state, strict=True)
