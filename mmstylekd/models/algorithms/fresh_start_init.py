"""The teacher-based initialisation of a fresh run, done once.

Pruning the teacher (content-aware pruning takes minutes for StyleGAN2-256
and much longer for StyleGAN3 on a CPU) and copying its mapping network and
discriminator is only needed when a run starts from nothing. A model built
to resume, to fine-tune (``load_from``), to test or to infer gets its student
from the checkpoint instead, so the initialisation waits for the first
training step and is cancelled as soon as a checkpoint holding the student
is loaded into the model.
"""
import logging
from typing import Optional

import torch.nn as nn
from mmengine.dist import broadcast
from mmengine.logging import print_log

from ...utils import StateDictFit, unwrap_model
from ..generator_checkpoint import load_generator_weights, read_checkpoint
from ..students import (check_student_init, fit_mapping_network,
                        init_student_from_teacher, refine_student)


class FreshStartInitialisation:
    """Initialise a StyleKD model's student from its teacher, once.

    Args:
        model: the StyleKD model (``generator``, ``generator_ema``,
            ``discriminator``, ``teacher``).
        student_init (dict, optional): arguments of
            :func:`init_student_from_teacher` (``criterion``,
            ``inherit_mapping``, ``inherit_synthesis``, ``fit_mapping``,
            ``seed``); ``freeze_mapping`` is applied by the model at build
            time (DDP must know which parameters train).
        student_ckpt (str, optional): load the student from this file
            (``tools/prune.py``'s output) instead of pruning; ``fit_mapping``
            of ``student_init`` still applies.
        teacher_ckpt (str, optional): the teacher's checkpoint, whose
            discriminator (when it has one that fits) initialises the
            model's.
    """

    def __init__(self, model: nn.Module, student_init: Optional[dict],
                 student_ckpt: Optional[str], teacher_ckpt: Optional[str]):
        self.student_init = None
        check_student_init(student_init)
        if student_init is not None:
            self.student_init = dict(student_init)
            self.student_init.pop('freeze_mapping', None)
        self.student_ckpt = student_ckpt
        self.discriminator_ckpt = teacher_ckpt
        self.pending = True
        model.register_load_state_dict_pre_hook(self._cancel_if_loaded)

    def _cancel_if_loaded(self, module, state_dict, prefix, *args) -> None:
        if any(k.startswith(f'{prefix}generator.') for k in state_dict):
            self.pending = False

    def __call__(self, model: nn.Module) -> None:
        """Initialise (first training step of a fresh run), then never."""
        if not self.pending:
            return
        self.pending = False
        student = unwrap_model(model.generator)
        if self.student_ckpt is not None:
            load_generator_weights(student, self.student_ckpt)
            print_log(f'Student loaded from {self.student_ckpt}',
                      logger='current')
            fit = (self.student_init or {}).get('fit_mapping')
            if fit is not None:
                fit_mapping_network(student, model.teacher, **dict(fit))
            self._refine_loaded_student(student)
        elif self.student_init is not None:
            init_student_from_teacher(student, model.teacher,
                                      **self.student_init)
        if model.discriminator is not None and \
                self.discriminator_ckpt is not None:
            self._load_teacher_discriminator(unwrap_model(model.discriminator))
        # Every rank initialised the same way; rank 0's result is the one
        # kept (GPU gradient sums may differ in their last bits).
        for module in (student, unwrap_model(model.discriminator)
                       if model.discriminator is not None else None):
            if module is not None:
                for tensor in module.state_dict().values():
                    broadcast(tensor, src=0)
                # no gradient of the initialisation (importance scores,
                # mapping fitting) may reach the training optimiser, which
                # would step frozen parameters that hold one
                module.zero_grad(set_to_none=True)
        if getattr(model, 'with_ema_gen', False):
            model.generator_ema.module.load_state_dict(student.state_dict())

    def _refine_loaded_student(self, student: nn.Module) -> None:
        """``student_init.refine`` on a ``student_ckpt``, unless the file
        was already refined (``tools/prune.py`` records it in ``meta``)."""
        refine = (self.student_init or {}).get('refine')
        if refine is None:
            return
        meta = read_checkpoint(self.student_ckpt).get('meta') or {}
        if meta.get('refine') == dict(refine):
            print_log(f'{self.student_ckpt} is already refined by '
                      f'{refine["type"]}.', logger='current')
            return
        changed = refine_student(student, refine)
        print_log(f'Student refined by {refine["type"]} ({changed}).',
                  logger='current')

    def _load_teacher_discriminator(self, discriminator: nn.Module) -> None:
        path = self.discriminator_ckpt
        state = read_checkpoint(path).get('state_dict', {})
        prefix = 'discriminator.'
        disc = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
        if not disc:
            reason = 'has no discriminator'
        elif not StateDictFit.compare(discriminator.state_dict(), disc).fits:
            reason = 'has a discriminator that does not fit the config\'s'
        else:
            discriminator.load_state_dict(disc)
            print_log(f'Discriminator initialised from {path}',
                      logger='current')
            return
        print_log(f'{path} {reason}: the discriminator starts from scratch.',
                  logger='current', level=logging.WARNING)
