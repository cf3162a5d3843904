"""Initialise a student generator from its teacher (the paper's piece 1)."""
import inspect
import logging
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from ..pruning import architecture_of, copy_generator, prune_generator
from .mapping_fitting import fit_mapping_network
from .refinements import refine_student


def student_widths(student: nn.Module):
    """The student's ``channels`` (StyleGAN2 dict / StyleGAN3 list)."""
    if hasattr(student, 'synthesis'):
        return list(student.synthesis.channels)
    return dict(student.channels)


def init_student_from_teacher(student: nn.Module,
                              teacher: nn.Module,
                              criterion: Optional[dict] = None,
                              inherit_mapping: bool = True,
                              inherit_synthesis: bool = True,
                              fit_mapping: Optional[dict] = None,
                              refine: Optional[dict] = None,
                              seed: int = 0,
                              device: Union[None, str,
                                            torch.device] = None) -> dict:
    """Copy the teacher's weights into a student built from config.

    Synthesis: the teacher is pruned (torch-pruning, ``criterion``) to the
    student's widths and the kept channels' weights are copied; with
    ``inherit_synthesis=False`` the student keeps its random init (ablation).
    Mapping network: copied unchanged (StyleGAN3: with its ``w_avg``), or left
    re-initialised (ablation). A student whose mapping network differs from
    the teacher's (fewer layers) is fitted to it instead:
    ``fit_mapping=dict(iters=..., lr=...)`` (:func:`fit_mapping_network`).
    Freezing the mapping network is the training model's business
    (``student_init.freeze_mapping`` of the StyleKD models).

    In a distributed run every process must call it with the same
    arguments: the content-aware and diversity-aware criteria share their
    samples out between the processes and all-reduce the scores, so that
    every process prunes the teacher the same way, each doing 1/N of the
    scoring.

    Args:
        student: a ``StyleGAN2StudentGenerator``/``StyleGAN3StudentGenerator``.
        teacher: the teacher generator (not modified).
        criterion: importance config, default ``WeightL1Importance``.
        refine: a refinement of the initialised student's weights
            (:mod:`.refinements`, e.g. ``dict(type='SingularValueScaling')``),
            applied last, after pruning, inheritance and mapping fitting.
        seed: seed of the criterion's and the tracing's random draws.
        device: where the teacher copy is scored and pruned (default: the
            teacher's device; a GPU makes content-aware criteria fast).

    Returns:
        dict: ``kept`` (teacher channel indices per layer), ``criterion``,
        ``channels`` (student widths), ``inherit_mapping``,
        ``inherit_synthesis``.
    """
    report = dict(
        channels=student_widths(student),
        inherit_mapping=inherit_mapping,
        inherit_synthesis=inherit_synthesis,
        criterion=criterion or dict(type='WeightL1Importance'),
        kept=None)
    if inherit_synthesis:
        if device is None:
            device = next(teacher.parameters()).device
        result = prune_generator(
            copy_generator(teacher).to(device),
            channels=report['channels'],
            criterion=report['criterion'],
            seed=seed)
        state = architecture_of(teacher).rename_state_dict(
            result.generator.state_dict(), student)
        synthesis_state = {
            k: v
            for k, v in state.items() if not k.startswith('style_mapping.')
        }
        incompatible = student.load_state_dict(synthesis_state, strict=False)
        wrong = [k for k in incompatible.missing_keys
                 if not k.startswith('style_mapping.')]
        if wrong or incompatible.unexpected_keys:
            raise RuntimeError(
                'Pruned teacher does not match the student architecture: '
                f'missing {wrong[:5]}, unexpected '
                f'{incompatible.unexpected_keys[:5]}.')
        report['kept'] = result.kept
    if fit_mapping is not None:
        report['mapping_fit'] = fit_mapping_network(student, teacher,
                                                    **dict(fit_mapping))
        print_log(f'Student mapping network fitted to the teacher\'s: '
                  f'{report["mapping_fit"]}', logger='current')
    elif inherit_mapping:
        teacher_mapping = teacher.style_mapping.state_dict()
        student_mapping = student.style_mapping.state_dict()
        mismatch = [
            k for k in set(student_mapping) | set(teacher_mapping)
            if k not in teacher_mapping or k not in student_mapping
            or teacher_mapping[k].shape != student_mapping[k].shape
        ]
        if mismatch:
            raise ValueError(
                'The student mapping network differs from the teacher\'s '
                f'({mismatch[:3]}); it cannot be inherited. Fit it to the '
                'teacher instead (student_init.fit_mapping=dict(iters=...)) '
                'or set inherit_mapping=False.')
        student.style_mapping.load_state_dict(teacher_mapping)
    mapping = 'fitted' if fit_mapping is not None else \
        'inherited' if inherit_mapping else 're-initialised'
    refined = ''
    if refine is not None:
        report['refine'] = dict(refine)
        changed = refine_student(student, refine)
        refined = f', refined by {refine["type"]} ({changed})'
    print_log(
        f'Student initialised from teacher: widths {report["channels"]}, '
        f'criterion {report["criterion"]["type"]}, mapping {mapping}'
        f'{refined}.',
        logger='current',
        level=logging.INFO)
    return report


def check_student_init(student_init: Optional[dict]) -> None:
    """Stop on a ``model.student_init`` key that nothing reads.

    The keys are the arguments of :func:`init_student_from_teacher` (but
    the networks themselves) and ``freeze_mapping``, which the StyleKD models
    apply.

    Raises:
        ValueError: naming the unknown keys and the accepted ones.
    """
    accepted = [
        name for name in inspect.signature(init_student_from_teacher)
        .parameters if name not in ('student', 'teacher')
    ] + ['freeze_mapping']
    unknown = sorted(set(student_init or {}) - set(accepted))
    if unknown:
        raise ValueError(
            f'model.student_init has unknown key(s) {unknown}; the accepted '
            f'keys are {accepted}.')
