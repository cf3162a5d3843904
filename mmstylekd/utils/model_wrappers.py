"""Modules and state dicts with or without a model wrapper (DDP).

mmengine tells wrappers apart (:func:`mmengine.model.is_model_wrapper`) and
unwraps them inline wherever it needs the inner module; these are the two
things our models do with them, each written once.
"""
from typing import MutableMapping

import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(module: nn.Module) -> nn.Module:
    """The module inside a model wrapper (DDP), or ``module`` itself.

    Args:
        module: a module, wrapped (``MMDistributedDataParallel``, ...) or not.

    Returns:
        nn.Module: ``module.module`` for a wrapper, else ``module``.
    """
    return module.module if is_model_wrapper(module) else module


def strip_wrapper_segment(state_dict: MutableMapping, prefix: str) -> None:
    """Rename ``{prefix}module.<key>`` to ``{prefix}<key>``, in place.

    A DDP-wrapped child named ``generator`` writes ``generator.module.*``;
    the same child unwrapped reads and writes ``generator.*``.

    Args:
        state_dict: a model's state dict.
        prefix: the wrapped child's prefix, e.g. ``'generator.'``.
    """
    wrapped = f'{prefix}module.'
    for key in [k for k in state_dict if k.startswith(wrapped)]:
        state_dict[f'{prefix}{key[len(wrapped):]}'] = state_dict.pop(key)
