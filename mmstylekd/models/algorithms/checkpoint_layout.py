"""How a StyleKD model is written to and read from checkpoints.

Three rules, applied through ``state_dict``/``load_state_dict`` hooks so that
mmengine's runner (``--resume``, ``load_from``, ``tools/test.py``) and plain
torch see the same layout:

1. **Frozen, rebuildable submodules are not written.** The teacher (rebuilt
   from ``teacher_ckpt``) and frozen loss networks such as LPIPS's VGG
   (rebuilt from torchvision's cache) never change; writing them into every
   checkpoint costs about 120 MB and 59 MB per SG2-256 checkpoint. Loading
   fills their keys with the current values, so nothing is reported missing
   and checkpoints that do hold them still load.
2. **One layout for one process and many.** mmengine saves
   ``model.state_dict()``, where a DDP-wrapped child adds ``.module.``
   (``generator.module.convs...``), but loads through its own recursion,
   which unwraps DDP children and expects ``generator.convs...``: a
   multi-process checkpoint would silently not load (mmengine only warns).
   Keys are written without the DDP segment, and such segments in older
   files are removed when loading.
3. **The trained networks load whole or not at all.** mmengine loads with
   ``strict=False`` and only warns about missing keys or shape mismatches,
   so a checkpoint of another architecture would leave a random student.
   When a checkpoint holds a network, all of its keys must be there with
   the right shapes, else loading stops naming them.
"""
import functools
from typing import Sequence

import torch.nn as nn
from mmengine.model import is_model_wrapper

from ...utils import StateDictFit, strip_wrapper_segment, unwrap_model

#: The networks that training changes and checkpoints must restore.
TRAINED = ('generator', 'generator_ema', 'discriminator')


class CheckpointLayout:
    """The ``state_dict`` hooks that apply the three rules above.

    A class (not closures) so that the model stays picklable.

    Args:
        frozen: dotted names of frozen, rebuildable submodules, e.g.
            ``['teacher', 'distiller.distill_losses.loss_lpips']``.
    """

    def __init__(self, frozen: Sequence[str]):
        self.frozen = tuple(frozen)

    def write(self, module: nn.Module, state_dict: dict, prefix: str,
              local_metadata: dict) -> None:
        """Rules 1 and 2 on ``module.state_dict()``'s result."""
        dropped = tuple(f'{prefix}{name}.' for name in self.frozen)
        for key in list(state_dict):
            if key.startswith(dropped):
                del state_dict[key]
        for name, child in module.named_children():
            if is_model_wrapper(child):
                strip_wrapper_segment(state_dict, f'{prefix}{name}.')

    def read(self, module: nn.Module, state_dict: dict, prefix: str,
             *args) -> None:
        """Rules 1 to 3 on the state dict about to be loaded."""
        for name, child in module.named_children():
            if isinstance(getattr(unwrap_model(child), 'module', None),
                          nn.Module):
                continue  # a real `module` child (EMA), not a DDP segment
            strip_wrapper_segment(state_dict, f'{prefix}{name}.')
        for name in self.frozen:
            current = module.get_submodule(name).state_dict(
                prefix=f'{prefix}{name}.')
            for key, value in current.items():
                state_dict.setdefault(key, value)
        for name in TRAINED:
            child = getattr(module, name, None)
            if child is None or not any(
                    k.startswith(f'{prefix}{name}.') for k in state_dict):
                continue
            fit = StateDictFit.compare(
                unwrap_model(child).state_dict(prefix=f'{prefix}{name}.'),
                state_dict)
            # the state dict's other keys belong to the other networks
            if fit.missing or fit.shape_mismatches:
                raise ValueError(
                    f'The checkpoint\'s {name} does not fit the config\'s '
                    f'(another architecture or resolution?): '
                    f'{fit.describe(unexpected=None)}.')


def attach_checkpoint_layout(model: nn.Module,
                             frozen: Sequence[str]) -> None:
    """Apply the three rules above to ``model``'s checkpoints.

    Args:
        model: the StyleKD model.
        frozen: dotted names of frozen, rebuildable submodules, e.g.
            ``['teacher', 'distiller.distill_losses.loss_lpips']``.
    """
    layout = CheckpointLayout(frozen)
    # a partial, not the bound method: torch marks state-dict hooks with an
    # attribute (`_from_public_api`), which bound methods cannot hold
    model.register_state_dict_post_hook(
        functools.partial(CheckpointLayout.write, layout))
    model.register_load_state_dict_pre_hook(layout.read)
