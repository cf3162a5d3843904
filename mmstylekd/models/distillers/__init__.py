"""Distillers."""
from .stylekd_distiller import StyleKDDistiller

__all__ = ['StyleKDDistiller']
