"""MMagic's own StyleGAN2 (model, generator, discriminator) at 16 px.

Used by the smoke tests: trains for a few iterations on CPU on a handful of
images that the test writes to ``train_dataloader.dataset.data_root``.
"""
_base_ = [
    'mmagic::_base_/models/base_styleganv2.py',
    'mmagic::_base_/gen_default_runtime.py',
    'mmagic::_base_/datasets/ffhq_flip.py',
]
custom_imports = dict(imports=['mmstylekd'], allow_failed_imports=False)

model = dict(
    generator=dict(out_size=16, style_channels=16, num_mlps=2),
    discriminator=dict(in_size=16),
    ema_config=dict(
        type='ExponentialMovingAverage', interval=1, momentum=0.01))

optim_wrapper = dict(
    generator=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0., 0.99))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.002, betas=(0., 0.99))))

data_root = None  # set by the test
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root))
# PackInputs() keeps the real images in data samples (`gt_img`): with
# keys='gt' they would become `inputs`, which MMagic's GAN forward reads as
# noise, and the SWD metric feeds real batches through it.
test_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='LoadImageFromFile', key='gt'),
            dict(type='PackInputs')
        ]))
val_dataloader = None
val_cfg = None
val_evaluator = None

train_cfg = dict(by_epoch=False, max_iters=3, val_interval=100000)
test_evaluator = dict(metrics=[
    dict(
        type='SWD',
        prefix='swd',
        fake_nums=8,
        sample_model='ema',
        image_shape=(3, 16, 16))
])

default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=3, save_best=None, max_keep_ckpts=1))
custom_hooks = []
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
