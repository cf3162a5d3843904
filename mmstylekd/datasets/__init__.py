"""Datasets."""
from .digits_dataset import DigitsDataset

__all__ = ['DigitsDataset']
