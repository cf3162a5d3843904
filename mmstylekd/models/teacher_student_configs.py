"""Build a config's teacher and student generators (tools and distillers).

Our configs follow MMRazor's convention: ``model.teacher`` is the teacher
generator's config, ``model.teacher_ckpt`` its checkpoint (path or URL; None
means random weights, with a loud warning), ``model.generator`` the student.
"""
import copy
import logging
from typing import Optional, Tuple

import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from .generator_checkpoint import (extract_generator_state,
                                   load_generator_weights, read_checkpoint)


def generator_configs(cfg: Config) -> Tuple[dict, dict]:
    """(teacher config, student config) of a config's ``model``."""
    model = cfg.model
    if 'teacher' not in model:
        raise KeyError('The config has no `model.teacher` (the teacher '
                       'generator config); is it an mmstylekd config?')
    return copy.deepcopy(model.teacher), copy.deepcopy(model.generator)


def _plain(cfg):
    return cfg.to_dict() if isinstance(cfg, ConfigDict) else dict(cfg)


def build_teacher(teacher_cfg: dict,
                  checkpoint: Optional[str] = None) -> nn.Module:
    """Build the teacher generator and load its weights.

    Args:
        teacher_cfg: generator config (MMagic ``MODELS``).
        checkpoint: path or URL of an MMagic checkpoint (``generator_ema.``
            keys, also ``generator_ema.module.``) or a bare generator state
            dict. None: random weights, with a warning.
    """
    teacher = MODELS.build(_plain(teacher_cfg))
    if checkpoint is None:
        print_log(
            'No teacher checkpoint given (model.teacher_ckpt=None): the '
            'TEACHER HAS RANDOM WEIGHTS. Distilling it is only useful for '
            'testing the pipeline.',
            logger='current',
            level=logging.WARNING)
    else:
        load_generator_weights(teacher, checkpoint)
        print_log(f'Teacher weights loaded from {checkpoint}',
                  logger='current')
    return teacher.eval().requires_grad_(False)


def build_student(student_cfg: dict) -> nn.Module:
    """Build the student generator from its config alone."""
    return MODELS.build(_plain(student_cfg))


def build_student_from_checkpoint(student_cfg: dict, path: str) -> nn.Module:
    """Build a student and load its weights from a checkpoint.

    A checkpoint written by ``tools/prune.py`` records the student's config
    (``meta.student_cfg``), which is used when present; otherwise
    ``student_cfg``. Weights: the EMA generator when the file has one.
    """
    checkpoint = read_checkpoint(path)
    recorded = (checkpoint.get('meta') or {}).get('student_cfg')
    student = build_student(recorded or student_cfg)
    state = extract_generator_state(checkpoint, path)
    try:
        student.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f'{path} does not fit the student generator of the '
                         f'config: {err}') from err
    return student
