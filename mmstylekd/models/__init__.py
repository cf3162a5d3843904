"""Models: students, pruning, losses, recorders and distillers."""
from .algorithms import *  # noqa: F401,F403
from .discriminators import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .generator_checkpoint import (extract_generator_state,
                                   load_generator_weights, read_checkpoint)
from .latent_directions import compute_latent_directions
from .losses import *  # noqa: F401,F403
from .pruning import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403
from .students import *  # noqa: F401,F403
from .teacher_identity import (TeacherIdentity, TeacherMismatchError,
                               check_recorded_teacher, check_student_teacher,
                               weights_fingerprint)
from .teacher_student_configs import (build_student,
                                      build_student_from_checkpoint,
                                      build_teacher, generator_configs)

__all__ = [
    'extract_generator_state', 'load_generator_weights', 'read_checkpoint',
    'compute_latent_directions', 'build_student',
    'build_student_from_checkpoint', 'build_teacher', 'generator_configs',
    'TeacherIdentity', 'TeacherMismatchError', 'check_recorded_teacher',
    'check_student_teacher', 'weights_fingerprint'
]
