"""Student generators and their initialisation from a teacher."""
from .builder import (check_student_init, init_student_from_teacher,
                      student_widths)
from .mapping_fitting import fit_mapping_network, freeze_mapping_network
from .refinements import (STUDENT_REFINEMENTS, SingularValueScaling,
                          refine_student)
from .stylegan2_student import StyleGAN2StudentGenerator
from .stylegan3_student import (StyleGAN3StudentGenerator,
                                StyleGAN3StudentSynthesisNetwork)

__all__ = [
    'StyleGAN2StudentGenerator', 'StyleGAN3StudentGenerator',
    'StyleGAN3StudentSynthesisNetwork', 'init_student_from_teacher',
    'student_widths', 'fit_mapping_network', 'freeze_mapping_network',
    'check_student_init', 'STUDENT_REFINEMENTS', 'SingularValueScaling',
    'refine_student'
]
