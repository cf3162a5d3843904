"""Closed-form latent directions of a StyleGAN teacher (SeFa-style).

StyleKD perturbs w along directions that change the teacher's output
semantically; they come from the style-affine (modulation) weights of the
synthesis blocks (Shen & Zhou, "Closed-Form Factorization of Latent
Semantics in GANs", CVPR 2021).
"""
from typing import List

import torch
import torch.nn as nn


def style_affine_weights(generator: nn.Module) -> List[torch.Tensor]:
    """Style-affine weights per synthesis block after the first.

    StyleGAN2: block k (8 px, 16 px, ...) stacks its two convs' modulation
    weights, ((C1 + C2), style_channels). StyleGAN3: one entry per synthesis
    layer L1, L2, ... (its affine weight, (C_in, style_channels)).
    """
    if hasattr(generator, 'synthesis'):
        syn = generator.synthesis
        return [
            getattr(syn, name).affine.weight.detach()
            for name in syn.layer_names[1:-1]
        ]
    convs = generator.convs
    return [
        torch.cat([
            convs[i].conv.style_modulation.linear.weight_orig.detach(),
            convs[i + 1].conv.style_modulation.linear.weight_orig.detach()
        ]) for i in range(0, len(convs), 2)
    ]


def _top_eigenvectors(columns: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k eigenvectors of A A^T for A (S, N) with unit-length columns.

    Returns:
        Tensor: (k, S), rows sorted by decreasing eigenvalue.
    """
    a = columns / columns.norm(dim=0, keepdim=True).clamp_min(1e-12)
    eigvals, eigvecs = torch.linalg.eigh(a.double() @ a.double().T)
    order = torch.argsort(eigvals, descending=True)[:k]
    return eigvecs[:, order].T.float()


def compute_latent_directions(generator: nn.Module,
                              num_blocks: int,
                              per_block: int = 5,
                              mode: str = 'split',
                              seed: int = 0) -> torch.Tensor:
    """Directions in w space for the latent-direction distillation loss.

    For each of the first ``num_blocks`` blocks after the 4x4 one (StyleGAN2;
    the official code uses 5: 8..128 px) the blocks' style-affine weights
    A = [A1; A2] ((C1+C2) x S) are transposed to S x (C1+C2), each column is
    normalised to unit length and the top eigenvectors of A A^T (S x S) are
    kept.

    Args:
        generator: the teacher (MMagic StyleGAN2/StyleGAN3 generator).
        num_blocks: how many blocks the directions come from.
        per_block: eigenvectors per block.
        mode: ``'split'`` (``per_block`` per block, stacked block by block),
            ``'global'`` (all blocks' columns pooled, top
            ``per_block * num_blocks``) or ``'random'`` (seeded Gaussian
            directions, for ablation).
        seed: seed of the random mode.

    Returns:
        Tensor: (K, style_channels), unit rows, K = per_block * num_blocks.
    """
    weights = style_affine_weights(generator)
    if not 1 <= num_blocks <= len(weights):
        raise ValueError(f'num_blocks must be in [1, {len(weights)}] for '
                         f'this generator, got {num_blocks}.')
    weights = weights[:num_blocks]
    style_channels = weights[0].shape[1]
    total = per_block * num_blocks
    if mode == 'split':
        directions = torch.cat(
            [_top_eigenvectors(w.T, per_block) for w in weights])
    elif mode == 'global':
        directions = _top_eigenvectors(torch.cat(weights).T, total)
    elif mode == 'random':
        gen = torch.Generator().manual_seed(seed)
        directions = torch.randn(total, style_channels, generator=gen)
        directions = directions / directions.norm(dim=1, keepdim=True)
    else:
        raise ValueError(f"mode must be 'split', 'global' or 'random', got "
                         f'{mode!r}.')
    return directions.contiguous()
