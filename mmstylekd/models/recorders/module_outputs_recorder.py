"""Record module outputs with forward hooks (MMRazor's recorder idea)."""
from typing import Dict, List, Sequence

import torch
import torch.nn as nn


class ModuleOutputsRecorder:
    """Collect the outputs of named submodules while inside a ``with``.

    Hooks exist only inside the context, so nothing leaks outside a step and
    the recorded model's code is untouched.

    Args:
        model: the module whose submodules are recorded.
        sources: names (``model.named_modules()``) of the modules to record,
            in the order the recorded list should have.

    Example:
        >>> recorder = ModuleOutputsRecorder(gen, ['convs.1', 'convs.3'])
        >>> with recorder:
        ...     gen(z)
        >>> feats = recorder.outputs  # [Tensor (N, C, H, W), ...]
    """

    def __init__(self, model: nn.Module, sources: Sequence[str]):
        modules = dict(model.named_modules())
        missing = [s for s in sources if s not in modules]
        if missing:
            raise KeyError(f'Cannot record {missing}: no such submodules of '
                           f'{type(model).__name__}.')
        self.modules = [modules[s] for s in sources]
        self.sources = list(sources)
        self._outputs: Dict[int, torch.Tensor] = {}
        self._handles: List = []

    def _hook(self, index: int):

        def record(module, args, output):
            self._outputs[index] = output

        return record

    def __enter__(self) -> 'ModuleOutputsRecorder':
        self._outputs = {}
        self._handles = [
            m.register_forward_hook(self._hook(i))
            for i, m in enumerate(self.modules)
        ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @property
    def outputs(self) -> List[torch.Tensor]:
        """Outputs of the last call of each source, in ``sources`` order."""
        missing = [
            self.sources[i] for i in range(len(self.sources))
            if i not in self._outputs
        ]
        if missing:
            raise RuntimeError(f'{missing} did not run while recording.')
        return [self._outputs[i] for i in range(len(self.sources))]
