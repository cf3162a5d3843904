"""StyleKD models: MMagic's StyleGAN2/StyleGAN3 models plus a teacher.

The student is the model's ``generator`` (with MMagic's EMA copy, optimiser
wrappers, R1 and path-length regularisation, metrics and visualisation all
unchanged). The model owns the frozen teacher and the random inputs that
teacher and student share; the distiller owns the recorders and the losses.
Only the generator step is overridden.
"""
import math
import random
import types
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.models.editors.stylegan2 import StyleGAN2
from mmagic.models.editors.stylegan3 import StyleGAN3
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.dist import all_reduce
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict

from ..latent_directions import compute_latent_directions
from ..latent_inputs import injected_noise, w_from_z
from ..teacher_identity import TeacherIdentity
from ..teacher_student_configs import build_teacher
from .checkpoint_layout import attach_checkpoint_layout
from .finite_losses import stop_if_not_finite
from .fresh_start_init import FreshStartInitialisation


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if is_model_wrapper(module) else module


def _keep_in_eval_mode(module: nn.Module) -> None:
    """The frozen teacher never trains: no style mixing, no EMA updates.

    Making its ``train`` a no-op (rather than calling ``eval()`` after every
    ``model.train()``) also keeps MMagic's generators from logging a style-mode
    switch at every iteration.
    """
    module.eval()
    module.train = types.MethodType(lambda self, mode=True: self, module)


def _freeze(mapping: nn.Module) -> None:
    """Freeze a mapping network; its w still accepts gradients.

    MMagic's path-length regulariser differentiates the image with respect
    to w, which a frozen mapping network would return without
    ``requires_grad``.
    """
    mapping.requires_grad_(False)

    def w_with_grad(module, args, w):
        if w.requires_grad or any(p.requires_grad
                                  for p in module.parameters()):
            return None  # not frozen (mapping fitting unfreezes it)
        return w.detach().requires_grad_(torch.is_grad_enabled())

    mapping.register_forward_hook(w_with_grad)


@dataclass
class SharedDraws:
    """The random inputs of one distillation step, the same for both.

    Attributes:
        z: one (B, noise_size) tensor, or two when styles are mixed.
        inject_index: the style-mixing crossover layer, or None.
        noise: per-sample injected noise, one (B, 1, H_i, W_i) map per noise
            input (StyleGAN2), or None.
        offsets: the latent shifts d, (B, style_channels).
    """
    z: List[torch.Tensor]
    inject_index: Optional[int]
    noise: Optional[List[torch.Tensor]]
    offsets: torch.Tensor


