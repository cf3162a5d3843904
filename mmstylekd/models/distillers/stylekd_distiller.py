"""The distiller: recorders, losses, and which tensor feeds which argument.

As in MMRazor's ``ConfigurableDistiller``, losses stay plain registered
modules with ordinary arguments and the wiring lives in config, so any loss
in MMagic's ``MODELS`` (``L1Loss``, ``MSELoss``, ``PerceptualLoss``, ours...)
can be mixed in. Each argument of a loss is fed either

- an **output** of the synthesis step (``output=...``), the same names for
  student and teacher:

  - ``images``: the images of the doubled batch [w; w + d], (2B, 3, H, W);
  - ``images_orig``: its first half, the unshifted images, (B, 3, H, W);
  - ``images_shifted``: its second half, (B, 3, H, W);
  - ``w``: the W+ latent of each unshifted sample, every style layer,
    (B, num_layers, style_channels);

- or a **recorder** (``recorder=...``): the outputs of modules, captured
  by forward hooks while the doubled batch is synthesised:

  - ``feats``: the synthesis outputs chosen by the model's
    ``feature_layers``, a list of (2B, C, H, W);
  - ``rgbs``: StyleGAN2's to-RGB (skip) outputs, a list of (2B, 3, h, w);
  - any recorder of your own, declared in ``student_recorders`` /
    ``teacher_recorders`` as ``dict(type='ModuleOutputs', source=NAME)``
    (``NAME`` a name of ``generator.named_modules()``, or a list of names
    for a list of tensors).
"""
import inspect
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.model import BaseModule

from ..recorders import ModuleOutputsRecorder

OUTPUTS = ('images', 'images_orig', 'images_shifted', 'w')
BUILTIN_RECORDERS = ('feats', 'rgbs')


def _recorder_sources(cfg: dict, name: str) -> Tuple[List[str], bool]:
    """(module names, whether the recorder gives one tensor, not a list)."""
    cfg = dict(cfg)
    kind = cfg.pop('type', 'ModuleOutputs')
    source = cfg.pop('source', None)
    if kind != 'ModuleOutputs' or source is None or cfg:
        raise ValueError(
            f'Recorder {name!r}: only dict(type=\'ModuleOutputs\', '
            f'source=MODULE_NAME or [names]) is supported, got '
            f'{dict(type=kind, source=source, **cfg)}.')
    single = isinstance(source, str)
    return ([source] if single else list(source)), single


def _check_mapping(name: str, loss: nn.Module, mapping: dict,
                   recorders: Dict[bool, Sequence[str]]) -> None:
    """Each mapping names an argument of its loss and one known tensor."""
    params = inspect.signature(loss.forward).parameters
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    for arg, spec in mapping.items():
        if arg not in params and not takes_kwargs:
            raise ValueError(
                f'{name}: {type(loss).__name__}.forward has no argument '
                f'{arg!r}; its arguments are {list(params)}.')
        if set(spec) - {'from_student', 'recorder', 'output', 'data_idx'} \
                or not isinstance(spec.get('from_student'), bool):
            raise ValueError(
                f'{name}.{arg}: expected dict(from_student=True/False, '
                f'output=... or recorder=...[, data_idx=i]), got {spec}.')
        if ('recorder' in spec) == ('output' in spec):
            raise ValueError(f'{name}.{arg}: give exactly one of `output` '
                             f'(one of {OUTPUTS}) and `recorder`; got '
                             f'{spec}.')
        if 'output' in spec and spec['output'] not in OUTPUTS:
            raise ValueError(f'{name}.{arg}: unknown output '
                             f'{spec["output"]!r}; outputs are {OUTPUTS}.')
        if 'recorder' in spec:
            known = recorders[spec['from_student']]
            if spec['recorder'] in OUTPUTS:
                raise ValueError(
                    f'{name}.{arg}: {spec["recorder"]!r} is an output of the '
                    f'synthesis, not a recorder: write '
                    f'output={spec["recorder"]!r}.')
            if spec['recorder'] not in known:
                side = 'student' if spec['from_student'] else 'teacher'
                raise ValueError(
                    f'{name}.{arg}: no {side} recorder '
                    f'{spec["recorder"]!r}; known: {list(known)} (declare '
                    f'your own in {side}_recorders).')
    required = [
        p.name for p in params.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                               p.KEYWORD_ONLY)
    ]
    missing = [p for p in required if p not in mapping]
    if missing:
        raise ValueError(f'{name}: {type(loss).__name__}.forward needs '
                         f'{missing}, which loss_forward_mappings.{name} '
                         'does not give.')


