"""StyleKD end to end at toy size: a narrow random teacher (16 px), a
0.5-pruned student, MMagic's GAN losses and our distillation losses mixed
with MMagic's own MSELoss, on scikit-learn's digits."""
_base_ = [
    'mmagic::_base_/models/base_styleganv2.py',
    'mmagic::_base_/gen_default_runtime.py',
]
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

widths = {4: 32, 8: 32, 16: 16}
gen_cfg = dict(
    type='StyleGAN2StudentGenerator',
    out_size=16,
    style_channels=32,
    num_mlps=2,
    channels=widths)
model = dict(
    type='StyleKDStyleGAN2',
    teacher=gen_cfg,
    teacher_ckpt=None,
    generator=dict(gen_cfg, channels=None, ratio=0.5, teacher_channels=widths),
    discriminator=dict(
        type='StyleGAN2NarrowDiscriminator', in_size=16, channels=widths,
        mbstd_cfg=dict(group_size=2, channel_groups=1)),
    student_init=dict(criterion=dict(type='WeightL1Importance')),
    latent_directions=dict(
        num_blocks=2, per_block=3, mode='split', offset_weight=5.0),
    feature_layers=[8, 16],
    distiller=dict(
        type='StyleKDDistiller',
        distill_losses=dict(
            loss_l1=dict(type='L1Loss', loss_weight=3.0),
            loss_rgb_l1=dict(type='MultiScaleRGBL1Loss', loss_weight=1.0),
            loss_w_mse=dict(type='MSELoss', loss_weight=1.0),
            loss_relation=dict(type='LatentDirectionLoss', loss_weight=30.0)),
        loss_forward_mappings=dict(
            loss_l1=dict(
                pred=dict(from_student=True, output='images_orig'),
                target=dict(from_student=False, output='images_orig')),
            loss_rgb_l1=dict(
                student_rgbs=dict(from_student=True, recorder='rgbs'),
                teacher_rgbs=dict(from_student=False, recorder='rgbs')),
            loss_w_mse=dict(
                pred=dict(from_student=True, output='w'),
                target=dict(from_student=False, output='w')),
            loss_relation=dict(
                student_feats=dict(from_student=True, recorder='feats'),
                teacher_feats=dict(from_student=False, recorder='feats')))),
    ema_config=dict(
        type='ExponentialMovingAverage', interval=1, momentum=0.01),
    loss_config=dict(r1_interval=4, g_reg_interval=4))

optim_wrapper = dict(
    generator=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0., 0.99))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.002, betas=(0., 0.99))))

train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='DigitsDataset',
        pipeline=[
            dict(type='Resize', keys='gt', scale=(16, 16)),
            dict(type='PackInputs')
        ]))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

train_cfg = dict(by_epoch=False, max_iters=3, val_interval=100000)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=10, save_best=None, max_keep_ckpts=5))
custom_hooks = [dict(type='RandomStateHook')]
randomness = dict(seed=0)
