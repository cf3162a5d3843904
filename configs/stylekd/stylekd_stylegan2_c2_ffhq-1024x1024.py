"""StyleKD: StyleGAN2 config-f FFHQ 1024 teacher -> 0.7-pruned student.

Same method and hyper-parameters as the FFHQ-256 config; teacher, resolution
and data from MMagic's ``stylegan2_c2_8xb4_ffhq-1024x1024.py``.
"""
_base_ = ['./stylekd_stylegan2_c2_ffhq-256x256.py']

out_size = 1024
teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan2/stylegan2_c2_ffhq_1024_b4x8_20210407_150045-618c9024.pth'  # noqa

model = dict(
    teacher=dict(out_size=out_size),
    teacher_ckpt=teacher_ckpt,
    generator=dict(out_size=out_size),
    discriminator=dict(in_size=out_size))

data_root = './data/ffhq/images'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
