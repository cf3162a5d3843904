"""Ablation (c) = (b) + the latent-direction loss: the full StyleKD method
(the demo's config without its Singular Value Scaling; the base of the
other rows)."""
_base_ = ['../stylekd_stylegan2_digits-32x32.py']

model = dict(student_init=dict(refine=None))
