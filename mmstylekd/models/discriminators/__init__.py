"""Discriminators."""
from .stylegan2_narrow_discriminator import StyleGAN2NarrowDiscriminator

__all__ = ['StyleGAN2NarrowDiscriminator']
