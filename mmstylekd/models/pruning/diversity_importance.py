"""Diversity-aware channel importance (DCP-GAN, Chung et al., CVPR 2024).

"Diversity-aware Channel Pruning for StyleGAN Compression" scores a channel
by how differently it reacts to different latent perturbations: channels
whose gradient changes most from one perturbation direction to the next
are the ones that carry the variety of the outputs, and are kept.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmagic.registry import TASK_UTILS

from ..latent_inputs import injected_noise, w_from_z
from .architectures import PrunableArchitecture
from .importance import (BatchScoreSum, ChannelImportance,
                         batches_of_this_process, gradients_in_eval_mode,
                         sample_progress)


def principal_directions(w: torch.Tensor
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """PCA of sampled latents: unit directions and their variance shares.

    Each direction's sign is fixed so that its largest-magnitude entry is
    positive (PCA leaves the sign arbitrary; a fixed rule makes the scores
    reproducible).

    Args:
        w (Tensor): (N, C) latents.

    Returns:
        tuple[Tensor, Tensor]: directions (K, C), unit rows sorted by
        explained variance, K = min(N, C); their explained-variance ratios
        (K,), summing to 1.
    """
    w = w.double()
    _, sv, vh = torch.linalg.svd(w - w.mean(0), full_matrices=False)
    peak = vh.gather(1, vh.abs().argmax(1, keepdim=True))
    vh = vh * torch.where(peak < 0, -1.0, 1.0).to(vh)
    var = sv**2
    return vh.float(), (var / var.sum()).float()


@TASK_UTILS.register_module()
class DiversityAwareImportance(ChannelImportance):
    """Channels scored by their sensitivity to latent perturbations.

    Following DCP-GAN (Chung et al., CVPR 2024) and its official code
    (github.com/jiwoogit/DCP-GAN, ``diversity_aware_pruning.py``):

    1. principal directions of the teacher's w: PCA of the w of
       ``pca_samples`` z (seed ``seed``), with their explained-variance
       ratios;
    2. for each batch of ``batch_size`` z (generator seeded ``seed + 1``,
       drawn in this order per batch: z, the direction indices, the
       StyleGAN2 per-sample injected noise), ``num_directions`` directions
       d_k are drawn with replacement, with probability equal to their
       explained-variance ratio, and
       ``L_k = sum |stopgrad(G(w + strength * d_k)) - G(w)|``
       (L1 over the batch; StyleGAN2: each sample keeps its noise maps in
       both images and for every direction);
    3. ``g_k[c]`` = mean |dL_k / dW| over the weights that read channel c,
       i.e. the input-channel slice of the next layer's (equalised-lr,
       stored) weight: the next modulated conv, or the to-RGB layer after
       the last conv (StyleGAN3: the next ``SynthesisLayer``), as DCP-GAN
       and CAGAN score a channel;
    4. ``score[c] += sum_k (g_k[c] - mean_k g_k[c])^2`` (how much the
       gradient varies across the directions), summed over all batches.

    Differences from the official code, on purpose:

    - StyleGAN2: the official code draws fresh injected noise for every
      image (rosinality's ``randomize_noise=True``), so its difference
      image mixes the noise change into the latent change; here each
      sample's noise maps are drawn once and used for its original and
      all its perturbed images, so only w differs.
    - StyleGAN2: the official code's ``generator.requires_grad = False``
      sets a plain attribute, so its gradient also flows through the
      perturbed image; its StyleGAN3 code stops it, as the comment
      ("stop grad") intends. Here the perturbed image is detached for both
      families.
    - The original image's graph is built once per batch and reused for
      all directions (same gradients as one forward per direction).
    - PCA by SVD of the centred w (the official code: scikit-learn's full
      PCA), with a fixed sign rule; seeded ``torch.Generator`` instead of
      the global numpy/torch random state.
    - Scores are per root layer as torch-pruning prunes them (the constant
      input, every conv; StyleGAN3: the Fourier input and every layer
      before to-RGB); the official code scores the same channels through
      the same next-layer weights.
    - Defaults: 1000 samples (the official script uses 5000; its README
      says results are similar above 1000), batch 5, 10 directions,
      strength 5.0 and 10,000 w for the PCA, as the official code.

    Cost per batch: one forward pass with a graph, ``num_directions``
    without, and ``num_directions`` backward passes. For 256 px teachers
    score on a GPU (``tools/prune.py --device cuda``): on a CPU one batch
    of the defaults takes minutes. In a distributed run the batches are
    split between the processes and every process gets the scores of all
    of them (:mod:`.importance`); the PCA runs on every process.

    Args:
        num_samples (int): number of z whose perturbations are scored.
        batch_size (int): z per batch (one gradient per direction and
            batch, as the official code).
        num_directions (int): directions drawn per batch (the paper's N).
        strength (float): perturbation length (the paper's alpha).
        pca_samples (int): w sampled to fit the principal directions.
        seed (int): seed of the PCA latents (``seed``) and of everything
            drawn per batch (``seed + 1``).
    """

    def __init__(self,
                 num_samples: int = 1000,
                 batch_size: int = 5,
                 num_directions: int = 10,
                 strength: float = 5.0,
                 pca_samples: int = 10000,
                 seed: int = 0):
        super().__init__(seed)
        for name, value in (('num_samples', num_samples),
                            ('batch_size', batch_size),
                            ('num_directions', num_directions),
                            ('pca_samples', pca_samples)):
            if int(value) < 1:
                raise ValueError(f'DiversityAwareImportance: {name} must be '
                                 f'at least 1, got {value}.')
        self.num_samples = int(num_samples)
        self.batch_size = int(batch_size)
        self.num_directions = int(num_directions)
        self.strength = float(strength)
        self.pca_samples = int(pca_samples)

    def compute(self, generator, arch, roots):
        device = next(generator.parameters()).device
        directions, ratios = principal_directions(
            self._latents(generator, self.pca_samples).cpu())
        directions = directions.to(device)
        readers = {root: self._reader(arch, root) for _, root in roots}
        params = {root: arch.in_param(m) for root, m in readers.items()}
        sizes, mine = batches_of_this_process(self.num_samples,
                                              self.batch_size)
        scores = BatchScoreSum(
            {root: arch.out_weight(root).shape[0]
             for _, root in roots}, len(sizes))
        gen = torch.Generator().manual_seed(self.seed + 1)
        bar = sample_progress(sum(sizes[b] for b in mine))
        with gradients_in_eval_mode(generator, params.values()):
            # the batches before this process's are drawn (not scored) so
            # that every batch holds the same samples in any process
            for batch, n in enumerate(sizes[:mine.stop]):
                draws = self._draw(generator, n, ratios, gen)
                if batch not in mine:
                    continue
                grads = self._batch_gradients(generator, arch, readers,
                                              params, directions, *draws)
                # (K, C): spread of the gradient across the directions
                scores.add(batch, {
                    root: ((g - g.mean(0, keepdim=True))**2).sum(0)
                    for root, g in grads.items()
                })
                if bar is not None:
                    bar.update(n)
        return scores.total()

    def _draw(self, generator: nn.Module, n: int, ratios: torch.Tensor,
              gen: torch.Generator
              ) -> Tuple[torch.Tensor, torch.Tensor,
                         Optional[List[torch.Tensor]]]:
        """The random numbers of one batch of ``n`` samples, on the CPU, in
        the order drawn from ``gen``: z, the direction indices, the
        per-sample injected noise (StyleGAN2; None for StyleGAN3)."""
        z = torch.randn(n, generator.noise_size, generator=gen)
        picks = torch.multinomial(
            ratios, self.num_directions, replacement=True, generator=gen)
        noise = injected_noise(generator, n, gen, device=torch.device('cpu'))
        return z, picks, noise

    def _batch_gradients(self, generator: nn.Module,
                         arch: PrunableArchitecture,
                         readers: Dict[nn.Module, nn.Module],
                         params: Dict[nn.Module, nn.Parameter],
                         directions: torch.Tensor, z: torch.Tensor,
                         picks: torch.Tensor,
                         noise: Optional[List[torch.Tensor]]
                         ) -> Dict[nn.Module, torch.Tensor]:
        """Per-direction channel gradients for one batch of z.

        Returns:
            dict: {root: (num_directions, C_root)}.
        """
        device = directions.device
        if noise is not None:
            noise = [m.to(device) for m in noise]
        synthesise = self._synthesis_fn(generator, noise)
        with torch.no_grad():
            w = w_from_z(generator, z.to(device))
        with torch.enable_grad():
            img = synthesise(w)
        per_root: Dict[nn.Module, List[torch.Tensor]] = {
            root: []
            for root in readers
        }
        roots, tensors = list(params), list(params.values())
        for k, idx in enumerate(picks.tolist()):
            with torch.no_grad():
                img2 = synthesise(w + self.strength * directions[idx])
            with torch.enable_grad():
                loss = (img2 - img).abs().sum()
                grads = torch.autograd.grad(
                    loss, tensors, retain_graph=k < len(picks) - 1)
            for root, grad in zip(roots, grads):
                # (C_root, C_out_next * k * k) -> one value per channel
                columns = arch.in_columns(readers[root], grad.abs())
                per_root[root].append(columns.mean(1))
        return {root: torch.stack(g) for root, g in per_root.items()}

    @staticmethod
    def _synthesis_fn(generator: nn.Module,
                      noise: Optional[List[torch.Tensor]]):
        """w (n, C) -> images, with the per-sample injected ``noise``
        (StyleGAN2; None for StyleGAN3) used for every call."""
        if noise is None:  # StyleGAN3
            return lambda w: generator(w, input_is_latent=True)
        return lambda w: generator([w],
                                   input_is_latent=True,
                                   injected_noise=noise)
