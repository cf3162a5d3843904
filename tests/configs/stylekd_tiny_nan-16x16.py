"""The tiny StyleKD config with a loss that turns NaN on rank 1 at
iteration 2 (test only)."""
_base_ = ['./stylekd_tiny_train-16x16.py']
custom_imports = dict(
    imports=['mmstylekd', 'nan_on_one_rank_loss'], allow_failed_imports=False)
model = dict(
    distiller=dict(
        distill_losses=dict(loss_nan=dict(type='NanOnOneRankLoss')),
        loss_forward_mappings=dict(
            loss_nan=dict(
                pred=dict(from_student=True, output='images_orig'),
                target=dict(from_student=False, output='images_orig')))))
train_cfg = dict(max_iters=6)
