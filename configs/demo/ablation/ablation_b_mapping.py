"""Ablation (b) = (a) + the teacher's mapping network inherited."""
_base_ = ['./ablation_a_baseline.py']

model = dict(student_init=dict(inherit_mapping=True))
