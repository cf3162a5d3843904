"""Runner-side pieces: checkpoint loading support and hooks."""
from .checkpoint_safety import allow_mmengine_checkpoint_globals
from .hooks import RandomStateHook, TeacherStudentSampleHook

__all__ = [
    'allow_mmengine_checkpoint_globals', 'RandomStateHook',
    'TeacherStudentSampleHook'
]
