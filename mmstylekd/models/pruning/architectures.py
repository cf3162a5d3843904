"""What pruning needs to know about each generator family.

One :class:`PrunableArchitecture` per family (StyleGAN2, StyleGAN3): which
layers torch-pruning must be taught (:mod:`.layer_pruners`), how to run the
synthesis network for tracing, which layers' output channels are pruning
roots, how a root maps to a width of the student config, and how to read a
layer's weights and styles for the importance criteria.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmagic.models.editors.stylegan1.stylegan1_modules import ConstantInput
from mmagic.models.editors.stylegan2 import StyleGAN2Generator
from mmagic.models.editors.stylegan2.stylegan2_modules import (
    ModulatedStyleConv, ModulatedToRGB)
from mmagic.models.editors.stylegan3 import StyleGAN3Generator
from mmagic.models.editors.stylegan3.stylegan3_modules import (SynthesisInput,
                                                               SynthesisLayer)

from .layer_pruners import STYLEGAN2_PRUNERS, STYLEGAN3_PRUNERS


class PrunableArchitecture:
    """Interface; see the StyleGAN2 and StyleGAN3 implementations."""
    pruners: Dict[type, object]
    layer_types: Tuple[type, ...]
    source_types: Tuple[type, ...]

    def trace_forward(self, generator: nn.Module,
                      w: torch.Tensor) -> torch.Tensor:
        """Synthesise from w (N, style_channels) with fixed noise."""
        raise NotImplementedError

    def roots(self, generator: nn.Module) -> List[Tuple[str, nn.Module]]:
        """(name, module) of every layer whose output channels are pruned."""
        raise NotImplementedError

    def width_slot(self, name: str):
        """Key (StyleGAN2: resolution) or index (StyleGAN3: layer) of a
        root in the student's ``channels``."""
        raise NotImplementedError

    def out_param(self, module: nn.Module) -> nn.Parameter:
        """The parameter that holds the layer's output-channel weights."""
        raise NotImplementedError

    def out_rows(self, module: nn.Module,
                 tensor: torch.Tensor) -> torch.Tensor:
        """View ``tensor`` (``out_param`` or its gradient) as (C_out, -1)."""
        raise NotImplementedError

    def in_param(self, module: nn.Module) -> nn.Parameter:
        """The parameter that holds the layer's input-channel weights."""
        raise NotImplementedError

    def in_columns(self, module: nn.Module,
                   tensor: torch.Tensor) -> torch.Tensor:
        """View ``tensor`` (``in_param`` or its gradient) as (C_in, -1)."""
        raise NotImplementedError

    def is_to_rgb(self, module: nn.Module) -> bool:
        """Whether the layer turns features into the image."""
        raise NotImplementedError

    def main_consumer(self, consumers: List[nn.Module]) -> nn.Module:
        """The next layer of the main path among a root's consumers: the
        next convolution, or the to-RGB layer after the last one."""
        convs = [c for c in consumers if not self.is_to_rgb(c)]
        return (convs or consumers)[0]

    def out_weight(self, module: nn.Module) -> torch.Tensor:
        """Weights of each output channel, shape (C_out, -1)."""
        return self.out_rows(module, self.out_param(module))

    def styles(self, module: nn.Module,
               w: torch.Tensor) -> Optional[torch.Tensor]:
        """Styles modulating the input channels, (N, C_in), or None."""
        raise NotImplementedError

    def student_channels(self, widths: Dict) -> object:
        """The student config's ``channels`` from {slot: width}."""
        raise NotImplementedError

    def rename_state_dict(self, state_dict: dict,
                          student: nn.Module) -> dict:
        """Map a pruned teacher's keys onto the student's."""
        return state_dict


