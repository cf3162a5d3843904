"""Tracing MMagic generators for torch-pruning's dependency graph.

torch-pruning builds its graph by walking autograd ``grad_fn`` nodes back from
the outputs. For a customised layer it maps the layer's output node to the
layer, then keeps walking *through* the layer's internals. Inside a modulated
convolution those internals reach the style vector and, through it, the
mapping network, so the graph ties the mapping network to every synthesis
channel (or, with the styles detached, finds no prunable group at all).

:func:`feature_flow_tracing` fixes this without touching MMagic's code: while
the graph is built, a forward hook replaces each customised layer's output by
the same values attached to a one-node autograd stub whose only parent is the
layer's *feature* input. The graph then sees exactly the channel flow
``feature in -> layer -> feature out``; numbers are unchanged.
"""
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Type

import torch
import torch.nn as nn


class _FeatureFlowStub(torch.autograd.Function):
    """Identity on ``values`` whose backward node links only to ``parent``.

    Only used to build the dependency graph; it is never differentiated.
    """

    @staticmethod
    def forward(ctx, values: torch.Tensor,
                parent: torch.Tensor) -> torch.Tensor:
        return values.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None


@contextmanager
def feature_flow_tracing(
        model: nn.Module,
        layer_types: Iterable[Type[nn.Module]],
        source_types: Iterable[Type[nn.Module]] = ()) -> Iterator[List]:
    """Hook every layer of ``layer_types`` so its output follows its input.

    Args:
        model (nn.Module): the generator being traced.
        layer_types (iterable[type]): layers whose first positional argument
            is their feature input (N, C_in, H, W).
        source_types (iterable[type]): layers with no feature input (a
            constant or Fourier input); their output is linked to their first
            parameter, a leaf the graph does not follow.

    Yields:
        list[Tensor]: every stubbed output in call order; return it from the
        tracing ``forward_fn`` so that side branches (to-RGB skips) are
        traced too.
    """
    outputs: List[torch.Tensor] = []

    source_types = tuple(source_types)

    def hook(module, args, output):
        if isinstance(module, source_types):
            parent = next(module.parameters())
        else:
            parent = args[0]
        stubbed = _FeatureFlowStub.apply(output.detach(), parent)
        outputs.append(stubbed)
        return stubbed

    handles = []
    types = tuple(layer_types) + source_types
    for module in model.modules():
        if isinstance(module, types):
            handles.append(module.register_forward_hook(hook))
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()
