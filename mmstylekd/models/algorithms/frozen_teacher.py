"""The frozen teacher of a StyleKD model, kept as MMRazor keeps its teacher.

MMRazor's ``SingleTeacherDistill`` builds the teacher in the algorithm,
freezes it (``teacher_trainable=False``) and keeps it in eval mode however
the algorithm is switched. :class:`FrozenTeacherMixin` does the same for an
MMagic GAN model and records which teacher it is, so that checkpoints can be
checked against it (:class:`~..teacher_identity.TeacherIdentity`).
"""
from typing import Optional

from ..teacher_identity import TeacherIdentity
from ..teacher_student_configs import build_teacher


class FrozenTeacherMixin:
    """An ``nn.Module`` part that owns a frozen teacher and its identity.

    The teacher is the model's own ``teacher`` child (the MMagic generator)
    and its identity the ``teacher_identity`` child, so that checkpoints
    hold ``teacher_identity.path`` and ``teacher_identity.sha256`` (the
    teacher itself is left out, see :mod:`.checkpoint_layout`).
    """

    def build_frozen_teacher(self, teacher: dict, teacher_ckpt: Optional[str],
                             allow_other_teacher: bool) -> None:
        """Build the teacher (eval mode, no gradients) and its identity.

        Args:
            teacher: the teacher generator's config.
            teacher_ckpt: its checkpoint (path/URL); None for random
                weights (a loud warning).
            allow_other_teacher: let checkpoints distilled from another
                teacher load (a warning instead of an error).
        """
        self.teacher = build_teacher(teacher, teacher_ckpt)
        self.teacher_identity = TeacherIdentity.of(self.teacher, teacher_ckpt,
                                                   allow_other_teacher)

    def train(self, mode: bool = True):
        """``nn.Module.train`` for every child but the frozen teacher.

        The teacher never trains (no style mixing, no EMA updates). It is
        left as it is rather than switched back with ``eval()``: an MMagic
        StyleGAN2 generator logs every switch of its style mode, and MMagic's
        visualisation hook switches the model at every visualisation.

        Args:
            mode (bool): training (True) or evaluation (False) mode.

        Returns:
            nn.Module: the model itself.
        """
        teacher = self._modules.get('teacher')  # None while being built
        self.training = mode
        for child in self.children():
            if child is not teacher:
                child.train(mode)
        return self