class StyleGAN2Architecture(PrunableArchitecture):
    pruners = STYLEGAN2_PRUNERS
    layer_types = (ModulatedStyleConv, ModulatedToRGB)
    source_types = (ConstantInput, )

    def trace_forward(self, generator, w):
        return generator([w], input_is_latent=True, randomize_noise=False)

    def roots(self, generator):
        roots = [('constant_input', generator.constant_input),
                 ('conv1', generator.conv1)]
        roots += [(f'convs.{i}', conv)
                  for i, conv in enumerate(generator.convs)]
        return roots

    def width_slot(self, name):
        if name in ('constant_input', 'conv1'):
            return 4
        return 2**(3 + int(name.split('.')[1]) // 2)

    def out_param(self, module):
        if isinstance(module, ConstantInput):
            return module.input  # (1, C, 4, 4)
        return module.conv.weight_orig  # (1, C_out, C_in, k, k)

    def out_rows(self, module, tensor):
        return tensor[0].flatten(1)

    def in_param(self, module):
        return module.conv.weight_orig  # (1, C_out, C_in, k, k)

    def in_columns(self, module, tensor):
        return tensor[0].transpose(0, 1).flatten(1)

    def is_to_rgb(self, module):
        return isinstance(module, ModulatedToRGB)

    def styles(self, module, w):
        if not isinstance(module, (ModulatedStyleConv, ModulatedToRGB)):
            return None
        conv = module.conv
        return conv.style_modulation(w) + conv.style_bias

    def student_channels(self, widths):
        return {int(k): int(v) for k, v in sorted(widths.items())}


class StyleGAN3Architecture(PrunableArchitecture):
    pruners = STYLEGAN3_PRUNERS
    layer_types = (SynthesisLayer, )
    source_types = (SynthesisInput, )

    def trace_forward(self, generator, w):
        return generator(w, input_is_latent=True)

    def roots(self, generator):
        synthesis = generator.synthesis
        roots = [('synthesis.input', synthesis.input)]
        roots += [(f'synthesis.{name}', getattr(synthesis, name))
                  for name in synthesis.layer_names[:-1]]
        return roots

    def width_slot(self, name):
        if name == 'synthesis.input':
            return 0
        return int(name.split('.')[1].split('_')[0][1:])

    def out_param(self, module):
        return module.weight  # (C_out, C_in, k, k) or input's (C, C)

    def out_rows(self, module, tensor):
        return tensor.flatten(1)

    def in_param(self, module):
        return module.weight  # (C_out, C_in, k, k)

    def in_columns(self, module, tensor):
        return tensor.transpose(0, 1).flatten(1)

    def is_to_rgb(self, module):
        return module.is_torgb

    def styles(self, module, w):
        if not isinstance(module, SynthesisLayer):
            return None
        return module.affine(w)

    def student_channels(self, widths):
        return [int(widths[i]) for i in range(len(widths))]

    def rename_state_dict(self, state_dict, student):
        """StyleGAN3 layer names carry their width (``L3_52_512``)."""
        teacher_names = sorted({
            k.split('.')[1]
            for k in state_dict if k.startswith('synthesis.L')
        }, key=lambda n: int(n.split('_')[0][1:]))
        mapping = dict(zip(teacher_names, student.synthesis.layer_names))
        renamed = {}
        for key, value in state_dict.items():
            parts = key.split('.')
            if len(parts) > 2 and parts[0] == 'synthesis' and \
                    parts[1] in mapping:
                parts[1] = mapping[parts[1]]
            renamed['.'.join(parts)] = value
        return renamed


def architecture_of(generator: nn.Module) -> PrunableArchitecture:
    """The :class:`PrunableArchitecture` of an MMagic generator."""
    if isinstance(generator, StyleGAN2Generator):
        return StyleGAN2Architecture()
    if isinstance(generator, StyleGAN3Generator):
        return StyleGAN3Architecture()
    raise TypeError(f'Cannot prune a {type(generator).__name__}: only '
                    'MMagic StyleGAN2Generator and StyleGAN3Generator (and '
                    'their subclasses) are supported.')
