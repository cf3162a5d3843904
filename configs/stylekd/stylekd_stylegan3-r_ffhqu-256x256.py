"""StyleKD: StyleGAN3-R FFHQ-U 256 (official weights) -> 0.7-pruned."""
_base_ = ['mmagic::styleganv3/stylegan3-r_cvt-official-rgb_8xb4_ffhqu-256x256.py']  # noqa
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 256
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan3/stylegan3_r_ffhqu_256_b4x8_cvt_official_rgb_20220329_234909-4521d963.pth'  # noqa
synthesis_cfg = dict(
    type='SynthesisNetwork',
    channel_base=32768,
    channel_max=1024,
    magnitude_ema_beta=0.999,
    conv_kernel=1,
    use_radial_filters=True)

model = dict(
    type='StyleKDStyleGAN3',
    teacher=dict(
        type='StyleGANv3Generator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        rgb2bgr=True,
        synthesis_cfg=synthesis_cfg),
    teacher_ckpt=teacher_ckpt,
    generator=dict(
        _delete_=True,
        type='StyleGAN3StudentGenerator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        rgb2bgr=True,
        synthesis_cfg=synthesis_cfg,
        ratio=0.7),
    student_init=dict(
        criterion=dict(type='ContentAwareImportance'),
        inherit_mapping=True,
        inherit_synthesis=True,
        freeze_mapping=False))
