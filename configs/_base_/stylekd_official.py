"""StyleKD's official hyper-parameters (FFHQ 256), shared by
configs/stylekd/*. Only ``stylekd_*`` variables, which the configs reference
as ``_base_.stylekd_*`` (the names do not collide with MMagic's keys).

L1 3, LPIPS (VGG) 3, latent-direction (KL) 30; directions "split", 5 per
block from the first 5 blocks after 4x4 (8..128 px), offset weight 5; batch
4 per GPU on 4 GPUs (16 in all, as the paper), lr 0.002, 450k iterations.
"""
# CAGAN's content-aware pruning (400 samples, 10 per backward pass,
# salt-and-pepper probability 0.05; no face-parsing mask is bundled, so the
# whole image counts as content) keeping the teacher's mapping network and
# kept synthesis weights. It runs once, at the first iteration of a fresh run,
# on the training device (minutes on a GPU); or prune offline with
# tools/prune.py --device cuda and pass model.student_ckpt.
stylekd_student_init = dict(
    criterion=dict(type='ContentAwareImportance'),
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
        # as the official code: the output losses compare the unshifted
        # images; the shifted half only feeds the latent-direction loss
        loss_l1=dict(
            pred=dict(from_student=True, output='images_orig'),
            target=dict(from_student=False, output='images_orig')),
        loss_lpips=dict(
            pred=dict(from_student=True, output='images_orig'),
            target=dict(from_student=False, output='images_orig')),
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
