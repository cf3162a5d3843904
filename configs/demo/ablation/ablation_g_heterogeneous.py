"""Ablation (g) = (c) with a heterogeneous student: explicit widths that no
single ratio gives, and a 2-layer mapping network (the teacher's has 4)
fitted to the teacher's w before distillation. The synthesis is still
initialised by pruning the teacher to these widths."""
_base_ = ['./ablation_c_latent_direction.py']

model = dict(
    generator=dict(
        ratio=None, channels={
            4: 32,
            8: 24,
            16: 16,
            32: 8
        }, num_mlps=2),
    student_init=dict(fit_mapping=dict(iters=2000)))
