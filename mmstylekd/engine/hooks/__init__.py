"""Hooks."""
from .random_state_hook import RandomStateHook
from .teacher_student_sample_hook import (TeacherStudentSampleHook,
                                          teacher_student_grid)

__all__ = ['RandomStateHook', 'TeacherStudentSampleHook',
           'teacher_student_grid']
