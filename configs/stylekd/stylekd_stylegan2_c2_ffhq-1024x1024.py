"""StyleKD: StyleGAN2 config-f FFHQ 1024 teacher -> 0.7-pruned student."""
_base_ = ['mmagic::styleganv2/stylegan2_c2_8xb4_ffhq-1024x1024.py']
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 1024
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan2/stylegan2_c2_ffhq_1024_b4x8_20210407_150045-618c9024.pth'  # noqa

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
