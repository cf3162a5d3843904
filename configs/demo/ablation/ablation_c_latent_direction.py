"""Ablation (c) = (b) + the latent-direction loss: the full StyleKD demo."""
_base_ = ['../stylekd_stylegan2_digits-32x32.py']
