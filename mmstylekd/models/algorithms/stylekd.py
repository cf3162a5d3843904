"""StyleKD models: MMagic's StyleGAN2/StyleGAN3 models plus a teacher.

The student is the model's ``generator`` (with MMagic's EMA copy, optimiser
wrappers, R1 and path-length regularisation, metrics and visualisation all
unchanged); the frozen teacher and the distiller are added, and only the
generator step is overridden.
"""
import logging
import math
import random
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmagic.models.editors.stylegan2 import StyleGAN2
from mmagic.models.editors.stylegan3 import StyleGAN3
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict

from ..generator_checkpoint import load_generator_weights, read_checkpoint
from ..latent_directions import compute_latent_directions
from ..recorders import ModuleOutputsRecorder
from ..students import init_student_from_teacher
from ..teacher_student_configs import build_teacher


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if is_model_wrapper(module) else module


class StyleKDMixin:
    """Teacher handling, latent shifts, recording and the generator step.

    Args (besides MMagic's model arguments):
        teacher (dict): teacher generator config.
        teacher_ckpt (str, optional): its checkpoint (path/URL); None means
            random teacher weights (a loud warning).
        student_init (dict, optional): arguments of
            :func:`init_student_from_teacher` (``criterion``,
            ``inherit_mapping``, ``inherit_synthesis``, ``freeze_mapping``);
            None leaves the student as built.
        student_ckpt (str, optional): load the student (e.g. written by
            ``tools/prune.py``) instead of pruning at build time.
        init_discriminator_from_teacher (bool): copy the discriminator
            weights of ``teacher_ckpt`` when it has them (the paper does).
        distiller (dict): ``StyleKDDistiller`` config.
        latent_directions (dict): ``num_blocks``, ``per_block``, ``mode``
            (``'split'``/``'global'``/``'random'``) and ``offset_weight``.
        feature_layers (list, optional): synthesis outputs recorded for
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
        # MMagic's StyleGAN2/StyleGAN3 model (next in the MRO) builds the
        # student generator, its EMA copy and the discriminator.
        super().__init__(generator, discriminator, **kwargs)
        if feature_layers is None:
            feature_layers = self.DEFAULT_FEATURE_LAYERS
        self.use_gan_loss = use_gan_loss and self.discriminator is not None
        self.teacher = build_teacher(teacher, teacher_ckpt)
        student = _unwrap(self.generator)
        if student_ckpt is not None:
            load_generator_weights(student, student_ckpt)
        elif student_init is not None:
            init_student_from_teacher(student, self.teacher,
                                      **dict(student_init))
        if self.with_ema_gen:  # MMagic copied the generator before init
            self.generator_ema.module.load_state_dict(student.state_dict())
        if (self.discriminator is not None and teacher_ckpt is not None
                and init_discriminator_from_teacher):
            self._load_teacher_discriminator(teacher_ckpt)

        directions = dict(latent_directions)
        self.offset_weight = float(directions.pop('offset_weight', 5.0))
        self.register_buffer(
            'latent_directions',
            compute_latent_directions(self.teacher, **directions))
        self.distiller = MODELS.build(
            distiller or dict(
                type='StyleKDDistiller',
                distill_losses={},
                loss_forward_mappings={}))
        self.feature_layers = list(feature_layers)
        self._feature_module_names(_unwrap(self.generator))  # validates

    # ---------------------------------------------------------------- setup
    def _load_teacher_discriminator(self, teacher_ckpt: str) -> None:
        state = read_checkpoint(teacher_ckpt).get('state_dict', {})
        prefix = 'discriminator.'
        disc = {k[len(prefix):]: v for k, v in state.items()
                if k.startswith(prefix)}
        if not disc:
            print_log(f'{teacher_ckpt} has no discriminator: the student\'s '
                      'discriminator starts from scratch.',
                      logger='current', level=logging.WARNING)
            return
        own = self.discriminator.state_dict()
        if disc.keys() != own.keys() or any(
                disc[k].shape != own[k].shape for k in own):
            print_log(f'The discriminator in {teacher_ckpt} does not fit the '
                      'config\'s: it starts from scratch.',
                      logger='current', level=logging.WARNING)
            return
        self.discriminator.load_state_dict(disc)
        print_log(f'Discriminator initialised from {teacher_ckpt}',
                  logger='current')

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # frozen: never train-mode, never EMA updates
        return self

    # ------------------------------------------------------------- sampling
    def sample_latent_offsets(self, num: int,
                              device: torch.device) -> torch.Tensor:
        """One random direction per sample, scaled by N(0, 1) * offset.

        Returns:
            Tensor: (num, style_channels).
        """
        dirs = self.latent_directions
        idx = torch.randint(0, dirs.shape[0], (num, ), device=dirs.device)
        chosen = dirs[idx] / dirs[idx].norm(dim=1, keepdim=True)
        scale = torch.randn(num, 1, device=dirs.device) * self.offset_weight
        return (chosen * scale).to(device)

    def _record(self, generator: nn.Module, names: Dict[str, List[str]]):
        return {
            key: ModuleOutputsRecorder(generator, sources)
            for key, sources in names.items() if sources
        }

    def distill_forward(self, num_batches: int
                        ) -> Tuple[Dict[str, object], Dict[str, object]]:
        """Run student (with grad) and teacher (without) on [w; w + d].

        Same z, same style-mixing inject index, same injected noise, same
        latent offsets d for both.

        Returns:
            tuple[dict, dict]: the student's and the teacher's records
            (see :mod:`..distillers.stylekd_distiller`).
        """
        needs = self.distiller.needs
        student = _unwrap(self.generator)
        recorders = []
        for gen in (student, self.teacher):
            names = {}
            if 'feats' in needs:
                names['feats'] = self._feature_module_names(gen)
            if 'rgbs' in needs:
                names['rgbs'] = self._rgb_module_names(gen)
            recorders.append(self._record(gen, names))
        s_rec, t_rec = recorders
        s_out, t_out = self._synthesise_pair(num_batches, s_rec, t_rec)
        records = []
        for out, rec in ((s_out, s_rec), (t_out, t_rec)):
            out = dict(out)
            out['images_orig'] = out['images'][:num_batches]
            out.update({k: r.outputs for k, r in rec.items()})
            records.append(out)
        return records[0], records[1]

    # ---------------------------------------------------------------- steps
    def train_generator(self, inputs: dict, data_samples,
                        optimizer_wrapper: OptimWrapper
                        ) -> Dict[str, torch.Tensor]:
        """GAN loss (MMagic's, with path regularisation) + distillation."""
        num_batches = len(data_samples)
        student_rec, teacher_rec = self.distill_forward(num_batches)
        losses = self.distiller(student_rec, teacher_rec)
        loss, log_vars = self.parse_losses(losses) if losses else \
            (torch.zeros((), device=self.latent_directions.device), {})
        if self.use_gan_loss:
            disc_pred_fake = self.discriminator(student_rec['images_orig'])
            gan_loss, gan_log = self.gen_loss(disc_pred_fake, num_batches)
            loss = loss + gan_loss
            gan_log.pop('loss', None)
            log_vars.update(gan_log)
        log_vars['loss'] = loss.detach()
        self._check_finite(log_vars)
        optimizer_wrapper.update_params(loss)
        return log_vars

    @staticmethod
    def _check_finite(log_vars: Dict[str, torch.Tensor]) -> None:
        # components first: the total only says that one of them diverged
        names = sorted(log_vars, key=lambda n: n == 'loss')
        for name in names:
            value = log_vars[name]
            value = float(value.detach() if torch.is_tensor(value) else value)
            if not math.isfinite(value):
                iteration = MessageHub.get_current_instance().get_info(
                    'iter')
                raise FloatingPointError(
                    f'{name} became {value} at iteration {iteration}; '
                    'training stopped (lower the learning rate or the loss '
                    'weights).')

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict):
        """MMagic's GAN step; generator-only when there is no GAN loss."""
        if self.use_gan_loss:
            return super().train_step(data, optim_wrapper)
        data = self.data_preprocessor(data, True)
        wrapper = optim_wrapper['generator']
        wrapper.initialize_count_status(self.generator, 0, 1)
        log_vars = self.train_generator(data['inputs'], data['data_samples'],
                                        wrapper)
        if self.with_ema_gen:
            self.generator_ema.update_parameters(_unwrap(self.generator))
            if not self.generator_ema.update_buffers:
                self.generator_ema.sync_buffers(_unwrap(self.generator))
        return log_vars


