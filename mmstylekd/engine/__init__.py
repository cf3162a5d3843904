"""Runner-side pieces: checkpoint loading support, launch setup and hooks."""
from .checkpoint_integrity import check_checkpoint_complete
from .checkpoint_safety import allow_mmengine_checkpoint_globals
from .checkpoint_url import (UnsafeCheckpointError, cached_checkpoint_path,
                             register_url_checkpoint_loaders)
from .cpu_distributed import setup_cpu_distributed
from .hooks import RandomStateHook, TeacherStudentSampleHook

__all__ = [
    'allow_mmengine_checkpoint_globals', 'cached_checkpoint_path',
    'check_checkpoint_complete', 'register_url_checkpoint_loaders',
    'setup_cpu_distributed', 'RandomStateHook', 'TeacherStudentSampleHook',
    'UnsafeCheckpointError'
]
