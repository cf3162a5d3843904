"""StyleKD: StyleGAN3-T FFHQ 256 teacher -> 0.7-pruned student.

What this config is, exactly (the paper reports a StyleGAN3 result but gives
no StyleGAN3-specific hyper-parameters; its table repeats the StyleGAN2 row's
30.0M / 45.1B for the StyleGAN3 teacher):

- Teacher: MMagic's StyleGAN3-T FFHQ-256 (``stylegan3-t_gamma2.0_8xb4-fp16-
  noaug_ffhq-256x256``), 23.32M parameters, 119.0 GMACs per image (measured
  by tools/analysis_tools/complexity.py). Student: every synthesis layer
  and the Fourier input keep ``C - int(0.7 C)`` channels: 3.16M, 13.78 GMACs;
  content-aware pruning (CAGAN's criterion; StyleGAN3 has no injected noise)
  and the teacher's mapping network with its ``w_avg``.
- Distillation: the official StyleGAN2 FFHQ-256 values, unchanged: output L1
  3 and LPIPS 3 on the unshifted images, latent-direction KL 30, offsets
  N(0, 1) x 5. Directions "split": 5 per synthesis layer from the style
  affines of layers L1..L5 (one affine per layer; StyleGAN2 stacks a
  block's two convolutions). ``feature_layers=[2, 4, 6, 8]`` records the
  outputs of layers L2, L4, L6 and L8: our choice, not the paper's. No style
  mixing (MMagic's StyleGAN3 trains without it).
- GAN training: MMagic's StyleGAN3-T recipe: non-saturating loss, R1 with
  gamma 2 (weight 16 every 16 iterations), StyleGAN2 discriminator
  (channel multiplier 1), the student's last four resolutions in fp16 on
  CUDA (MMagic's ``num_fp16_res=4``; the teacher runs in fp32), and
  MMagic's path-length regularisation (weight 8 every 4 iterations), which
  MMagic's StyleGAN3 model inherits from StyleGAN2 although the official
  StyleGAN3 code does not use it. Adam at StyleKD's lr 0.002 (MMagic's
  StyleGAN3 config: 0.0025), 4 GPUs x 4 images, 450k iterations, EMA ramping
  up over 10 kimg at that batch of 16.
"""
_base_ = [
    'mmagic::styleganv3/stylegan3-t_gamma2.0_8xb4-fp16-noaug_ffhq-256x256.py',
    '../_base_/stylekd_official.py'
]  # noqa
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 256
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan3/stylegan3_t_noaug_fp16_gamma2.0_ffhq_256_b4x8_best_fid_iter_740000_20220401_122456-730e1fba.pth'  # noqa
synthesis_cfg = dict(
    type='SynthesisNetwork',
    channel_base=16384,
    channel_max=512,
    magnitude_ema_beta=0.999)

model = dict(
    type='StyleKDStyleGAN3',
    teacher=dict(
        type='StyleGANv3Generator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        synthesis_cfg=synthesis_cfg),
    teacher_ckpt=teacher_ckpt,
    generator=dict(
        _delete_=True,
        type='StyleGAN3StudentGenerator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        synthesis_cfg=synthesis_cfg,
        ratio=0.7),
    student_init=_base_.stylekd_student_init,
    latent_directions=_base_.stylekd_latent_directions,
    feature_layers=[2, 4, 6, 8],
    distiller=_base_.stylekd_distiller,
    use_gan_loss=True,
    # MMagic's config assumes 8 GPUs x 4 images; this one runs 4 x 4
    ema_config=dict(batch_size=16))

optim_wrapper = _base_.stylekd_optim_wrapper
train_cfg = _base_.stylekd_train_cfg
custom_hooks = _base_.stylekd_custom_hooks
