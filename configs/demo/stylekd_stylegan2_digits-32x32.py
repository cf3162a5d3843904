"""StyleKD demo on CPU: distil the digits teacher into a student with 75%
fewer channels in every synthesis layer (128 -> 32, ..., 32 -> 8).

Full method: pruned initialisation (torch-pruning, weight L1) refined by
Singular Value Scaling (SVS, Kim and Yoo 2025; synthesis convolutions and
style affines, to-RGB layers left as pruned),
inherited mapping network, output L1 (on the image and on every
resolution's RGB output), latent-direction (relation) loss, GAN loss with R1
and path-length regularisation against the teacher's discriminator, EMA.

Schedule, chosen from measurements (docs/demo.md, "Choosing the demo's
schedule" and "A faster demo"): generator lr 0.0064 with output L1 weight
10 plus a multi-scale RGB L1 of weight 3; without SVS 1500 iterations
reached 92% same digit as the teacher (EMA student, 256 samples), with SVS
1000 iterations are run (the ablation's rows (c) and (h): SVS adds about 2
points at 600 iterations).

LPIPS is left out on purpose: its VGG backbone cannot be downloaded offline,
and the demo must not change its losses depending on whether a file happens
to exist. With the weights in $TORCH_HOME, add it back as in
configs/stylekd/stylekd_stylegan2_c2_ffhq-256x256.py.
"""
_base_ = ['./stylegan2_digits-32x32_teacher.py']

teacher_widths = {4: 128, 8: 128, 16: 64, 32: 32}
teacher = dict(
    type='StyleGAN2StudentGenerator',
    out_size=32,
    style_channels=128,
    num_mlps=4,
    channels=teacher_widths)

model = dict(
    type='StyleKDStyleGAN2',
    teacher=teacher,
    teacher_ckpt='checkpoints/stylegan2_digits-32x32_teacher_iter6000.pth',
    generator=dict(
        _delete_=True,
        type='StyleGAN2StudentGenerator',
        out_size=32,
        style_channels=128,
        num_mlps=4,
        ratio=0.75,
        teacher_channels=teacher_widths),
    student_init=dict(
        criterion=dict(type='WeightL1Importance'),
        inherit_mapping=True,
        inherit_synthesis=True,
        freeze_mapping=False,
        # to-RGB layers left as pruned (the class default; the ablation's
        # row (h) scales them too)
        refine=dict(type='SingularValueScaling')),
    init_discriminator_from_teacher=True,
    latent_directions=dict(
        num_blocks=3, per_block=5, mode='split', offset_weight=5.0),
    feature_layers=[8, 16, 32],
    distiller=dict(
        type='StyleKDDistiller',
        distill_losses=dict(
            loss_l1=dict(type='L1Loss', loss_weight=10.0),
            loss_rgb_l1=dict(type='MultiScaleRGBL1Loss', loss_weight=3.0),
            loss_latent_direction=dict(
                type='LatentDirectionLoss', loss_weight=30.0, mode='kl')),
        loss_forward_mappings=dict(
            loss_l1=dict(
                pred=dict(from_student=True, output='images_orig'),
                target=dict(from_student=False, output='images_orig')),
            loss_rgb_l1=dict(
                student_rgbs=dict(from_student=True, recorder='rgbs'),
                teacher_rgbs=dict(from_student=False, recorder='rgbs')),
            loss_latent_direction=dict(
                student_feats=dict(from_student=True, recorder='feats'),
                teacher_feats=dict(from_student=False, recorder='feats')))),
    use_gan_loss=True,
    # a short run: the EMA must follow the student within ~100 iterations
    ema_config=dict(
        type='ExponentialMovingAverage', interval=1, momentum=0.01))

# the teacher's 0.002 x 4/5 (MMagic's lazy-regularisation factor) x 4: a
# short run needs large steps
optim_wrapper = dict(generator=dict(optimizer=dict(lr=0.008 * 4 / 5)))

train_cfg = dict(by_epoch=False, max_iters=1000, val_interval=1000)

metrics = [
    dict(
        type='TeacherStudentConsistency',
        prefix='teacher_student',
        fake_nums=256,
        lpips_net=None),
    dict(
        type='SWD',
        prefix='swd',
        fake_nums=1024,
        sample_model='ema',
        image_shape=(3, 32, 32)),
]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=500, max_keep_ckpts=3, save_best=None))

custom_hooks = [
    dict(type='TeacherStudentSampleHook', interval=250, num_samples=32),
    dict(type='RandomStateHook'),
]
