"""Bring your own teacher: NVlabs and rosinality checkpoints -> MMagic.

``convert_nvlabs_pickle`` (StyleGAN2-ADA / StyleGAN3 ``.pkl``, read without
running code from the file) and ``convert_rosinality_checkpoint``
(rosinality/CAGAN/StyleKD ``.pt``) return a :class:`ConvertedTeacher`;
``save_mmagic_checkpoint`` and ``write_teacher_config`` write it.
"""
from .config_writer import write_teacher_config
from .layout import LayoutError
from .mmagic_checkpoint import (ConvertedTeacher, save_mmagic_checkpoint,
                                summary)
from .nvlabs_pickle import UnsafePickleError, load_nvlabs_pickle
from .nvlabs_to_mmagic import convert_nvlabs_pickle
from .rosinality_to_mmagic import convert_rosinality_checkpoint

__all__ = [
    'ConvertedTeacher', 'LayoutError', 'UnsafePickleError',
    'convert_nvlabs_pickle', 'convert_rosinality_checkpoint',
    'load_nvlabs_pickle', 'save_mmagic_checkpoint', 'summary',
    'write_teacher_config'
]
