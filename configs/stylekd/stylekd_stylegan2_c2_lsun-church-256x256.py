"""StyleKD: StyleGAN2 config-f LSUN Church 256 (official weights) -> 0.7."""
_base_ = ['mmagic::styleganv2/stylegan2_c2_8xb4-800kiters_lsun-church-256x256.py']  # noqa
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 256
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan2/official_weights/stylegan2-church-config-f-official_20210327_172657-1d42b7d1.pth'  # noqa

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
    student_init=dict(
        criterion=dict(type='ContentAwareImportance'),
        inherit_mapping=True,
        inherit_synthesis=True,
        freeze_mapping=False))