class StyleKDMixin:
    """The StyleKD generator step on top of an MMagic GAN model.

    Args (besides MMagic's model arguments):
        teacher (dict): teacher generator config.
        teacher_ckpt (str, optional): its checkpoint (path/URL); None means
            random teacher weights (a loud warning). Checkpoints record it
            (:class:`TeacherIdentity`): loading one distilled from another
            teacher stops, naming both.
        allow_other_teacher (bool): load such checkpoints anyway (warning).
        student_init (dict, optional): teacher-based initialisation of a
            fresh run (:func:`init_student_from_teacher`: ``criterion``,
            ``inherit_mapping``, ``inherit_synthesis``, ``fit_mapping``) and
            ``freeze_mapping``; None leaves the student as built.
        student_ckpt (str, optional): start a fresh run from this student
            (``tools/prune.py``'s output) instead of pruning.
        init_discriminator_from_teacher (bool): start the discriminator from
            ``teacher_ckpt``'s when it has one (the paper does).
        distiller (dict): ``StyleKDDistiller`` config.
        latent_directions (dict): ``num_blocks``, ``per_block``, ``mode``
            (``'split'``/``'global'``/``'random'``) and ``offset_weight``.
        feature_layers (list, optional): synthesis outputs recorded as
            ``feats``: resolutions (StyleGAN2, default 16/32/64/128) or layer
            indices (StyleGAN3, default 2/4/6/8).
        use_gan_loss (bool): False gives distillation-only training (no
            discriminator is needed).
    """

    DEFAULT_FEATURE_LAYERS: Sequence[int] = ()

    def __init__(self,
                 generator: dict,
                 teacher: dict,
                 teacher_ckpt: Optional[str] = None,
                 allow_other_teacher: bool = False,
                 discriminator: Optional[dict] = None,
                 student_init: Optional[dict] = None,
                 student_ckpt: Optional[str] = None,
                 init_discriminator_from_teacher: bool = True,
                 distiller: Optional[dict] = None,
                 latent_directions: dict = dict(
                     num_blocks=5, per_block=5, mode='split',
                     offset_weight=5.0),
                 feature_layers: Optional[Sequence[int]] = None,
                 use_gan_loss: bool = True,
                 **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.use_gan_loss = use_gan_loss and self.discriminator is not None
        self.teacher = build_teacher(teacher, teacher_ckpt)
        _keep_in_eval_mode(self.teacher)
        self.teacher_identity = TeacherIdentity.of(self.teacher, teacher_ckpt,
                                                   allow_other_teacher)
        if (student_init or {}).get('freeze_mapping', False):
            # before any DDP wrapper is built: it must know what trains
            _freeze(self.generator.style_mapping)
        self.fresh_start_init = FreshStartInitialisation(
            self, student_init, student_ckpt,
            teacher_ckpt if init_discriminator_from_teacher else None)

        directions = dict(latent_directions)
        self.offset_weight = float(directions.pop('offset_weight', 5.0))
        self.register_buffer(
            'latent_directions',
            compute_latent_directions(self.teacher, **directions),
            persistent=False)  # derived from the teacher
        self.feature_layers = list(feature_layers or
                                   self.DEFAULT_FEATURE_LAYERS)
        self.distiller = MODELS.build(
            distiller or dict(
                type='StyleKDDistiller',
                distill_losses={},
                loss_forward_mappings={}))
        used = set(self.distiller.used_recorders(True) +
                   self.distiller.used_recorders(False))
        self.distiller.prepare_recorders(
            self.generator, self.teacher, {
                name: (names(self.generator), names(self.teacher))
                for name, names in (('feats', self._feature_module_names),
                                    ('rgbs', self._rgb_module_names))
                if name in used
            })
        attach_checkpoint_layout(self, ['teacher'] + [
            f'distiller.distill_losses.{name}'
            for name in self.distiller.frozen_loss_names()
        ])

    # ------------------------------------------------------------- sampling
    def sample_latent_offsets(self, num: int) -> torch.Tensor:
        """One teacher direction per sample, scaled by N(0, 1) * offset.

        Returns:
            Tensor: (num, style_channels), on the directions' device.
        """
        dirs = self.latent_directions
        idx = torch.randint(0, dirs.shape[0], (num, ), device=dirs.device)
        chosen = dirs[idx] / dirs[idx].norm(dim=1, keepdim=True)
        return chosen * torch.randn(num, 1, device=dirs.device) * \
            self.offset_weight

    def draw_shared_inputs(self, num_batches: int) -> SharedDraws:
        """z, style mixing, injected noise and latent offsets for a step."""
        student = _unwrap(self.generator)
        mix = getattr(student, 'default_style_mode', None) == 'mix' and \
            random.random() < student.mix_prob
        return SharedDraws(
            z=[self.noise_fn(num_batches=num_batches)
               for _ in range(2 if mix else 1)],
            inject_index=random.randint(1, student.num_latents - 1)
            if mix else None,
            noise=injected_noise(student, num_batches),
            offsets=self.sample_latent_offsets(num_batches))

    def synthesise_pair(self, draws: SharedDraws
                        ) -> Dict[bool, Dict[str, torch.Tensor]]:
        """Student (with gradients) and teacher (without) on [w; w + d].

        Returns:
            dict: {from_student: outputs}; outputs ``images``,
            ``images_orig``, ``images_shifted`` and ``w`` (see
            :mod:`..distillers.stylekd_distiller`).
        """
        num = draws.offsets.shape[0]
        noise = None if draws.noise is None else [
            torch.cat([n, n]) for n in draws.noise
        ]  # the same noise for a sample and its shifted copy
        outputs = {}
        with self.distiller.recording():
            for from_student, gen in ((True, self.generator),
                                      (False, self.teacher)):
                with torch.set_grad_enabled(from_student and
                                            torch.is_grad_enabled()):
                    w_plus = self.w_plus(gen, draws)
                    shifted = w_plus + draws.offsets[:, None]
                    images = self.synthesise(gen,
                                             torch.cat([w_plus, shifted]),
                                             noise, from_student)
                outputs[from_student] = dict(
                    images=images, images_orig=images[:num],
                    images_shifted=images[num:], w=w_plus)
        return outputs

    # ---------------------------------------------------------------- steps
    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict):
        """MMagic's GAN step; generator-only when there is no GAN loss."""
        self.fresh_start_init(self)
        if self.use_gan_loss:
            return super().train_step(data, optim_wrapper)
        data = self.data_preprocessor(data, True)
        wrapper = optim_wrapper['generator']
        with wrapper.optim_context(self.generator):
            log_vars = self.train_generator(data['inputs'],
                                            data['data_samples'], wrapper)
        if self.with_ema_gen:  # as MMagic's BaseGAN.train_step
            student = _unwrap(self.generator)
            curr_iter = MessageHub.get_current_instance().get_info('iter')
            if curr_iter + 1 >= self.ema_start:
                self.generator_ema.update_parameters(student)
                if not self.generator_ema.update_buffers:
                    self.generator_ema.sync_buffers(student)
            else:  # before the EMA starts it copies the student
                self.generator_ema.sync_parameters(student)
        return log_vars

    def train_discriminator(self, inputs, data_samples, optimizer_wrapper):
        """MMagic's discriminator step, after checking the image size."""
        out_size = _unwrap(self.generator).out_size
        real = data_samples.gt_img
        if tuple(real.shape[-2:]) != (out_size, out_size):
            raise ValueError(
                f'Training images are {real.shape[-2]}x{real.shape[-1]} px '
                f'but the model makes {out_size}x{out_size} px images: '
                'resize them in the data pipeline (e.g. dict(type=\'Resize\','
                f' keys=\'gt\', scale=({out_size}, {out_size}))) or use a '
                'config of their resolution.')
        return super().train_discriminator(inputs, data_samples,
                                           optimizer_wrapper)

    def disc_loss(self, *args, **kwargs):
        """MMagic's discriminator losses, stopped on every rank when one is
        not finite (before DDP's backward)."""
        loss, log_vars = super().disc_loss(*args, **kwargs)
        stop_if_not_finite(dict(log_vars, loss=loss), 'discriminator')
        return loss, log_vars

    def train_generator(self, inputs: dict, data_samples,
                        optimizer_wrapper: OptimWrapper
                        ) -> Dict[str, torch.Tensor]:
        """Distillation losses plus MMagic's GAN loss (with path
        regularisation)."""
        num_batches = len(data_samples)
        outputs = self.synthesise_pair(self.draw_shared_inputs(num_batches))
        losses = self.distiller(outputs[True], outputs[False])
        loss, log_vars = self.parse_losses(losses) if losses else \
            (outputs[True]['images'].new_zeros(()), {})
        if self.use_gan_loss:
            disc_pred_fake = self.discriminator(outputs[True]['images_orig'])
            gan_loss, gan_log = self.gen_loss(disc_pred_fake, num_batches)
            # MMagic keeps a path-length average per process and
            # checkpoints only rank 0's; one average across processes keeps
            # the ranks equal, so that --resume restores every rank's.
            all_reduce(self.mean_path_length, op='mean')
            loss = loss + gan_loss
            gan_log.pop('loss', None)
            log_vars.update(gan_log)
        log_vars['loss'] = loss.detach()
        stop_if_not_finite(log_vars, 'generator')  # before DDP's backward
        optimizer_wrapper.update_params(loss)
        return log_vars


