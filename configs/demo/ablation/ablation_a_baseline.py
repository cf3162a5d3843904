"""Ablation (a) baseline: pruned synthesis, RE-INITIALISED mapping network,
output L1 + GAN loss only (no latent-direction loss)."""
_base_ = ['../stylekd_stylegan2_digits-32x32.py']

model = dict(
    student_init=dict(inherit_mapping=False),
    distiller=dict(
        _delete_=True,
        type='StyleKDDistiller',
        distill_losses=dict(loss_l1=dict(type='L1Loss', loss_weight=3.0)),
        loss_forward_mappings=dict(
            loss_l1=dict(
                pred=dict(from_student=True, output='images_orig'),
                target=dict(from_student=False, output='images_orig')))))
