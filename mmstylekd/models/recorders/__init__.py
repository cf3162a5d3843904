"""Recorders of intermediate tensors."""
from .module_outputs_recorder import ModuleOutputsRecorder

__all__ = ['ModuleOutputsRecorder']
