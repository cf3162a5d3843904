"""The tiny StyleKD config with a test split: tools/test.py runs on it."""
_base_ = ['./stylekd_tiny_train-16x16.py']

test_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='DigitsDataset',
        digits=[0],
        pipeline=[
            dict(type='Resize', keys='gt', scale=(16, 16)),
            dict(type='PackInputs')
        ]))
test_cfg = dict(_delete_=True, type='MultiTestLoop')
test_evaluator = dict(
    _delete_=True,
    metrics=[
        dict(
            type='TeacherStudentConsistency',
            prefix='teacher_student',
            fake_nums=8,
            lpips_net=None)
    ])
