# scikit-learn's bundled handwritten digits served at 32 px (no download).
dataset_type = 'DigitsDataset'

train_pipeline = [
    dict(type='Resize', keys='gt', scale=(32, 32), interpolation='bicubic'),
    # real images go to data samples (`gt_img`), as MMagic's GAN models and
    # SWD metric expect
    dict(type='PackInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, pipeline=train_pipeline))

test_dataloader = val_dataloader
