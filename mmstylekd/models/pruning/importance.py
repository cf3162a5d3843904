"""Channel-importance criteria for pruning a StyleGAN teacher.

Each criterion is a ``torch_pruning.importance.Importance``: called on a
torch-pruning group it returns one score per channel of the group (higher is
kept). Scores are computed once by :meth:`ChannelImportance.prepare`, on the
unpruned teacher, so the result does not depend on the order in which groups
are pruned. Criteria are registered in MMagic's ``TASK_UTILS`` and chosen in
config, e.g. ``criterion=dict(type='StyleAwareImportance', num_samples=256)``.
"""
import importlib
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch_pruning as tp
from mmagic.registry import TASK_UTILS
from mmengine.utils import ProgressBar

from .architectures import PrunableArchitecture


class ChannelImportance(tp.importance.Importance):
    """Scores computed once per root layer, then looked up per group.

    Subclasses implement :meth:`compute` returning {root module: (C,)}.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._scores: Dict[nn.Module, torch.Tensor] = {}
        self._consumers: Dict[nn.Module, List[nn.Module]] = {}

    def prepare(self, generator: nn.Module, arch: PrunableArchitecture,
                roots: List[Tuple[str, nn.Module]],
                consumers: Dict[nn.Module, List[nn.Module]]) -> None:
        """Score every root's output channels on the unpruned generator.

        Args:
            generator: the teacher copy about to be pruned.
            arch: its architecture adapter.
            roots: (name, module) of the layers whose outputs are pruned.
            consumers: for each root, the layers whose input channels are
                pruned with it (from torch-pruning's groups).
        """
        self._consumers = consumers
        self._scores = {
            module: score.detach().float().cpu()
            for module, score in self.compute(generator, arch, roots).items()
        }

    def compute(self, generator: nn.Module, arch: PrunableArchitecture,
                roots: List[Tuple[str, nn.Module]]
                ) -> Dict[nn.Module, torch.Tensor]:
        """{root module: (C_out,) scores} on the unpruned generator."""
        raise NotImplementedError

    def __call__(self, group) -> torch.Tensor:
        root = group[0].dep.target.module
        idxs = torch.as_tensor(group[0].idxs, dtype=torch.long)
        return self._scores[root][idxs]

    def _latents(self, generator: nn.Module, num: int) -> torch.Tensor:
        """w for ``num`` seeded z, through the generator's mapping network.

        Returns:
            Tensor: (num, style_channels).
        """
        gen = torch.Generator().manual_seed(self.seed)
        device = next(generator.parameters()).device
        z = torch.randn(num, generator.noise_size, generator=gen).to(device)
        with torch.no_grad():
            if hasattr(generator, 'synthesis'):  # StyleGAN3
                return generator.style_mapping(z)[:, 0]
            return generator.style_mapping(z)


@TASK_UTILS.register_module()
class WeightL1Importance(ChannelImportance):
    """L1 norm of each output channel's weights (Li et al., 2017)."""

    def compute(self, generator, arch, roots):
        return {m: arch.out_weight(m).abs().sum(1) for _, m in roots}


@TASK_UTILS.register_module()
class StyleAwareImportance(ChannelImportance):
    """Weight magnitude times how strongly the styles drive the channel.

    ``score[c] = |W_root[c]|_1 * mean_consumers mean_w |s_consumer(w)[c]|``,
    where ``s_consumer(w)`` are the modulation styles that the next layers
    apply to channel c, averaged over ``num_samples`` seeded w.
    """

    def __init__(self, num_samples: int = 256, seed: int = 0):
        super().__init__(seed)
        self.num_samples = num_samples

    def compute(self, generator, arch, roots):
        w = self._latents(generator, self.num_samples)
        scores = {}
        with torch.no_grad():
            for _, root in roots:
                weight = arch.out_weight(root).abs().sum(1)
                styles = [
                    arch.styles(consumer, w)
                    for consumer in self._consumers.get(root, [])
                ]
                styles = [s.abs().mean(0) for s in styles if s is not None]
                if styles:
                    weight = weight * torch.stack(styles).mean(0)
                scores[root] = weight
        return scores


@TASK_UTILS.register_module()
class RandomImportance(ChannelImportance):
    """Seeded random scores (ablation baseline)."""

    def compute(self, generator, arch, roots):
        gen = torch.Generator().manual_seed(self.seed)
        return {
            m: torch.rand(arch.out_weight(m).shape[0], generator=gen)
            for _, m in roots
        }


MaskFn = Callable[[torch.Tensor], torch.Tensor]


def _resolve_mask_fn(mask_fn: Union[None, str, MaskFn]) -> Optional[MaskFn]:
    """Accept a callable or a dotted path ``'package.module.function'``."""
    if mask_fn is None or callable(mask_fn):
        return mask_fn
    module_name, _, attr = mask_fn.rpartition('.')
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(f'Cannot import mask function {mask_fn!r}: '
                         f'{err}') from err


@TASK_UTILS.register_module()
class ContentAwareImportance(ChannelImportance):
    """Gradient sensitivity of the teacher's output to each channel.

    In the spirit of CAGAN (Liu et al., CVPR 2021): for seeded z and a small
    latent perturbation z' = z + sigma * n, the content loss
    ``L = mean(m * (G(z) - G(z'))^2)`` (same injected noise; ``m`` from the
    optional mask function, e.g. a face-parsing mask, else 1) is
    back-propagated, and ``score[c]`` accumulates the L1 norm of dL/dW of
    output channel c over ``num_samples`` samples.

    Args:
        num_samples (int): number of z.
        batch_size (int): z per backward pass.
        sigma (float): latent perturbation scale.
        mask_fn (callable | str, optional): images (N, C, H, W) in the
            generator's range -> mask broadcastable to them.
        seed (int): seed of z and n.
    """

    def __init__(self,
                 num_samples: int = 64,
                 batch_size: int = 8,
                 sigma: float = 0.5,
                 mask_fn: Union[None, str, MaskFn] = None,
                 seed: int = 0):
        super().__init__(seed)
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.sigma = sigma
        self.mask_fn = _resolve_mask_fn(mask_fn)

    def compute(self, generator, arch, roots):
        gen = torch.Generator().manual_seed(self.seed)
        device = next(generator.parameters()).device
        params = {m: arch.out_param(m) for _, m in roots}
        scores = {
            m: torch.zeros(arch.out_weight(m).shape[0])
            for _, m in roots
        }
        was_training = generator.training
        generator.eval()
        # a frozen teacher copy still has to give gradients here
        flags = [(p, p.requires_grad) for p in params.values()]
        for param, _ in flags:
            param.requires_grad_(True)
        done = 0
        bar = ProgressBar(self.num_samples)
        while done < self.num_samples:
            n = min(self.batch_size, self.num_samples - done)
            z = torch.randn(n, generator.noise_size, generator=gen)
            z2 = z + self.sigma * torch.randn(z.shape, generator=gen)
            z, z2 = z.to(device), z2.to(device)
            with torch.enable_grad():
                img, img2 = self._generate_pair(generator, z, z2, gen)
            mask = self.mask_fn(img.detach()) if self.mask_fn else 1.0
            loss = (mask * (img - img2)**2).mean()
            with torch.enable_grad():
                grads = torch.autograd.grad(loss, list(params.values()))
            for module, grad in zip(params, grads):
                rows = arch.out_rows(module, grad.detach().abs())
                scores[module] += rows.sum(1).cpu()
            done += n
            for _ in range(n):
                bar.update()
        generator.train(was_training)
        for param, flag in flags:
            param.requires_grad_(flag)
        return scores

    @staticmethod
    def _generate_pair(generator, z, z2, gen):
        """Two images for z and z' with the same injected noise."""
        if hasattr(generator, 'synthesis'):  # StyleGAN3 has no injected noise
            return generator(z), generator(z2)
        noise = [
            torch.randn(1, 1, *b.shape[-2:], generator=gen).to(b.device)
            for b in (getattr(generator, f'injected_noise_{i}')
                      for i in range(generator.num_injected_noises))
        ]
        kwargs = dict(injected_noise=noise, return_noise=False)
        return generator([z], **kwargs), generator([z2], **kwargs)