@MODELS.register_module()
class StyleKDDistiller(BaseModule):
    """Distillation losses, the recorders they read and their wiring.

    Args:
        distill_losses (dict): {name: loss config}; names start with
            ``loss`` (MMagic sums and logs every ``loss*`` entry).
        loss_forward_mappings (dict): {loss name: {argument: dict(
            from_student=bool, output=NAME | recorder=NAME[, data_idx=i])}}.
        student_recorders (dict, optional): {name: dict(type='ModuleOutputs',
            source=module name or list of names)} of the student generator.
        teacher_recorders (dict, optional): the same for the teacher.

    Example:
        >>> distiller = dict(
        ...     type='StyleKDDistiller',
        ...     distill_losses=dict(
        ...         loss_l1=dict(type='L1Loss', loss_weight=3.0)),
        ...     loss_forward_mappings=dict(loss_l1=dict(
        ...         pred=dict(from_student=True, output='images_orig'),
        ...         target=dict(from_student=False, output='images_orig'))))
    """

    def __init__(self,
                 distill_losses: dict,
                 loss_forward_mappings: dict,
                 student_recorders: Optional[dict] = None,
                 teacher_recorders: Optional[dict] = None):
        super().__init__()
        unmapped = set(distill_losses) ^ set(loss_forward_mappings)
        if unmapped:
            raise KeyError(f'Every distillation loss needs a forward mapping '
                           f'and vice versa; mismatched: {sorted(unmapped)}.')
        bad = [n for n in distill_losses if not n.startswith('loss')]
        if bad:
            raise ValueError(f'Loss names {bad} must start with "loss" '
                             '(MMagic only sums such entries).')
        self.recorder_sources = {
            side: {
                name: _recorder_sources(cfg, name)
                for name, cfg in (recorders or {}).items()
            }
            for side, recorders in ((True, student_recorders),
                                    (False, teacher_recorders))
        }
        for side, own in self.recorder_sources.items():
            clash = set(own) & set(BUILTIN_RECORDERS + OUTPUTS)
            if clash:
                raise ValueError(f'Recorder names {sorted(clash)} are '
                                 'reserved for the built-in tensors.')
        self.distill_losses = nn.ModuleDict(
            {name: MODELS.build(cfg)
             for name, cfg in distill_losses.items()})
        self.loss_forward_mappings = {
            name: {arg: dict(spec)
                   for arg, spec in mapping.items()}
            for name, mapping in loss_forward_mappings.items()
        }
        known = {
            side: BUILTIN_RECORDERS + tuple(own)
            for side, own in self.recorder_sources.items()
        }
        for name, loss in self.distill_losses.items():
            _check_mapping(name, loss, self.loss_forward_mappings[name],
                           known)
        self._recorders: Dict[Tuple[bool, str], ModuleOutputsRecorder] = {}

    def used_recorders(self, from_student: bool) -> List[str]:
        """Names of the recorders some loss reads, of one side."""
        return sorted({
            spec['recorder']
            for mapping in self.loss_forward_mappings.values()
            for spec in mapping.values()
            if 'recorder' in spec and spec['from_student'] == from_student
        })

    def prepare_recorders(self, student: nn.Module, teacher: nn.Module,
                          builtin: Dict[str, Tuple[List[str], List[str]]]
                          ) -> None:
        """Attach the recorders that some loss reads to the generators.

        Args:
            student, teacher: the (unwrapped) generators.
            builtin: {``feats``/``rgbs``: (student module names, teacher
                module names)}, given by the model (they depend on its
                ``feature_layers`` and architecture); None names for a
                tensor the generator does not have.
        """
        self._recorders = {}
        for from_student, gen in ((True, student), (False, teacher)):
            own = self.recorder_sources[from_student]
            for name in self.used_recorders(from_student):
                sources = own[name][0] if name in own else \
                    builtin[name][0 if from_student else 1]
                if sources is None:
                    raise ValueError(
                        f'This generator has no {name!r} to record '
                        '(StyleGAN3 has no intermediate RGB outputs); '
                        'use the `images` output instead.')
                self._recorders[(from_student, name)] = \
                    ModuleOutputsRecorder(gen, sources)

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record every prepared recorder while inside the ``with``."""
        with ExitStack() as stack:
            for recorder in self._recorders.values():
                stack.enter_context(recorder)
            yield

    def recorded(self, from_student: bool, name: str) -> List[torch.Tensor]:
        """What a recorder captured in the last recording, in source order.
        """
        return self._recorders[(from_student, name)].outputs

    def _tensor(self, spec: dict, outputs: Dict[bool, dict]):
        side = spec['from_student']
        if 'output' in spec:
            value = outputs[side][spec['output']]
        else:
            name = spec['recorder']
            value = self.recorded(side, name)
            if self.recorder_sources[side].get(name, ([], False))[1]:
                value = value[0]  # declared with one source name
        if 'data_idx' in spec:
            value = value[spec['data_idx']]
        return value

    def forward(self, student_outputs: Dict[str, object],
                teacher_outputs: Dict[str, object]
                ) -> Dict[str, torch.Tensor]:
        """{loss name: weighted loss}, reading the last recording.

        Args:
            student_outputs, teacher_outputs: the synthesis outputs (see
                the module docstring), one dict per side.
        """
        outputs = {True: student_outputs, False: teacher_outputs}
        return {
            name: loss(
                **{
                    arg: self._tensor(spec, outputs)
                    for arg, spec in self.loss_forward_mappings[name].items()
                })
            for name, loss in self.distill_losses.items()
        }

    def frozen_loss_names(self) -> List[str]:
        """Losses with weights but nothing to train (LPIPS's VGG, ...).

        They rebuild their weights from their own source (torchvision's
        cache, the ``lpips`` package) when built, so checkpoints need not
        hold them.
        """
        return [
            name for name, loss in self.distill_losses.items()
            if any(True for _ in loss.parameters())
            and not any(p.requires_grad for p in loss.parameters())
        ]
