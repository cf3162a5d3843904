"""Runner-side pieces: checkpoint loading support, launch setup and hooks."""
from .checkpoint_integrity import check_checkpoint_complete
from .checkpoint_safety import allow_mmengine_checkpoint_globals
from .cpu_distributed import setup_cpu_distributed
from .hooks import RandomStateHook, TeacherStudentSampleHook

__all__ = [
    'allow_mmengine_checkpoint_globals', 'check_checkpoint_complete',
    'setup_cpu_distributed', 'RandomStateHook', 'TeacherStudentSampleHook'
]
