"""Let torch's ``weights_only`` loading read mmengine training checkpoints.

torch >= 2.6 loads with ``weights_only=True`` by default and refuses any
pickled global it does not know. mmengine 0.10.7 calls ``torch.load`` without
the argument, and its training checkpoints hold a few such objects (the
message hub's ``HistoryBuffer`` and numpy arrays/scalars in ``message_hub`` and
``meta``), so ``--resume`` fails. Rather than loading untrusted files with
``weights_only=False``, we allow exactly those types through
``torch.serialization.add_safe_globals``.

``HistoryBuffer`` also pickles its statistics functions (``HistoryBuffer.min``
...), which pickle stores as ``getattr(HistoryBuffer, 'min')``. Allowing the
builtin ``getattr`` would let a file call any attribute of any allowed object,
so :func:`_history_buffer_attribute` is registered under the name
``builtins.getattr`` instead: it resolves only HistoryBuffer's statistics.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _numpy_globals():
    types = [np.ndarray, np.dtype]
    for name in ('_reconstruct', 'scalar'):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            try:
                mod = __import__(module, fromlist=[name])
                types.append(getattr(mod, name))
            except (ImportError, AttributeError):
                pass
    # dtype classes (numpy >= 1.25 pickles dtypes through them)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [
            getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')
        ]
    types += [
        np.float64, np.float32, np.float16, np.int64, np.int32, np.int16,
        np.int8, np.uint8, np.bool_
    ]
    return types


def _history_buffer_attribute(obj, name: str):
    """``getattr`` restricted to HistoryBuffer's statistics functions."""
    allowed = set(HistoryBuffer._statistics_methods) | {
        'min', 'max', 'mean', 'current'
    }
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and \
            name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics are allowed.')


def allow_mmengine_checkpoint_globals() -> None:
    """Register the non-tensor types of mmengine checkpoints as safe."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(
            [HistoryBuffer, (_history_buffer_attribute, 'builtins.getattr')] +
            _numpy_globals())
