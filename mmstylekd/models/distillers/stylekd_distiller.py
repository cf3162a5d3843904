"""The distiller: which recorded tensor feeds which argument of which loss.

As in MMRazor's ``ConfigurableDistiller``, losses stay plain registered
modules with ordinary arguments, and the wiring lives in config, so any loss
in MMagic's ``MODELS`` (``L1Loss``, ``MSELoss``, ``PerceptualLoss``, ours...)
can be mixed in.

Recorded tensors (per model, ``from_student=True/False``):

- ``images``: final images for the doubled batch [w; w'], (2B, 3, H, W);
- ``images_orig``: the first B of them (no latent shift);
- ``feats``: synthesis-block outputs for [w; w'], list of (2B, C, H, W);
- ``rgbs``: StyleGAN2's to-RGB (skip) outputs, list of (2B, 3, H_k, W_k);
- ``w``: the latent of each sample, (B, style_channels).
"""
from typing import Dict

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.model import BaseModule

RECORDS = ('images', 'images_orig', 'feats', 'rgbs', 'w')


@MODELS.register_module()
class StyleKDDistiller(BaseModule):
    """Distillation losses and their inputs.

    Args:
        distill_losses (dict): {name: loss config}; names start with
            ``loss_`` (MMagic sums and logs every ``loss*`` entry).
        loss_forward_mappings (dict): {name: {argument: dict(
            from_student=bool, recorder=one of RECORDS)}}.

    Example:
        >>> distiller = dict(
        ...     type='StyleKDDistiller',
        ...     distill_losses=dict(
        ...         loss_l1=dict(type='L1Loss', loss_weight=3.0)),
        ...     loss_forward_mappings=dict(loss_l1=dict(
        ...         pred=dict(from_student=True, recorder='images'),
        ...         target=dict(from_student=False, recorder='images'))))
    """

    def __init__(self, distill_losses: dict, loss_forward_mappings: dict):
        super().__init__()
        unmapped = set(distill_losses) ^ set(loss_forward_mappings)
        if unmapped:
            raise KeyError(f'Every distillation loss needs a forward mapping '
                           f'and vice versa; mismatched: {sorted(unmapped)}.')
        for name, mapping in loss_forward_mappings.items():
            if not name.startswith('loss'):
                raise ValueError(f'Loss name {name!r} must start with '
                                 '"loss" (MMagic only sums such entries).')
            for arg, spec in mapping.items():
                if spec.get('recorder') not in RECORDS or \
                        'from_student' not in spec:
                    raise ValueError(
                        f'{name}.{arg}: needs from_student and a recorder in '
                        f'{RECORDS}, got {dict(spec)}.')
        self.distill_losses = nn.ModuleDict(
            {name: MODELS.build(cfg)
             for name, cfg in distill_losses.items()})
        self.loss_forward_mappings = {
            name: {arg: dict(spec)
                   for arg, spec in mapping.items()}
            for name, mapping in loss_forward_mappings.items()
        }

    @property
    def needs(self) -> set:
        """The recorders some loss reads (others need not be recorded)."""
        return {
            spec['recorder']
            for mapping in self.loss_forward_mappings.values()
            for spec in mapping.values()
        }

    def forward(self, student_records: Dict[str, object],
                teacher_records: Dict[str, object]
                ) -> Dict[str, torch.Tensor]:
        """{loss name: weighted loss} for the recorded tensors."""
        losses = {}
        for name, loss in self.distill_losses.items():
            kwargs = {
                arg: (student_records if spec['from_student'] else
                      teacher_records)[spec['recorder']]
                for arg, spec in self.loss_forward_mappings[name].items()
            }
            losses[name] = loss(**kwargs)
        return losses
