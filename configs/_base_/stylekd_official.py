"""StyleKD's official hyper-parameters (FFHQ 256), shared by
configs/stylekd/*. Only ``stylekd_*`` variables, which the configs reference
as ``_base_.stylekd_*`` (the names do not collide with MMagic's keys).

L1 3, LPIPS (VGG) 3, latent-direction (KL) 30; directions "split", 5 per
block from the first 5 blocks after 4x4 (8..128 px), offset weight 5; batch
4 per GPU on 4 GPUs (16 in all, as the paper), lr 0.002, 450k iterations.
"""
# content-aware pruning (the paper's CAGAN start) keeping the teacher's
# mapping network and kept synthesis weights. Two z (four images with
# gradients) per backward pass, to bound memory on GPUs: StyleGAN3-T at
# 256 px on CPU (mmcv's reference ops) ran out of 23 GB with two z; with
# `model.student_init.criterion.batch_size=1` its 3-iteration CPU run peaked
# at 18.5 GB.
stylekd_student_init = dict(
    criterion=dict(type='ContentAwareImportance', batch_size=2),
    inherit_mapping=True,
    inherit_synthesis=True,
    freeze_mapping=False)

stylekd_latent_directions = dict(
    num_blocks=5, per_block=5, mode='split', offset_weight=5.0)

stylekd_distiller = dict(
    type='StyleKDDistiller',
    distill_losses=dict(
        loss_l1=dict(type='L1Loss', loss_weight=3.0),
        loss_lpips=dict(type='LPIPSLoss', loss_weight=3.0, net='vgg'),
        loss_latent_direction=dict(
            type='LatentDirectionLoss', loss_weight=30.0, mode='kl')),
    loss_forward_mappings=dict(
        loss_l1=dict(
            pred=dict(from_student=True, recorder='images'),
            target=dict(from_student=False, recorder='images')),
        loss_lpips=dict(
            pred=dict(from_student=True, recorder='images'),
            target=dict(from_student=False, recorder='images')),
        loss_latent_direction=dict(
            student_feats=dict(from_student=True, recorder='feats'),
            teacher_feats=dict(from_student=False, recorder='feats'))))

# torch 2.13's Adam wants float betas (MMagic's configs write `(0, ...)`).
_g_reg_ratio = 4 / (4 + 1)
_d_reg_ratio = 16 / (16 + 1)
stylekd_optim_wrapper = dict(
    generator=dict(
        optimizer=dict(
            type='Adam',
            lr=0.002 * _g_reg_ratio,
            betas=(0., 0.99**_g_reg_ratio))),
    discriminator=dict(
        optimizer=dict(
            type='Adam',
            lr=0.002 * _d_reg_ratio,
            betas=(0., 0.99**_d_reg_ratio))))

# first validation (FID-50k, PPL) at 10k iterations, not after short runs
stylekd_train_cfg = dict(
    max_iters=450000, val_begin=10000, val_interval=10000)

stylekd_custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=5000,
        fixed_input=True,
        vis_kwargs_list=dict(type='GAN', name='fake_img')),
    dict(type='TeacherStudentSampleHook', interval=5000, num_samples=32),
    dict(type='RandomStateHook'),
]
