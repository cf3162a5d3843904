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
from typing import Sequence

import torch.nn as nn
from mmengine.model import is_model_wrapper

#: The networks that training changes and checkpoints must restore.
TRAINED = ('generator', 'generator_ema', 'discriminator')


def _own_state(module: nn.Module, prefix: str) -> dict:
    module = module.module if is_model_wrapper(module) else module
    return module.state_dict(prefix=prefix)


def attach_checkpoint_layout(model: nn.Module,
                             frozen: Sequence[str]) -> None:
    """Apply the three rules above to ``model``'s checkpoints.

    Args:
        model: the StyleKD model.
        frozen: dotted names of frozen, rebuildable submodules, e.g.
            ``['teacher', 'distiller.distill_losses.loss_lpips']``.
    """
    frozen = tuple(frozen)

    def write(module, state_dict, prefix, local_metadata):
        dropped = tuple(f'{prefix}{name}.' for name in frozen)
        for key in list(state_dict):
            if key.startswith(dropped):
                del state_dict[key]
        for name, child in module.named_children():
            if not is_model_wrapper(child):
                continue
            wrapped = f'{prefix}{name}.module.'
            for key in [k for k in state_dict if k.startswith(wrapped)]:
                plain = f'{prefix}{name}.{key[len(wrapped):]}'
                state_dict[plain] = state_dict.pop(key)

    def read(module, state_dict, prefix, *args):
        for name, child in module.named_children():
            inner = child.module if is_model_wrapper(child) else child
            if isinstance(getattr(inner, 'module', None), nn.Module):
                continue  # a real `module` child (EMA), not a DDP segment
            wrapped = f'{prefix}{name}.module.'
            for key in [k for k in state_dict if k.startswith(wrapped)]:
                plain = f'{prefix}{name}.{key[len(wrapped):]}'
                state_dict[plain] = state_dict.pop(key)
        for name in frozen:
            current = module.get_submodule(name).state_dict(
                prefix=f'{prefix}{name}.')
            for key, value in current.items():
                state_dict.setdefault(key, value)
        for name in TRAINED:
            child = getattr(module, name, None)
            if child is None or not any(
                    k.startswith(f'{prefix}{name}.') for k in state_dict):
                continue
            own = _own_state(child, f'{prefix}{name}.')
            missing = [k for k in own if k not in state_dict]
            shapes = [
                f'{k}: checkpoint {tuple(state_dict[k].shape)}, model '
                f'{tuple(v.shape)}' for k, v in own.items()
                if k in state_dict and state_dict[k].shape != v.shape
            ]
            if missing or shapes:
                raise ValueError(
                    f'The checkpoint\'s {name} does not fit the config\'s '
                    f'(another architecture or resolution?): missing '
                    f'{missing[:5]}; shape mismatches {shapes[:5]}.')

    model.register_state_dict_post_hook(write)
    model.register_load_state_dict_pre_hook(read)
