"""StyleKD: StyleGAN3-T FFHQ 256 teacher -> 0.7-pruned student."""
_base_ = ['mmagic::styleganv3/stylegan3-t_gamma2.0_8xb4-fp16-noaug_ffhq-256x256.py']  # noqa
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

out_size = 256
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan3/stylegan3_t_noaug_fp16_gamma2.0_ffhq_256_b4x8_best_fid_iter_740000_20220401_122456-730e1fba.pth'  # noqa
synthesis_cfg = dict(
    type='SynthesisNetwork',
    channel_base=16384,
    channel_max=512,
    magnitude_ema_beta=0.999)

model = dict(
    type='StyleKDStyleGAN3',
    teacher=dict(
        type='StyleGANv3Generator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        synthesis_cfg=synthesis_cfg),
    teacher_ckpt=teacher_ckpt,
    generator=dict(
        _delete_=True,
        type='StyleGAN3StudentGenerator',
        noise_size=512,
        style_channels=512,
        out_size=out_size,
        img_channels=3,
        synthesis_cfg=synthesis_cfg,
        ratio=0.7),
    student_init=dict(
        criterion=dict(type='ContentAwareImportance'),
        inherit_mapping=True,
        inherit_synthesis=True,
        freeze_mapping=False),
    latent_directions=dict(
        num_blocks=5, per_block=5, mode='split', offset_weight=5.0),
    feature_layers=[2, 4, 6, 8],
    distiller=dict(
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
                teacher_feats=dict(from_student=False, recorder='feats')))),
    use_gan_loss=True)

# batch 4 per GPU on 4 GPUs (16 in all, as the paper), lr 0.002, 450k iters
# torch 2.13's Adam wants float betas (MMagic's configs write `(0, ...)`).
g_reg_ratio = 4 / (4 + 1)
d_reg_ratio = 16 / (16 + 1)
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(
            type='Adam',
            lr=0.002 * g_reg_ratio,
            betas=(0., 0.99**g_reg_ratio))),
    discriminator=dict(
        optimizer=dict(
            type='Adam', lr=0.002 * d_reg_ratio,
            betas=(0., 0.99**d_reg_ratio))))
# first validation (FID-50k, PPL) at 10k iterations, not after short runs
train_cfg = dict(max_iters=450000, val_begin=10000, val_interval=10000)

custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=5000,
        fixed_input=True,
        vis_kwargs_list=dict(type='GAN', name='fake_img')),
    dict(type='RandomStateHook'),
]
