"""StyleKD: StyleGAN2 config-f LSUN Church 256 (official weights) -> 0.7.

Same method and hyper-parameters as the FFHQ-256 config; teacher and data
as MMagic's ``stylegan2_c2_8xb4-800kiters_lsun-church-256x256.py``.
"""
_base_ = ['./stylekd_stylegan2_c2_ffhq-256x256.py']

teacher_ckpt = 'https://download.openmmlab.com/mmediting/stylegan2/official_weights/stylegan2-church-config-f-official_20210327_172657-1d42b7d1.pth'  # noqa
model = dict(teacher_ckpt=teacher_ckpt)

# MMagic's LSUN-Church config reads an image folder exported from LSUN
data_root = './data/lsun-church'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
