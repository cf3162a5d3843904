"""The demo student's architecture trained as a plain MMagic StyleGAN2,
without a teacher: the reference for the time of a StyleKD step

    python tools/analysis_tools/benchmark.py \
        configs/demo/stylekd_stylegan2_digits-32x32.py --batch-sizes 1 \
        --gan-baseline configs/demo/stylegan2_digits-32x32_student_gan.py

Same student widths (75% fewer channels than the teacher), the teacher's
discriminator architecture, MMagic's losses (non-saturating, R1, path
length) and EMA.
"""
_base_ = ['./stylegan2_digits-32x32_teacher.py']

model = dict(
    generator=dict(
        channels={
            4: 32,
            8: 32,
            16: 16,
            32: 8
        }))
