"""Channel-importance criteria for pruning a StyleGAN teacher.

Each criterion is a ``torch_pruning.importance.Importance``: called on a
torch-pruning group it returns one score per channel of the group (higher is
kept). Scores are computed once by :meth:`ChannelImportance.prepare`, on the
unpruned teacher, so the result does not depend on the order in which groups
are pruned. Criteria are registered in MMagic's ``TASK_UTILS`` and chosen in
config, e.g. ``criterion=dict(type='StyleAwareImportance', num_samples=256)``.

In a distributed run (an initialised ``torch.distributed`` process group,
e.g. the first iteration of ``tools/dist_train.sh``) every process must
prune, with the same criterion. The criteria that back-propagate samples
(content-aware, diversity-aware) then split their batches between the
processes: each scores its own block of batches, the per-batch scores are
all-reduced, and every process sums them in batch order. Batch b holds the
same samples (z, injected noise, salt and pepper, directions) whatever the
number of processes, as every process draws the random numbers of the
batches before its own ones in order, so N processes score the samples of a
single-process run, each 1/N of them, and all get the same scores: those
of one process on the same device (bit for bit where its kernels are
deterministic, e.g. on a CPU with the same number of threads). The
style-aware criterion and the PCA of the diversity-aware one (one batched
pass of the mapping network, no backward) run in full on every process.
"""
import contextlib
import importlib
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch_pruning as tp
from mmagic.registry import TASK_UTILS
from mmengine.dist import all_reduce, get_dist_info, is_main_process
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


def batches_of_this_process(num_samples: int,
                            batch_size: int) -> Tuple[List[int], range]:
    """Sizes of the batches of ``num_samples`` and the ones this process
    scores.

    Batch b holds samples ``b * batch_size`` up to ``num_samples``. In a
    distributed run (``mmengine.dist``) each process takes one contiguous
    block of batches (block sizes differ by at most one batch); alone, a
    process takes them all.

    Returns:
        tuple[list[int], range]: every batch's size; this process's batch
        indices.
    """
    if int(batch_size) < 1:
        raise ValueError(f'batch_size must be at least 1, got {batch_size}.')
    sizes = [
        min(batch_size, num_samples - start)
        for start in range(0, num_samples, batch_size)
    ]
    rank, world_size = get_dist_info()
    return sizes, range(
        len(sizes) * rank // world_size,
        len(sizes) * (rank + 1) // world_size)


class BatchScoreSum:
    """Per-channel scores summed over batches that processes share out.

    Each process records the scores of its own batches, one row per batch
    (:meth:`add`); :meth:`total` all-reduces the rows (the rows of other
    processes' batches are zeros here, so each row arrives exactly as its
    process computed it) and adds them up in batch order. Every process
    gets the same sums, bit for bit those that one process scoring all
    batches makes (``score += batch score``, batch after batch). Costs
    ``num_batches * sum(widths)`` floats.

    Args:
        widths: {root: number of channels}, the roots in a fixed order.
        num_batches: the number of batches of all processes.
    """

    def __init__(self, widths: Dict[nn.Module, int], num_batches: int):
        self.widths = dict(widths)
        self.rows = torch.zeros(num_batches, sum(self.widths.values()))

    def add(self, batch: int, scores: Dict[nn.Module, torch.Tensor]) -> None:
        """Record the (C,) scores of every root for batch ``batch``."""
        self.rows[batch] = torch.cat(
            [scores[root].detach().float().cpu() for root in self.widths])

    def total(self) -> Dict[nn.Module, torch.Tensor]:
        """{root: (C,) sum over all batches}; a collective operation in a
        distributed run: every process must call it."""
        all_reduce(self.rows, op='sum')
        total = torch.zeros(self.rows.shape[1])
        for row in self.rows:  # batch order, as a single process
            total += row
        return dict(zip(self.widths, total.split(list(self.widths.values()))))


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
    over output channels and kernel), summed over batches. In a
    distributed run the batches are split between the processes, and every
    process gets the sums over all of them (see the module's docstring).

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
        sizes, mine = batches_of_this_process(self.num_samples,
                                              self.batch_size)
        scores = BatchScoreSum(
            {root: arch.in_columns(readers[root], p).shape[0]
             for root, p in params.items()}, len(sizes))
        bar = sample_progress(sum(sizes[b] for b in mine))
        with gradients_in_eval_mode(generator, params.values()):
            # the batches before this process's are drawn (not scored) so
            # that every batch holds the same samples in any process
            for batch, n in enumerate(sizes[:mine.stop]):
                z, noise, replace, salt = self._draw(generator, n, rng)
                if batch not in mine:
                    continue
                if noise is not None:
                    noise = [m.to(device) for m in noise]
                with torch.enable_grad():
                    images = self._generate(generator, z.to(device), noise)
                    noisy = self._salt_and_pepper(images.detach(), replace,
                                                  salt)
                    loss = (noisy - images).abs().sum()
                    grads = torch.autograd.grad(loss, list(params.values()))
                scores.add(batch, {
                    root: arch.in_columns(readers[root], grad.abs()).mean(1)
                    for root, grad in zip(params, grads)
                })
                if bar is not None:
                    bar.update(n)
        return scores.total()

    def _draw(self, generator: nn.Module, n: int, rng: torch.Generator
              ) -> Tuple[torch.Tensor, Optional[List[torch.Tensor]],
                         torch.Tensor, torch.Tensor]:
        """The random numbers of one batch of ``n`` samples, on the CPU, in
        the order drawn from ``rng``: z, the per-sample injected noise
        (StyleGAN2; None for StyleGAN3), which pixels are replaced and their
        salt (+1) or pepper (-1), both (n, 1, H, W)."""
        z = torch.randn(n, generator.noise_size, generator=rng)
        noise = injected_noise(generator, n, rng, device=torch.device('cpu'))
        size = self._image_size(generator)
        replace = torch.rand(n, 1, *size, generator=rng) < self.noise_prob
        salt = torch.randint(0, 2, (n, 1, *size), generator=rng) * 2. - 1
        return z, noise, replace, salt

    @staticmethod
    def _image_size(generator: nn.Module) -> Tuple[int, int]:
        """(H, W) of the generator's images (MMagic's ``out_size``)."""
        size = generator.out_size
        return (size, size) if isinstance(size, int) else tuple(size)

    def _salt_and_pepper(self, images: torch.Tensor, replace: torch.Tensor,
                         salt: torch.Tensor) -> torch.Tensor:
        """Copy of ``images`` (N, C, H, W) with content pixels replaced."""
        if replace.shape[-2:] != images.shape[-2:]:
            raise RuntimeError(
                f'ContentAwareImportance: the generator\'s out_size '
                f'{tuple(replace.shape[-2:])} is not the size of its images '
                f'{tuple(images.shape[-2:])}.')
        replace, salt = replace.to(images.device), salt.to(images)
        if self.mask_fn is not None:
            mask = self.mask_fn(images)
            replace = replace & (mask > 0.5 if mask.is_floating_point()
                                 else mask.bool())
        return torch.where(replace, salt, images)

    @staticmethod
    def _generate(generator, z, noise):
        """G(z) with the per-sample injected ``noise`` (None: StyleGAN3)."""
        if noise is None:  # StyleGAN3
            return generator(z)
        return generator([z], injected_noise=noise, return_noise=False)
