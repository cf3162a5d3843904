"""Channel-importance criteria for pruning a StyleGAN teacher.

Each criterion is a ``torch_pruning.importance.Importance``: called on a
torch-pruning group it returns one score per channel of the group (higher is
kept). Scores are computed once by :meth:`ChannelImportance.prepare`, on the
unpruned teacher, so the result does not depend on the order in which groups
are pruned. Criteria are registered in MMagic's ``TASK_UTILS`` and chosen in
config, e.g. ``criterion=dict(type='StyleAwareImportance', num_samples=256)``.
"""
import contextlib
import importlib
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch_pruning as tp
from mmagic.registry import TASK_UTILS
from mmengine.dist import is_main_process
from mmengine.utils import ProgressBar

from ..latent_inputs import injected_noise, w_from_z
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

    def _reader(self, arch: PrunableArchitecture,
                root: nn.Module) -> nn.Module:
        """The layer whose input-channel weights score ``root``'s channels:
        the next conv, else (after the last conv) the to-RGB layer."""
        consumers = self._consumers.get(root)
        if not consumers:
            raise RuntimeError(
                f'{type(self).__name__} scores a channel through the layer '
                'that reads it; call prepare() with the consumers of every '
                'root (prune_generator does).')
        return arch.main_consumer(consumers)

    def _latents(self, generator: nn.Module, num: int) -> torch.Tensor:
        """w for ``num`` seeded z, through the generator's mapping network.

        Returns:
            Tensor: (num, style_channels).
        """
        gen = torch.Generator().manual_seed(self.seed)
        device = next(generator.parameters()).device
        z = torch.randn(num, generator.noise_size, generator=gen).to(device)
        with torch.no_grad():
            return w_from_z(generator, z)


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


@contextlib.contextmanager
def gradients_in_eval_mode(generator: nn.Module, params):
    """Eval mode, with gradients for ``params`` even when they belong to a
    frozen teacher copy; both are restored on exit, also after an error."""
    was_training = generator.training
    flags = [(p, p.requires_grad) for p in params]
    generator.eval()
    for param, _ in flags:
        param.requires_grad_(True)
    try:
        yield
    finally:
        generator.train(was_training)
        for param, flag in flags:
            param.requires_grad_(flag)


def sample_progress(total: int) -> Optional[ProgressBar]:
    """An mmengine ProgressBar over ``total`` samples, on rank 0 only."""
    return ProgressBar(total) if is_main_process() else None


@TASK_UTILS.register_module()
class ContentAwareImportance(ChannelImportance):
    """CAGAN's content-aware channel importance (Liu et al., CVPR 2021).

    As the official CAGAN code (``Util/content_aware_pruning.py``) does: for
    each batch of seeded z, the generator's image G(z) (per-sample injected
    noise) is copied and, inside the content mask, each pixel is replaced
    with probability ``noise_prob`` by salt-and-pepper noise (-1 or +1, all
    colour channels); the L1 distance between the noisy copy and G(z),
    ``sum |noisy - G(z)|`` (only the replaced pixels count), is
    back-propagated. A channel's score is the mean ``|dL/dW|`` of the
    weights that read it in the next convolution of the main path (mean
    over output channels and kernel), summed over batches.

    Differences from CAGAN: CAGAN's mask is a BiSeNet face parsing
    (everything but background and clothes), which is not bundled here:
    pass it as ``mask_fn``; without one the whole image is the content.
    CAGAN scores the output of the last convolution through the last to-RGB
    layer and every other channel through the convolution that follows it;
    so do we, also for StyleGAN3 (its next synthesis layer).

    Args:
        num_samples (int): number of z (CAGAN: 400).
        batch_size (int): z per backward pass (CAGAN: 10).
        noise_prob (float): probability that a content pixel is replaced
            (CAGAN: 0.05).
        mask_fn (callable | str, optional): images (N, C, H, W) in the
            generator's range -> content mask broadcastable to (N, 1, H, W)
            (true or > 0.5 inside the content).
        seed (int): seed of z, the injected noise and the salt and pepper.
    """

    def __init__(self,
                 num_samples: int = 400,
                 batch_size: int = 10,
                 noise_prob: float = 0.05,
                 mask_fn: Union[None, str, MaskFn] = None,
                 seed: int = 0):
        super().__init__(seed)
        if not 0 < noise_prob <= 1:
            raise ValueError(f'noise_prob must be in (0, 1], got '
                             f'{noise_prob}.')
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.noise_prob = noise_prob
        self.mask_fn = _resolve_mask_fn(mask_fn)

    def compute(self, generator, arch, roots):
        rng = torch.Generator().manual_seed(self.seed)
        device = next(generator.parameters()).device
        readers = {root: self._reader(arch, root) for _, root in roots}
        params = {root: arch.in_param(reader)
                  for root, reader in readers.items()}
        scores = {root: torch.zeros(p.shape[0]) for root, p in
                  ((r, arch.in_columns(readers[r], params[r]))
                   for r in params)}
        bar = sample_progress(self.num_samples)
        with gradients_in_eval_mode(generator, params.values()):
            for start in range(0, self.num_samples, self.batch_size):
                n = min(self.batch_size, self.num_samples - start)
                z = torch.randn(n, generator.noise_size, generator=rng)
                with torch.enable_grad():
                    images = self._generate(generator, z.to(device), rng)
                    noisy = self._salt_and_pepper(images.detach(), rng)
                    loss = (noisy - images).abs().sum()
                    grads = torch.autograd.grad(loss, list(params.values()))
                for root, grad in zip(params, grads):
                    columns = arch.in_columns(readers[root], grad.abs())
                    scores[root] += columns.mean(1).cpu()
                if bar is not None:
                    bar.update(n)
        return scores

    def _salt_and_pepper(self, images: torch.Tensor,
                         rng: torch.Generator) -> torch.Tensor:
        """Copy of ``images`` (N, C, H, W) with content pixels replaced."""
        n, _, h, w = images.shape
        replace = torch.rand(n, 1, h, w, generator=rng) < self.noise_prob
        salt = torch.randint(0, 2, (n, 1, h, w), generator=rng) * 2. - 1
        replace, salt = replace.to(images.device), salt.to(images)
        if self.mask_fn is not None:
            mask = self.mask_fn(images)
            replace = replace & (mask > 0.5 if mask.is_floating_point()
                                 else mask.bool())
        return torch.where(replace, salt, images)

    @staticmethod
    def _generate(generator, z, rng):
        """G(z) with per-sample injected noise drawn from ``rng``."""
        noise = injected_noise(generator, z.shape[0], rng)
        if noise is None:  # StyleGAN3
            return generator(z)
        return generator([z], injected_noise=noise, return_noise=False)
