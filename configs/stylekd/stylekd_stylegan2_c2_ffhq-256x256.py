"""StyleKD: StyleGAN2 config-f (c2) FFHQ 256 teacher -> 0.7-pruned student.

Teacher: MMagic's model-zoo StyleGAN2 FFHQ-256 (FID 3.99 in MMagic's zoo).
Student: every synthesis width reduced by the paper's ratio 0.7 (512 -> 154),
initialised by content-aware pruning, mapping network inherited.
"""
_base_ = [
    'mmagic::styleganv2/stylegan2_c2_8xb4-800kiters_ffhq-256x256.py',
    '../_base_/stylekd_official.py'
]
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 256
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan2/stylegan2_c2_ffhq_256_b4x8_20210407_160709-7890ae1f.pth'  # noqa

model = dict(
    type='StyleKDStyleGAN2',
    teacher=dict(
        type='StyleGANv2Generator', out_size=out_size, style_channels=512),
    teacher_ckpt=teacher_ckpt,
    generator=dict(
        _delete_=True,
        type='StyleGAN2StudentGenerator',
        out_size=out_size,
        style_channels=512,
        ratio=0.7),
    student_init=_base_.stylekd_student_init,
    latent_directions=_base_.stylekd_latent_directions,
    feature_layers=[16, 32, 64, 128],
    distiller=_base_.stylekd_distiller,
    use_gan_loss=True)

optim_wrapper = _base_.stylekd_optim_wrapper
train_cfg = _base_.stylekd_train_cfg
custom_hooks = _base_.stylekd_custom_hooks
