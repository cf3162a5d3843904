"""Evaluation: complexity counting, teacher-student metrics."""
from .complexity import generator_complexity

__all__ = ['generator_complexity']
