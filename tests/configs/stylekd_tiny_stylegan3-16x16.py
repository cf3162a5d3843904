"""The tiny StyleKD config with a StyleGAN3-T teacher (16 px, 16-wide
layers) and a 0.5-pruned StyleGAN3 student, for tool tests."""
_base_ = ['./stylekd_tiny_train-16x16.py']

teacher = dict(
    type='StyleGAN3Generator',
    out_size=16,
    style_channels=16,
    img_channels=3,
    noise_size=16,
    synthesis_cfg=dict(
        type='SynthesisNetwork',
        channel_base=512,
        channel_max=16,
        num_layers=4,
        num_critical=2,
        margin_size=2),
    mapping_cfg=dict(type='MappingNetwork', num_layers=2))
model = dict(
    type='StyleKDStyleGAN3',
    teacher=dict(teacher, _delete_=True),
    generator=dict(
        teacher, type='StyleGAN3StudentGenerator', ratio=0.5,
        _delete_=True),
    feature_layers=[1, 2])
