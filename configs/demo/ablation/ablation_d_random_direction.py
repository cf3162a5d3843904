"""Ablation (d) = (c) with random (Gaussian) instead of SeFa directions."""
_base_ = ['./ablation_c_latent_direction.py']

model = dict(latent_directions=dict(mode='random'))
