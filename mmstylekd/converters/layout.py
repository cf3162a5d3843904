"""Key tables from a source checkpoint layout to MMagic's, and applying them.

A converter describes a source format as a list of :class:`Rename` entries
(source key, MMagic key, optional reshape) for the architecture it found; one
function applies the table so that every format fails the same way: a
missing source key, a key that is not part of the layout, or a tensor of the
wrong shape is reported by name.
"""
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional

import torch


class Rename(NamedTuple):
    """One tensor of a layout.

    Attributes:
        source (str): key in the source checkpoint.
        target (str): key in MMagic's module ``state_dict``.
        reshape (tuple, optional): target shape (e.g. NVlabs' (O, I, k, k)
            conv weight -> MMagic's (1, O, I, k, k)); None keeps the shape.
    """
    source: str
    target: str
    reshape: Optional[tuple] = None


class LayoutError(KeyError):
    """The source checkpoint does not have the expected layout."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def apply_layout(tensors: Dict[str, torch.Tensor],
                 table: Iterable[Rename],
                 where: str,
                 ignore: Callable[[str], bool] = lambda key: False
                 ) -> Dict[str, torch.Tensor]:
    """Rename (and reshape) ``tensors`` according to ``table``.

    Args:
        tensors: the source tensors (a state dict).
        table: the layout of the architecture found in the source.
        where (str): the file and part (``'x.pkl: G_ema'``) for messages.
        ignore: source keys that are known and deliberately not converted.

    Returns:
        dict: MMagic key -> float32 contiguous tensor. ``origin`` (MMagic
        key -> source key) is attached as attribute ``.origin``.

    Raises:
        LayoutError: a key of the layout is missing, a source key is not part
            of the layout, or a tensor cannot take the layout's shape.
    """
    table = list(table)
    missing = [r.source for r in table if r.source not in tensors]
    if missing:
        raise LayoutError(f'{where}: missing {missing[:6]}'
                          f'{" ..." if len(missing) > 6 else ""} (expected by '
                          'the layout of this architecture).')
    known = {r.source for r in table}
    unexpected = [k for k in tensors if k not in known and not ignore(k)]
    if unexpected:
        raise LayoutError(f'{where}: unexpected keys {unexpected[:6]} (not '
                          'part of the layout this converter knows; '
                          'refusing to guess).')
    out = _StateDict()
    for rename in table:
        value = tensors[rename.source]
        if not isinstance(value, torch.Tensor):
            raise LayoutError(f'{where}: {rename.source} is a '
                              f'{type(value).__name__}, not a tensor.')
        value = value.detach().to(torch.float32)
        if rename.reshape is not None:
            if value.numel() != _numel(rename.reshape):
                raise LayoutError(
                    f'{where}: {rename.source} has shape '
                    f'{tuple(value.shape)}, which cannot become '
                    f'{tuple(rename.reshape)} ({rename.target}).')
            value = value.reshape(rename.reshape)
        out[rename.target] = value.contiguous().clone()
        out.origin[rename.target] = rename.source
    return out


def _numel(shape: tuple) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


class _StateDict(dict):
    """A dict of tensors that remembers each tensor's source key."""

    def __init__(self):
        super().__init__()
        self.origin: Dict[str, str] = {}


def shape_of(tensors: Dict[str, torch.Tensor], key: str,
             where: str) -> List[int]:
    """``list(tensors[key].shape)``; LayoutError naming the key if absent."""
    if key not in tensors:
        raise LayoutError(f'{where}: missing {key}.')
    return list(tensors[key].shape)
