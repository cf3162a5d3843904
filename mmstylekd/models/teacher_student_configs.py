"""Build a config's teacher and student generators (tools and distillers).

Our configs follow MMRazor's convention: ``model.teacher`` is the teacher
generator's config, ``model.teacher_ckpt`` its checkpoint (path or URL; None
means random weights, with a loud warning), ``model.generator`` the student.
"""
import copy
import logging
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmagic.registry import MODELS
from .generator_checkpoint import load_generator_weights


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