@MODELS.register_module()
class StyleKDStyleGAN2(StyleKDMixin, StyleGAN2):
    """StyleKD on MMagic's ``StyleGAN2`` model. See :class:`StyleKDMixin`."""

    DEFAULT_FEATURE_LAYERS = (16, 32, 64, 128)  # resolutions

    def _feature_module_names(self, generator):
        out_size = generator.out_size
        names = []
        for res in self.feature_layers:
            level = int(round(math.log2(res)))
            if 2**level != res or not 8 <= res <= out_size:
                raise ValueError(f'feature_layers holds resolutions between '
                                 f'8 and {out_size}; got {res}.')
            names.append(f'convs.{2 * (level - 3) + 1}')
        return names

    def _rgb_module_names(self, generator):
        count = len(generator.to_rgbs)
        return ['to_rgb1'] + [f'to_rgbs.{i}' for i in range(count)]

    def _synthesise_pair(self, num_batches, s_rec, t_rec):
        student = _unwrap(self.generator)
        device = self.latent_directions.device
        mix = student.default_style_mode == 'mix' and \
            random.random() < student.mix_prob
        zs = [self.noise_fn(num_batches=num_batches)
              for _ in range(2 if mix else 1)]
        inject = random.randint(1, student.num_latents - 1) if mix else None
        noise = student.make_injected_noise()
        offsets = self.sample_latent_offsets(num_batches, device)

        def run(gen, recorders, latent_fn):
            latent = gen(zs, return_latent_only=True, inject_index=inject)
            shifted = torch.cat([latent, latent + offsets[:, None]])
            with _all(recorders.values()):
                images = latent_fn(gen, shifted)
            return dict(images=images, w=latent[:, 0])

        def synth(gen, latent):
            return gen([latent], input_is_latent=True, injected_noise=noise)

        s_out = run(self.generator, s_rec, synth)
        with torch.no_grad():
            t_out = run(self.teacher, t_rec, synth)
        return s_out, t_out


