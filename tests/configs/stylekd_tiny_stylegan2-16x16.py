"""A tiny StyleKD config for tool tests: MMagic's StyleGAN2Generator at 16
px (512 channels, 16-d styles) as teacher and a 0.5-pruned student."""
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

model = dict(
    type='StyleKDStyleGAN2',
    teacher=dict(
        type='StyleGANv2Generator', out_size=16, style_channels=16,
        num_mlps=2),
    teacher_ckpt=None,
    generator=dict(
        type='StyleGAN2StudentGenerator',
        out_size=16,
        style_channels=16,
        num_mlps=2,
        ratio=0.5),
    student_init=dict(criterion=dict(type='WeightL1Importance')))
