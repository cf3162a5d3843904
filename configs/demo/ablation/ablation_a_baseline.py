"""Ablation (a) baseline: pruned synthesis, RE-INITIALISED mapping network,
output L1 (image and multi-scale RGB, as the demo) + GAN loss only (no
latent-direction loss)."""
_base_ = ['./ablation_c_latent_direction.py']

model = dict(
    student_init=dict(inherit_mapping=False),
    distiller=dict(
        _delete_=True,
        type='StyleKDDistiller',
        distill_losses=dict(
            loss_l1=dict(type='L1Loss', loss_weight=10.0),
            loss_rgb_l1=dict(type='MultiScaleRGBL1Loss', loss_weight=3.0)),
        loss_forward_mappings=dict(
            loss_l1=dict(
                pred=dict(from_student=True, output='images_orig'),
                target=dict(from_student=False, output='images_orig')),
            loss_rgb_l1=dict(
                student_rgbs=dict(from_student=True, recorder='rgbs'),
                teacher_rgbs=dict(from_student=False, recorder='rgbs')))))
