"""Evaluation: complexity counting, teacher-student metrics."""
from .complexity import generator_complexity
from .digit_agreement import classify_digits, digit_agreement
from .teacher_student_consistency import TeacherStudentConsistency
from .teacher_student_pairs import (consistency_figures, generate_pairs,
                                    to_uint8)

__all__ = [
    'generator_complexity', 'consistency_figures', 'generate_pairs',
    'to_uint8', 'TeacherStudentConsistency', 'classify_digits',
    'digit_agreement'
]
