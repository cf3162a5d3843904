"""Ablation (h) = (c) with Singular Value Scaling of the pruned student
(every synthesis weight W = U S V^T -> U sqrt(S) V^T, every bias
b -> b / sqrt(||b||), to-RGB included as the SVS FFHQ script does)."""
_base_ = ['./ablation_c_latent_direction.py']

model = dict(
    student_init=dict(
        refine=dict(
            _delete_=True, type='SingularValueScaling',
            include_torgb=True)))