@MODELS.register_module()
class StyleKDStyleGAN3(StyleKDMixin, StyleGAN3):
    """StyleKD on MMagic's ``StyleGAN3`` model. See :class:`StyleKDMixin`.

    ``feature_layers`` are synthesis layer indices (``L{idx}``).
    """

    DEFAULT_FEATURE_LAYERS = (2, 4, 6, 8)  # layer indices

    def _feature_module_names(self, generator):
        layer_names = generator.synthesis.layer_names
        indices = self.feature_layers
        bad = [i for i in indices if not 0 <= i < len(layer_names) - 1]
        if bad:
            raise ValueError(f'feature_layers must be layer indices in '
                             f'[0, {len(layer_names) - 2}], got {bad}.')
        return [f'synthesis.{layer_names[i]}' for i in indices]

    def _rgb_module_names(self, generator):
        raise ValueError('StyleGAN3 has no intermediate RGB outputs '
                         '(`rgbs`); record `images` instead.')

    def _synthesise_pair(self, num_batches, s_rec, t_rec):
        device = self.latent_directions.device
        z = self.noise_fn(num_batches=num_batches)
        offsets = self.sample_latent_offsets(num_batches, device)
        kwargs = dict(self.forward_kwargs['gen'])

        def run(gen, recorders, gen_kwargs):
            # StyleGAN3 trains without style mixing: one w per sample
            w = _unwrap(gen).style_mapping(z)[:, 0]  # (B, S)
            shifted = torch.cat([w, w + offsets])
            with _all(recorders.values()):
                # through the (DDP-wrapped) generator's own forward
                images = gen(shifted, input_is_latent=True, **gen_kwargs)
            return dict(images=images, w=w)

        s_out = run(self.generator, s_rec, kwargs)
        with torch.no_grad():
            t_out = run(self.teacher, t_rec,
                        dict(update_emas=False, force_fp32=True))
        return s_out, t_out


class _all:
    """Enter several recorders at once."""

    def __init__(self, recorders):
        self.recorders = list(recorders)

    def __enter__(self):
        for rec in self.recorders:
            rec.__enter__()

    def __exit__(self, *exc):
        for rec in self.recorders:
            rec.__exit__(*exc)
