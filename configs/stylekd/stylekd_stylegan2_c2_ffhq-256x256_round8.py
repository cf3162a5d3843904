"""The StyleGAN2 FFHQ-256 paper config with hardware-friendly widths: the
0.7-pruned student's widths rounded down to multiples of 8 (torch-pruning's
``round_to``; 154/77/39 -> 152/72/32 channels; the content-aware criterion
still picks which channels stay).

Measured on a 2-core CPU (docs/speed.md, "Widths the hardware likes"): 14%
fewer MACs than the paper's student (3.61 against 4.20 GMACs) but 20-29%
less time at batch 1 on the fastest backends (onnxruntime 91.6 -> 64.6 ms,
torch.compile 72.5 -> 57.9 ms). Not trained: its FID against the paper's
student is unknown.
"""
_base_ = ['./stylekd_stylegan2_c2_ffhq-256x256.py']

model = dict(generator=dict(round_to=8))
