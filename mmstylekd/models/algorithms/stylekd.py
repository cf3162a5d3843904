"""StyleKD models: MMagic's StyleGAN2/StyleGAN3 models plus a teacher.

The student is the model's ``generator`` (with MMagic's EMA copy, optimiser
wrappers, R1 and path-length regularisation, metrics and visualisation all
unchanged). The model owns the frozen teacher (:mod:`.frozen_teacher`) and
the random inputs that teacher and student share (:mod:`.shared_draws`);
the distiller owns the recorders and the losses; checkpoints are laid out by
:mod:`.checkpoint_layout` and a fresh run is initialised by
:mod:`.fresh_start_init`. Only the generator step is overridden.
"""
import math
from typing import Dict, Optional, Sequence

import torch
from mmagic.models.editors.stylegan2 import StyleGAN2
from mmagic.models.editors.stylegan3 import StyleGAN3
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.dist import all_reduce
from mmengine.optim import OptimWrapper, OptimWrapperDict

from ...utils import unwrap_model
from ..latent_directions import compute_latent_directions
from ..latent_inputs import w_from_z
from ..students import freeze_mapping_network
from .checkpoint_layout import attach_checkpoint_layout
from .finite_losses import stop_if_not_finite
from .fresh_start_init import FreshStartInitialisation
from .frozen_teacher import FrozenTeacherMixin
from .shared_draws import SharedDraws, SharedDrawSampler


class StyleKDMixin(FrozenTeacherMixin):
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
        self.build_frozen_teacher(teacher, teacher_ckpt, allow_other_teacher)
        if (student_init or {}).get('freeze_mapping', False):
            # before any DDP wrapper is built: it must know what trains
            freeze_mapping_network(self.generator.style_mapping)
        self.fresh_start_init = FreshStartInitialisation(
            self, student_init, student_ckpt,
            teacher_ckpt if init_discriminator_from_teacher else None)
        directions = dict(latent_directions)
        offset_weight = directions.pop('offset_weight', 5.0)
        self.shared_draws = SharedDrawSampler(
            compute_latent_directions(self.teacher, **directions),
            offset_weight)
        self.feature_layers = list(feature_layers or
                                   self.DEFAULT_FEATURE_LAYERS)
        self.distiller = MODELS.build(
            distiller or dict(
                type='StyleKDDistiller',
                distill_losses={},
                loss_forward_mappings={}))
        self._prepare_recorders()
        attach_checkpoint_layout(self, ['teacher'] + [
            f'distiller.distill_losses.{name}'
            for name in self.distiller.frozen_loss_names()
        ])

    def _prepare_recorders(self) -> None:
        """Hook the distiller's recorders into both generators."""
        used = set(self.distiller.used_recorders(True) +
                   self.distiller.used_recorders(False))
        self.distiller.prepare_recorders(
            self.generator, self.teacher, {
                name: (names(self.generator), names(self.teacher))
                for name, names in (('feats', self._feature_module_names),
                                    ('rgbs', self._rgb_module_names))
                if name in used
            })

    # ---------------------------------------------------------------- steps
    def draw_shared_inputs(self, num_batches: int) -> SharedDraws:
        """z, style mixing, injected noise and latent offsets for a step."""
        return self.shared_draws.draw(
            unwrap_model(self.generator), self.noise_fn, num_batches)

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
        if self.with_ema_gen:
            self._update_ema()
        return log_vars

    def _update_ema(self) -> None:
        """The EMA step of MMagic's ``BaseGAN.train_step``."""
        student = unwrap_model(self.generator)
        curr_iter = MessageHub.get_current_instance().get_info('iter')
        if curr_iter + 1 >= self.ema_start:
            self.generator_ema.update_parameters(student)
            if not self.generator_ema.update_buffers:
                self.generator_ema.sync_buffers(student)
        else:  # before the EMA starts it copies the student
            self.generator_ema.sync_parameters(student)

    def train_discriminator(self, inputs, data_samples, optimizer_wrapper):
        """MMagic's discriminator step, after checking the image size."""
        out_size = unwrap_model(self.generator).out_size
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
        out_size = unwrap_model(generator).out_size
        names = []
        for res in self.feature_layers:
            level = int(round(math.log2(res)))
            if 2**level != res or not 8 <= res <= out_size:
                raise ValueError(f'feature_layers holds resolutions between '
                                 f'8 and {out_size}; got {res}.')
            names.append(f'convs.{2 * (level - 3) + 1}')
        return names

    def _rgb_module_names(self, generator):
        count = len(unwrap_model(generator).to_rgbs)
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
        layer_names = unwrap_model(generator).synthesis.layer_names
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
        w = w_from_z(unwrap_model(generator), draws.z[0])
        return w[:, None].expand(-1, unwrap_model(generator).num_ws, -1)

    def synthesise(self, generator, w_plus, noise, from_student):
        kwargs = dict(self.forward_kwargs['gen']) if from_student else \
            dict(update_emas=False, force_fp32=True)
        # through the (DDP-wrapped) generator's own forward
        return generator(w_plus[:, 0], input_is_latent=True, **kwargs)
