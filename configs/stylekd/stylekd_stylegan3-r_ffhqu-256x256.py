"""StyleKD: StyleGAN3-R FFHQ-U 256 (official weights) -> 0.7-pruned student.

Same method and hyper-parameters as the StyleGAN3-T config (see its
docstring: StyleGAN2 values applied unchanged, MMagic's StyleGAN3 GAN recipe
including its path-length regularisation); teacher layout (``channel_base``
32768, ``channel_max`` 1024, 1x1 convs, radial filters, RGB->BGR output) as
MMagic's ``stylegan3-r_cvt-official-rgb_8xb4_ffhqu-256x256``: 15.78M
parameters and 116.9 GMACs; the 0.7 student 3.04M and 25.59 GMACs (measured
by tools/analysis_tools/complexity.py). The paper reports no StyleGAN3-R
result.
"""
_base_ = ['./stylekd_stylegan3-t_ffhq-256x256.py']

teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan3/stylegan3_r_ffhqu_256_b4x8_cvt_official_rgb_20220329_234909-4521d963.pth'  # noqa
synthesis_cfg = dict(
    type='SynthesisNetwork',
    channel_base=32768,
    channel_max=1024,
    magnitude_ema_beta=0.999,
    conv_kernel=1,
    use_radial_filters=True)

model = dict(
    teacher=dict(rgb2bgr=True, synthesis_cfg=synthesis_cfg),
    teacher_ckpt=teacher_ckpt,
    generator=dict(rgb2bgr=True, synthesis_cfg=synthesis_cfg))

data_root = './data/ffhqu/images'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
