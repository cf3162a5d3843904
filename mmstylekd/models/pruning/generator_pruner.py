"""Prune a StyleGAN teacher's synthesis channels with torch-pruning."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch_pruning as tp
from mmagic.registry import TASK_UTILS

from .architectures import architecture_of
from .graph_tracing import feature_flow_tracing
from .importance import ChannelImportance
from .ratio import kept_channels


@dataclass
class PruningResult:
    """What :func:`prune_generator` did.

    Attributes:
        generator: the pruned copy of the teacher (same module tree).
        kept: {root layer name: sorted teacher channel indices kept}.
        widths: {student width slot: kept width} (StyleGAN2 slots are
            resolutions, StyleGAN3 slots are layer indices).
        student_channels: the student config's ``channels`` value.
        criterion: the importance config used.
        ratio: the ratio used, or None for explicit widths.
    """
    generator: nn.Module
    kept: Dict[str, List[int]]
    widths: Dict[int, int]
    student_channels: Union[Dict[int, int], List[int]]
    criterion: dict
    ratio: Optional[float] = None
    groups: Dict[str, List[str]] = field(default_factory=dict)


def _target_width(name, slot, current, ratio, channels, round_to):
    if ratio is not None:
        return kept_channels(current, ratio, round_to)
    target = channels[slot]
    if not 1 <= target <= current:
        raise ValueError(f'Layer {name}: cannot prune {current} teacher '
                         f'channels to {target}; widths must be between 1 '
                         f'and the teacher width.')
    return target


def prune_generator(generator: nn.Module,
                    ratio: Optional[float] = None,
                    channels: Union[None, Dict[int, int], List[int]] = None,
                    criterion: Optional[dict] = None,
                    seed: int = 0,
                    round_to: Optional[int] = None) -> PruningResult:
    """Remove synthesis channels of ``generator`` in place.

    torch-pruning's dependency graph (taught MMagic's layers by
    :mod:`.layer_pruners`) groups every tensor tied to a channel; one group
    per pruned layer output. The mapping network is never touched.

    Args:
        generator: an MMagic ``StyleGAN2Generator``/``StyleGAN3Generator``
            (a copy of the teacher; it is modified).
        ratio: fraction removed in every layer (0.7 keeps C - int(0.7 C)).
        channels: explicit student widths instead (StyleGAN2: {resolution:
            width}; StyleGAN3: list of per-layer widths).
        criterion: importance config (``TASK_UTILS``), default L1 magnitude.
        seed: seed of the tracing latent.
        round_to: with ``ratio``, kept widths are rounded down to multiples
            of it (torch-pruning's ``round_to``; :func:`kept_channels`);
            the criterion still chooses which channels are kept.

    Returns:
        PruningResult
    """
    if (ratio is None) == (channels is None):
        raise ValueError('Give exactly one of `ratio` and `channels`.')
    if round_to is not None and ratio is None:
        raise ValueError('round_to rounds the widths that `ratio` gives; '
                         'with explicit `channels` give rounded widths.')
    if ratio is not None:
        # validates the ratio and round_to before any work
        kept_channels(1000, ratio, round_to)
    arch = architecture_of(generator)
    criterion = dict(criterion or dict(type='WeightL1Importance'))
    importance = TASK_UTILS.build(criterion)
    if not isinstance(importance, ChannelImportance):
        raise TypeError(f'{criterion["type"]} is not a ChannelImportance.')

    device = next(generator.parameters()).device
    w = torch.randn(
        1, generator.style_channels,
        generator=torch.Generator().manual_seed(seed)).to(device)
    graph = tp.DependencyGraph()
    # The graph is traced through autograd: a frozen teacher copy would
    # leave nothing to trace.
    grad_flags = {p: p.requires_grad for p in generator.parameters()}
    generator.requires_grad_(True)
    with torch.enable_grad(), feature_flow_tracing(
            generator, arch.layer_types, arch.source_types) as stubbed:
        graph.build_dependency(
            generator,
            example_inputs=w,
            forward_fn=lambda model, x: [arch.trace_forward(model, x)] +
            stubbed,
            customized_pruners=arch.pruners,
            verbose=False)
    for param, flag in grad_flags.items():
        param.requires_grad_(flag)

    roots = arch.roots(generator)
    mapping_params = {id(p) for p in generator.style_mapping.parameters()}
    consumers, group_members = {}, {}
    names = {m: n for n, m in generator.named_modules()}
    for name, root in roots:
        pruner = arch.pruners[type(root)]
        group = graph.get_pruning_group(root, pruner.prune_out_channels,
                                        [0])
        members = []
        for item in group:
            module = item.dep.target.module
            if isinstance(module, nn.Module) and any(
                    id(p) in mapping_params for p in module.parameters()):
                raise RuntimeError(
                    f'Pruning {name} would touch the mapping network '
                    f'({names.get(module)}); the dependency graph is wrong.')
            if item.dep.handler == getattr(arch.pruners.get(type(module)),
                                           'prune_in_channels', None):
                consumers.setdefault(root, []).append(module)
            members.append(f'{names.get(module, module)}:'
                           f'{item.dep.handler.__name__}')
        group_members[name] = members
    importance.prepare(generator, arch, roots, consumers)

    kept, widths = {}, {}
    for name, root in roots:
        pruner = arch.pruners[type(root)]
        current = pruner.get_out_channels(root)
        slot = arch.width_slot(name)
        target = _target_width(name, slot, current, ratio, channels,
                               round_to)
        group = graph.get_pruning_group(root, pruner.prune_out_channels,
                                        list(range(current)))
        scores = importance(group)
        order = torch.argsort(scores, descending=True, stable=True)
        keep = sorted(order[:target].tolist())
        remove = sorted(set(range(current)) - set(keep))
        if remove:
            graph.get_pruning_group(root, pruner.prune_out_channels,
                                    remove).prune()
        for module in (item.dep.target.module for item in group):
            for param in module.parameters():
                param.requires_grad_(grad_flags.get(param, True))
        kept[name] = keep
        if widths.setdefault(slot, target) != target:
            raise ValueError(f'Layers sharing width slot {slot} were pruned '
                             f'to different widths ({widths[slot]} and '
                             f'{target}).')

    return PruningResult(
        generator=generator,
        kept=kept,
        widths=widths,
        student_channels=arch.student_channels(widths),
        criterion=criterion,
        ratio=ratio,
        groups=group_members)
