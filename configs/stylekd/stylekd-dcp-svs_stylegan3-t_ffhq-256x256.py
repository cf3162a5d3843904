"""DCP + SVS + StyleKD: StyleGAN3-T FFHQ 256 -> 0.7-pruned student.

Singular Value Scaling (Kim and Yoo, AAAI 2025, arXiv 2412.17387) on this
project's StyleGAN3-T StyleKD config (its docstring lists the StyleKD and
GAN settings, which are kept). Changed here:

- Pruning: DCP-GAN's diversity-aware criterion (defaults: 1,000 samples,
  batch 5, 10 directions, strength 5). The SVS repository ships no
  StyleGAN3 pruning script, so DCP-GAN's own defaults are used.
- Refinement: Singular Value Scaling of every synthesis weight and bias,
  the to-RGB layer included, as the official StyleGAN3 code does
  (``stylegan3-compression/training/training_loop_scaling.py`` has no
  to-RGB exclusion), the Fourier input's weight and affine included.

Not taken from the SVS code: its schedule and its StyleGAN3 latent-direction
layers (L2, L4, L6, L9 there; L1..L5 directions and L2/L4/L6/L8 features
here). The SVS paper's own FIDs for StyleGAN3 FFHQ 256: DCP 9.88, DCP + SVS
8.38 (its table, not comparable with FIDs of other papers).
"""
_base_ = ['./stylekd_stylegan3-t_ffhq-256x256.py']

model = dict(
    student_init=dict(
        criterion=dict(_delete_=True, type='DiversityAwareImportance'),
        refine=dict(type='SingularValueScaling', include_torgb=True)))
