"""Ablation (i) = (f) + (h): diversity-aware pruning (100 samples, as row
(f)) then Singular Value Scaling, the SVS paper's recipe."""
_base_ = ['./ablation_f_diversity_aware.py']

model = dict(
    student_init=dict(
        refine=dict(
            _delete_=True, type='SingularValueScaling',
            include_torgb=True)))