@MODELS.register_module()
class StyleKDStyleGAN2(StyleKDMixin, StyleGAN2):
    """StyleKD on MMagic's ``StyleGAN2`` model. See :class:`StyleKDMixin`."""

    DEFAULT_FEATURE_LAYERS = (16, 32, 64, 128)  # resolutions

    def _feature_module_names(self, generator):
        out_size = _unwrap(generator).out_size
        names = []
        for res in self.feature_layers:
            level = int(round(math.log2(res)))
            if 2**level != res or not 8 <= res <= out_size:
                raise ValueError(f'feature_layers holds resolutions between '
                                 f'8 and {out_size}; got {res}.')
            names.append(f'convs.{2 * (level - 3) + 1}')
        return names

    def _rgb_module_names(self, generator):
        count = len(_unwrap(generator).to_rgbs)
        return ['to_rgb1'] + [f'to_rgbs.{i}' for i in range(count)]

    def w_plus(self, generator, draws):
        """(B, num_latents, style_channels): every style layer's w."""
        return generator(
            draws.z, return_latent_only=True,
            inject_index=draws.inject_index)

    def synthesise(self, generator, w_plus, noise, from_student):
        # through the (DDP-wrapped) generator's own forward
        return generator([w_plus], input_is_latent=True,
                         injected_noise=noise)


@MODELS.register_module()
class StyleKDStyleGAN3(StyleKDMixin, StyleGAN3):
    """StyleKD on MMagic's ``StyleGAN3`` model. See :class:`StyleKDMixin`.

    ``feature_layers`` are synthesis layer indices (``L{idx}``).
    """

    DEFAULT_FEATURE_LAYERS = (2, 4, 6, 8)  # layer indices

    def _feature_module_names(self, generator):
        layer_names = _unwrap(generator).synthesis.layer_names
        bad = [
            i for i in self.feature_layers
            if not 0 <= i < len(layer_names) - 1
        ]
        if bad:
            raise ValueError(f'feature_layers must be layer indices in '
                             f'[0, {len(layer_names) - 2}], got {bad}.')
        return [f'synthesis.{layer_names[i]}' for i in self.feature_layers]

    def _rgb_module_names(self, generator):
        return None  # StyleGAN3 has no intermediate RGB outputs

    def w_plus(self, generator, draws):
        """(B, num_ws, style_channels); StyleGAN3 trains without mixing."""
        w = w_from_z(_unwrap(generator), draws.z[0])
        return w[:, None].expand(-1, _unwrap(generator).num_ws, -1)

    def synthesise(self, generator, w_plus, noise, from_student):
        kwargs = dict(self.forward_kwargs['gen']) if from_student else \
            dict(update_emas=False, force_fp32=True)
        # through the (DDP-wrapped) generator's own forward
        return generator(w_plus[:, 0], input_is_latent=True, **kwargs)
