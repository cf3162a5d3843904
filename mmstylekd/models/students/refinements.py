"""Refinements of a pruned student's weights before fine-tuning.

``model.student_init.refine = dict(type=...)`` names one; it runs after
pruning and mapping inheritance, in the training run's fresh-start
initialisation and in ``tools/prune.py`` alike. The registry keeps the next
such method one class: a callable that changes the student in place and
returns a short report.
"""
import math
from typing import Dict, Iterator, Tuple

import torch
import torch.nn as nn
from mmengine.registry import Registry

#: Student-initialisation refinements (``student_init.refine``).
STUDENT_REFINEMENTS = Registry(
    'student refinement', scope='mmstylekd',
    locations=['mmstylekd.models.students.refinements'])


def _synthesis_parameters(student: nn.Module
                          ) -> Iterator[Tuple[str, nn.Parameter, bool]]:
    """(name, stored parameter, is to-RGB) of the synthesis network.

    StyleGAN2 (MMagic layout): everything outside ``style_mapping``; the
    to-RGB layers are ``to_rgb1`` and ``to_rgbs``. StyleGAN3: ``synthesis``;
    the to-RGB layer is the last of ``synthesis.layer_names``.
    """
    synthesis = getattr(student, 'synthesis', None)
    if synthesis is not None and hasattr(synthesis, 'layer_names'):
        torgb = f'{synthesis.layer_names[-1]}.'
        for name, param in synthesis.named_parameters():
            yield f'synthesis.{name}', param, name.startswith(torgb)
        return
    for name, param in student.named_parameters():
        if not name.startswith('style_mapping.'):
            yield name, param, name.startswith(('to_rgb1.', 'to_rgbs.'))


@STUDENT_REFINEMENTS.register_module()
class SingularValueScaling:
    """Singular Value Scaling (Kim and Yoo, AAAI 2025, arXiv 2412.17387).

    For every weight of the synthesis network (to-RGB layers only with
    ``include_torgb``): reshape it to (out, in * k * k) (a dense weight
    as is), take W = U S V^T and store U sqrt(S) V^T; every bias b becomes
    b / sqrt(||b|| + eps). As in the official StyleGAN2 code, "weight" is
    the stored parameter: MMagic's ``weight_orig`` of equalised-lr layers
    (the run-time gain applies afterwards, as NVlabs' does), StyleGAN3's
    ``weight``; the style (affine) layers are included. Parameters that are
    neither matrices nor biases are left alone: StyleGAN2's constant input
    and its noise strengths (``noise_injector.weight``, shape (1,), NVlabs'
    ``noise_strength``). The mapping network is never touched.

    The official StyleGAN3 script scales the to-RGB layer too (it has no
    to-RGB exclusion); ``include_torgb=True`` reproduces that.

    Args:
        include_torgb: also scale the to-RGB layers.
        eps: added to ||b|| before the square root (official: 1e-8).
    """

    def __init__(self, include_torgb: bool = False, eps: float = 1e-8):
        self.include_torgb = bool(include_torgb)
        self.eps = float(eps)

    @staticmethod
    def scale_matrix(weight: torch.Tensor) -> torch.Tensor:
        """U sqrt(S) V^T of ``weight`` seen as (out, rest), same shape.

        MMagic's StyleGAN2 convolutions store (1, out, in, k, k); the leading
        1 is not an output dimension.
        """
        shape = weight.shape
        if weight.dim() == 5 and shape[0] == 1:
            matrix = weight.reshape(shape[1], -1)
        else:
            matrix = weight.reshape(shape[0], -1)
        u, s, vh = torch.linalg.svd(matrix.double(), full_matrices=False)
        scaled = (u * s.sqrt()) @ vh
        return scaled.reshape(shape).to(weight.dtype)

    def __call__(self, student: nn.Module) -> Dict[str, int]:
        """Scale ``student``'s synthesis weights and biases in place.

        Returns:
            dict: how many ``weights`` and ``biases`` were changed.
        """
        report = dict(weights=0, biases=0)
        with torch.no_grad():
            for name, param, is_torgb in _synthesis_parameters(student):
                if is_torgb and not self.include_torgb:
                    continue
                leaf = name.rsplit('.', 1)[-1]
                if leaf in ('weight', 'weight_orig') and param.dim() >= 2:
                    param.copy_(self.scale_matrix(param))
                    report['weights'] += 1
                elif leaf == 'bias':
                    norm = param.double().norm().item()
                    param.mul_(1 / math.sqrt(norm + self.eps))
                    report['biases'] += 1
        return report


def refine_student(student: nn.Module, refine: dict) -> Dict[str, int]:
    """Build the refinement ``refine`` (a config dict) and apply it."""
    # Registry.build would, under MMagic's default scope, look for an
    # 'mmagic' child of this registry and log a warning that there is none
    args = dict(refine)
    refinement = STUDENT_REFINEMENTS.get(args.pop('type', None))
    if refinement is None:
        raise KeyError(f'{refine.get("type")!r} is not a student refinement; '
                       f'known: {sorted(STUDENT_REFINEMENTS.module_dict)}')
    return refinement(**args)(student)
