"""The latent-direction (relation) distillation loss of StyleKD."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS


def relation_matrix(feats: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between original and shifted samples.

    Args:
        feats: (2B, ...) features; rows 0..B-1 come from w, rows B..2B-1 from
            the shifted w' = w + d of the same samples.

    Returns:
        Tensor: (B, B), ``S[i, j] = cos(f(w_i), f(w'_j))``.
    """
    if feats.shape[0] % 2:
        raise ValueError('Features must stack originals and shifted samples '
                         f'(an even batch), got {feats.shape[0]} rows.')
    flat = F.normalize(feats.flatten(1).float(), dim=1)
    half = flat.shape[0] // 2
    return flat[:half] @ flat[half:].T


@MODELS.register_module()
class LatentDirectionLoss(nn.Module):
    """StyleKD's latent-direction distillation loss (Xu et al., ECCV 2022).

    For each layer, the B x B cosine-similarity matrices between original
    and shifted features (:func:`relation_matrix`) of student and teacher are
    compared: KL(softmax(S_teacher) || softmax(S_student)) per row,
    ``batchmean`` over rows, or the MSE between the matrices; summed over
    layers and multiplied by ``loss_weight``.

    Args:
        loss_weight (float): weight (the paper: 30).
        mode (str): ``'kl'`` (default) or ``'mse'``.
        loss_name (str): name under which the loss is logged.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 mode: str = 'kl',
                 loss_name: str = 'loss_latent_direction'):
        super().__init__()
        if mode not in ('kl', 'mse'):
            raise ValueError(f"mode must be 'kl' or 'mse', got {mode!r}.")
        self.loss_weight = loss_weight
        self.mode = mode
        self._loss_name = loss_name

    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, student_feats: List[torch.Tensor],
                teacher_feats: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            student_feats: one tensor per layer, (2B, ...), the first B rows
                from w and the last B from w'.
            teacher_feats: the teacher's, same layout.

        Returns:
            Tensor: scalar loss.
        """
        if isinstance(student_feats, torch.Tensor):
            student_feats, teacher_feats = [student_feats], [teacher_feats]
        if len(student_feats) != len(teacher_feats):
            raise ValueError(f'{len(student_feats)} student layers vs '
                             f'{len(teacher_feats)} teacher layers.')
        total = 0.
        for s_feat, t_feat in zip(student_feats, teacher_feats):
            s_rel = relation_matrix(s_feat)
            t_rel = relation_matrix(t_feat).detach()
            if self.mode == 'kl':
                total = total + F.kl_div(
                    F.log_softmax(s_rel, dim=1),
                    F.softmax(t_rel, dim=1),
                    reduction='batchmean')
            else:
                total = total + F.mse_loss(s_rel, t_rel)
        return self.loss_weight * total
