"""Student generators and their initialisation from a teacher."""
from .builder import init_student_from_teacher, student_widths
from .mapping_fitting import fit_mapping_network
from .stylegan2_student import StyleGAN2StudentGenerator
from .stylegan3_student import (StyleGAN3StudentGenerator,
                                StyleGAN3StudentSynthesisNetwork)

__all__ = [
    'StyleGAN2StudentGenerator', 'StyleGAN3StudentGenerator',
    'StyleGAN3StudentSynthesisNetwork', 'init_student_from_teacher',
    'student_widths', 'fit_mapping_network'
]
