"""StyleKD: StyleGAN3-T FFHQ 256 teacher -> 0.7-pruned student."""
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
    use_gan_loss=True)

optim_wrapper = _base_.stylekd_optim_wrapper
train_cfg = _base_.stylekd_train_cfg
custom_hooks = _base_.stylekd_custom_hooks
