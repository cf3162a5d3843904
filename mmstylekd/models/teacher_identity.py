"""Which teacher a run was distilled from, written into its checkpoints.

Checkpoints leave the frozen teacher out (it is rebuilt from
``model.teacher_ckpt``), so without a record a resumed run, a test or an
export would silently use whatever teacher the config names now, or a
random one. :class:`TeacherIdentity` is a tiny submodule of the StyleKD
model whose state is the teacher checkpoint's path (or URL) and the SHA-256
of the teacher generator's weights as loaded (:func:`weights_fingerprint`);
loading a checkpoint into a model whose teacher differs stops with both
named. Tools that read checkpoints directly compare with
:func:`check_recorded_teacher`.

The two fields are stored as uint8 tensors (``teacher_identity.path``,
``teacher_identity.sha256``) rather than as a module's extra state: mmengine
moves every state-dict value to the CPU with ``.cpu()`` when saving, and
``weights_only`` loading reads tensors without any extra safe global.
"""
import hashlib
import logging
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .generator_checkpoint import read_checkpoint

#: How the user says "go on with another teacher" in each kind of entry
#: point: tools take the flag, configs the model argument.
OVERRIDE_HINT = ('pass --allow-other-teacher to the tool (or set '
                 'model.allow_other_teacher=True) to go on anyway')


class TeacherMismatchError(ValueError):
    """A checkpoint was distilled from another teacher than the current."""


def weights_fingerprint(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict: names, dtypes, shapes and bytes, in order.

    Args:
        state: a generator's ``state_dict`` (any dtype, any device).

    Returns:
        str: 64 hexadecimal digits; equal for equal weights wherever they
        were loaded from.
    """
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'
                      .encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _describe(path: Optional[str], sha256: Optional[str]) -> str:
    if sha256 is None:
        return 'a teacher with random weights (teacher_ckpt=None)'
    return f'{path} (weights sha256 {sha256[:16]}...)'


def _encode(text: Optional[str]) -> torch.Tensor:
    return torch.tensor(list((text or '').encode('utf-8')), dtype=torch.uint8)


def _decode(tensor: torch.Tensor) -> Optional[str]:
    if not torch.is_tensor(tensor) or tensor.dtype != torch.uint8 or \
            tensor.dim() != 1:
        raise ValueError('teacher_identity entries must be 1-D uint8 '
                         f'tensors, got {type(tensor).__name__}')
    text = bytes(tensor.tolist()).decode('utf-8', errors='replace')
    return text or None


def recorded_teacher(state_dict: Mapping[str, object],
                     prefix: str = 'teacher_identity.'
                     ) -> Optional[Dict[str, Optional[str]]]:
    """The teacher a checkpoint's model state records, or None if none.

    Args:
        state_dict: the checkpoint's ``state_dict`` (a model state).
        prefix: where the identity sits in it.

    Returns:
        dict or None: ``path`` and ``sha256`` (both None for a random
        teacher); None for checkpoints written before the record existed.
    """
    if f'{prefix}sha256' not in state_dict:
        return None
    return dict(path=_decode(state_dict.get(f'{prefix}path', _encode(None))),
                sha256=_decode(state_dict[f'{prefix}sha256']))


def compare_teachers(recorded: Mapping[str, Optional[str]],
                     current: Mapping[str, Optional[str]], source: str,
                     allow_other_teacher: bool = False) -> None:
    """Stop when the checkpoint was distilled from another teacher.

    Args:
        recorded: ``path``/``sha256`` from the checkpoint.
        current: ``path``/``sha256`` of the teacher in use now.
        source: the checkpoint, for the message.
        allow_other_teacher: warn instead of stopping.

    Raises:
        TeacherMismatchError: naming both teachers, unless allowed.
    """
    if recorded['sha256'] == current['sha256']:
        if recorded['path'] != current['path']:
            print_log(f'{source} was distilled from {recorded["path"]}; the '
                      f'same weights now come from {current["path"]}.',
                      logger='current')
        return
    message = (f'{source} was distilled from {_describe(**recorded)}, but '
               f'the teacher now is {_describe(**current)}')
    if not allow_other_teacher:
        raise TeacherMismatchError(f'{message}: {OVERRIDE_HINT}.')
    print_log(f'{message}; going on as asked (allow_other_teacher).',
              logger='current', level=logging.WARNING)


def check_recorded_teacher(checkpoint: Mapping[str, object],
                           current: Mapping[str, Optional[str]],
                           source: str,
                           allow_other_teacher: bool = False) -> None:
    """:func:`compare_teachers` for a checkpoint read from a file.

    Files without a record (``tools/prune.py`` outputs, older training
    checkpoints) pass with a log line.
    """
    recorded = recorded_teacher(checkpoint.get('state_dict', checkpoint))
    if recorded is None:
        print_log(f'{source} records no teacher: it cannot be checked '
                  'against the current one.', logger='current')
        return
    compare_teachers(recorded, current, source, allow_other_teacher)


def check_student_teacher(student_path: str, teacher: nn.Module,
                          teacher_path: Optional[str],
                          allow_other_teacher: bool = False,
                          allow_random_teacher: bool = False) -> None:
    """Before comparing a student with a teacher: is it its teacher?

    Args:
        student_path: the student's checkpoint (read again here).
        teacher: the teacher built from ``teacher_path``.
        teacher_path: its checkpoint; None for random weights.
        allow_other_teacher: go on when the student records another one.
        allow_random_teacher: go on with a random teacher.

    Raises:
        TeacherMismatchError: random teacher or another teacher, not
            allowed.
    """
    if teacher_path is None and not allow_random_teacher:
        raise TeacherMismatchError(
            'No teacher checkpoint (model.teacher_ckpt=None and no '
            '--teacher-checkpoint): the teacher would have random weights '
            'and the figures would compare the student with noise. Give the '
            'teacher or add --allow-random-teacher.')
    check_recorded_teacher(read_checkpoint(student_path),
                           TeacherIdentity.of(teacher, teacher_path).identity,
                           student_path, allow_other_teacher)


class TeacherIdentity(nn.Module):
    """The teacher's checkpoint path and weight hash, as checkpoint state.

    Args:
        path: the teacher checkpoint's path or URL; None for random
            weights.
        sha256: :func:`weights_fingerprint` of the loaded teacher; None for
            random weights.
        allow_other_teacher: let a checkpoint of another teacher load (a
            warning instead of an error).
    """

    def __init__(self, path: Optional[str], sha256: Optional[str],
                 allow_other_teacher: bool = False):
        super().__init__()
        self.identity = dict(path=path if sha256 else None, sha256=sha256)
        self.allow_other_teacher = allow_other_teacher

    @classmethod
    def of(cls, teacher: nn.Module, path: Optional[str],
           allow_other_teacher: bool = False) -> 'TeacherIdentity':
        """The identity of a teacher built from ``path`` (None: random)."""
        sha256 = None if path is None else weights_fingerprint(
            teacher.state_dict())
        return cls(path, sha256, allow_other_teacher)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        destination[f'{prefix}path'] = _encode(self.identity['path'])
        destination[f'{prefix}sha256'] = _encode(self.identity['sha256'])

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        recorded = recorded_teacher(state_dict, prefix)
        if recorded is None:
            print_log('The checkpoint records no teacher (written before '
                      'mmstylekd recorded it): it cannot be checked against '
                      f'{_describe(**self.identity)}.',
                      logger='current', level=logging.WARNING)
            return
        compare_teachers(recorded, self.identity, 'The checkpoint',
                         self.allow_other_teacher)

    def extra_repr(self) -> str:
        return _describe(**self.identity)
