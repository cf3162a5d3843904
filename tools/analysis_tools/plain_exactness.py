"""How exactly the plain-PyTorch StyleGAN3 port reproduces MMagic's.

    python tools/analysis_tools/plain_exactness.py CONFIG [CONFIG ...] \
        [--num-samples 4] [--truncation 0.5]

For the teacher and the student of each config (random weights, with
biases, magnitude EMAs, w_avg and the Fourier affine moved off their
initial values so that none is trivially 0 or 1), prints the relative L2
error ||plain - mmagic|| / ||mmagic|| of the images for the same z: one z at
a time, the plain port on the whole batch, and with truncation.
"""
import argparse

import torch
from mmagic.registry import MODELS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.deployment.stylegan3_export_modules import \
    plain_stylegan3_from_mmagic


def relative_l2(out, ref):
    out, ref = out.double(), ref.double()
    return float((out - ref).norm() / ref.norm())


def randomise(generator, seed=1):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in generator.named_parameters():
            if name.endswith('bias'):
                param.add_(torch.randn_like(param) * 0.1)
            if 'input.affine.weight' in name:
                param.add_(torch.randn_like(param) * 0.5)
        for name, buf in generator.named_buffers():
            if name.endswith('magnitude_ema'):
                buf.uniform_(0.5, 2)
            if name.endswith('w_avg'):
                buf.normal_()
    return generator.eval()


@torch.no_grad()
def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--num-samples', type=int, default=4)
    parser.add_argument('--truncation', type=float, default=0.5)
    args = parser.parse_args()
    print('| generator | one z at a time | batch | truncation |')
    print('|---|---|---|---|')
    for path in args.configs:
        model = Config.fromfile(path).model
        for role in ('generator', 'teacher'):
            mmagic = randomise(MODELS.build(model[role]))
            plain = plain_stylegan3_from_mmagic(mmagic)
            torch.manual_seed(0)
            z = torch.randn(args.num_samples, mmagic.noise_size)
            ref = torch.cat([mmagic(z[i:i + 1]) for i in range(len(z))])
            one = torch.cat([plain(z[i:i + 1]) for i in range(len(z))])
            truncated = plain_stylegan3_from_mmagic(mmagic, args.truncation)
            print(f'| {path} {"student" if role == "generator" else role} '
                  f'| {relative_l2(one, ref):.1e} '
                  f'| {relative_l2(plain(z), ref):.1e} '
                  f'| {relative_l2(truncated(z[:1]), mmagic(z[:1], truncation=args.truncation)):.1e} |')  # noqa: E501


if __name__ == '__main__':
    main()
