"""Ablation (d) = (c) with random (Gaussian) instead of SeFa directions."""
_base_ = ['../stylekd_stylegan2_digits-32x32.py']

model = dict(latent_directions=dict(mode='random'))
