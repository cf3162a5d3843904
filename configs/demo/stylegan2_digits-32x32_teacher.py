"""A narrow StyleGAN2 trained on scikit-learn's digits: our CPU teacher.

MMagic's StyleGAN2 model, losses (non-saturating, R1, path length) and EMA,
with explicit narrow widths so that it trains on a 2-core CPU.
"""
_base_ = [
    'mmagic::_base_/models/base_styleganv2.py',
    'mmagic::_base_/gen_default_runtime.py',
    '../_base_/digits_32x32.py',
]
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

widths = {4: 128, 8: 128, 16: 64, 32: 32}
d_reg_interval = 16
g_reg_interval = 4
g_reg_ratio = g_reg_interval / (g_reg_interval + 1)
d_reg_ratio = d_reg_interval / (d_reg_interval + 1)

model = dict(
    generator=dict(
        # MMagic's StyleGAN2Generator with explicit widths
        type='StyleGAN2StudentGenerator',
        out_size=32,
        style_channels=128,
        num_mlps=4,
        channels=widths),
    discriminator=dict(
        type='StyleGAN2NarrowDiscriminator', in_size=32, channels=widths),
    ema_config=dict(
        type='ExponentialMovingAverage', interval=1, momentum=0.002),
    loss_config=dict(
        r1_loss_weight=10. / 2. * d_reg_interval,
        r1_interval=d_reg_interval,
        norm_mode='HWC',
        g_reg_interval=g_reg_interval,
        g_reg_weight=2. * g_reg_interval,
        pl_batch_shrink=2))

optim_wrapper = dict(
    generator=dict(
        optimizer=dict(
            type='Adam', lr=0.002 * g_reg_ratio,
            betas=(0., 0.99**g_reg_ratio))),
    discriminator=dict(
        optimizer=dict(
            type='Adam', lr=0.002 * d_reg_ratio,
            betas=(0., 0.99**d_reg_ratio))))

train_cfg = dict(by_epoch=False, max_iters=6000, val_interval=100000)

# SWD (sliced Wasserstein distance) needs no pretrained network, so it runs
# offline; FID needs Inception weights.
metrics = [
    dict(
        type='SWD',
        prefix='swd',
        fake_nums=1024,
        sample_model='ema',
        image_shape=(3, 32, 32))
]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1000, max_keep_ckpts=2, save_best=None))

custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=1000,
        fixed_input=True,
        vis_kwargs_list=dict(type='GAN', name='fake_img'))
]

randomness = dict(seed=2022, deterministic=False)
env_cfg = dict(cudnn_benchmark=False)
