"""How a state dict fits a module: the report behind every load we check.

``nn.Module.load_state_dict`` stops at the first shape mismatch and mmengine's
loader only warns about missing keys; our loaders check first and stop with
all three kinds of difference named, so that a checkpoint of another
architecture never leaves a network half loaded or random.
"""
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional

import torch


@dataclass
class StateDictFit:
    """What keeps a state dict from loading strictly into a module.

    Attributes:
        missing (list[str]): the module's keys that the state dict lacks.
        unexpected (list[str]): the state dict's keys the module lacks.
        shape_mismatches (list[str]): one line per key in both whose shapes
            differ, e.g. ``'convs.0.bias: checkpoint (8,) vs model (16,)'``.
    """
    missing: List[str]
    unexpected: List[str]
    shape_mismatches: List[str]

    @classmethod
    def compare(cls,
                own: Mapping[str, torch.Tensor],
                given: Mapping[str, torch.Tensor],
                given_name: str = 'checkpoint',
                own_name: str = 'model',
                optional: Callable[[str], bool] = lambda key: False,
                key_name: Callable[[str], str] = str) -> 'StateDictFit':
        """Compare a state dict to load with the module's own.

        Args:
            own: the module's ``state_dict()``.
            given: the state dict to load (any keys; tensors of any shape).
            given_name / own_name: how shape lines name the two sides.
            optional: own keys that ``given`` may lack (the module computes
                them itself).
            key_name: how a key is named in the report (e.g. with the
                source tensor it came from).

        Returns:
            StateDictFit: empty lists when ``given`` loads strictly.
        """
        return cls(
            missing=[
                key_name(k) for k in own if k not in given and not optional(k)
            ],
            unexpected=[key_name(k) for k in given if k not in own],
            shape_mismatches=[
                f'{key_name(k)}: {given_name} {tuple(given[k].shape)} vs '
                f'{own_name} {tuple(own[k].shape)}' for k in own
                if k in given and given[k].shape != own[k].shape
            ])

    @property
    def fits(self) -> bool:
        """True when nothing is missing, unexpected or of another shape."""
        return not (self.missing or self.unexpected or self.shape_mismatches)

    def describe(self,
                 missing: Optional[str] = 'missing keys',
                 unexpected: Optional[str] = 'unexpected keys',
                 shape_mismatches: Optional[str] = 'shape mismatches',
                 limit: int = 5) -> str:
        """The report in one line, for an error message.

        Args:
            missing / unexpected / shape_mismatches: the label of each list;
                None leaves the list out.
            limit: at most this many entries of each list are named (the
                rest are counted).

        Returns:
            str: e.g. ``"missing keys: ['a']; unexpected keys: []; shape
            mismatches: []"``.
        """
        parts = []
        for label, items in ((missing, self.missing),
                             (unexpected, self.unexpected),
                             (shape_mismatches, self.shape_mismatches)):
            if label is None:
                continue
            more = len(items) - limit
            parts.append(f'{label}: {items[:limit]}' +
                         (f' and {more} more' if more > 0 else ''))
        return '; '.join(parts)
