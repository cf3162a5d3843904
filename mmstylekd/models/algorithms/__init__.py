"""StyleKD models (MMagic GAN models with a teacher)."""
from .stylekd import StyleKDMixin, StyleKDStyleGAN2, StyleKDStyleGAN3

__all__ = ['StyleKDMixin', 'StyleKDStyleGAN2', 'StyleKDStyleGAN3']
