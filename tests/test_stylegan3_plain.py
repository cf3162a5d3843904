"""The plain-PyTorch StyleGAN3 generator against MMagic's.

Tiny generators (T and R layouts, teachers and the project's explicit-width
students with irregular widths, a converted NVlabs snapshot), every tensor
randomised (magnitude EMAs and ``w_avg`` included): images equal MMagic's
to relative L2 < 1e-5 in fp32; TorchScript and ONNX (onnxruntime) give the
same images; fp16 / bf16 give finite images close to fp32; a forward on
the meta device creates no tensor on another device.
"""
import pickle

import pytest
import torch
from mmagic.registry import MODELS
from test_converters import (converted_generator, fake_nvlabs_modules,
                             stylegan3_source)
from torch.utils._python_dispatch import TorchDispatchMode

import mmstylekd  # noqa: F401
from mmstylekd.converters import convert_nvlabs_pickle
from mmstylekd.deployment.stylegan3_export_modules import (
    PlainStyleGAN3Generator, plain_stylegan3_from_mmagic)

EXACT = 1e-5
EXPORTED = 1e-4
NOISE = 12
STYLE = 16


def rel_l2(out, ref):
    out, ref = out.detach().double(), ref.detach().double()
    return float((out - ref).norm() / ref.norm())


def synthesis_args(radial, out_size):
    args = dict(channel_base=32 * out_size, channel_max=24, num_layers=4,
                num_critical=2, margin_size=3)
    if radial:
        args.update(conv_kernel=1, use_radial_filters=True)
    return args


def randomise(gen, seed=1):
    """Every tensor away from its initial value (biases, the Fourier
    affine, magnitude EMAs, w_avg, the user transform): no gain or offset
    is trivially 1 or 0. The up/down filters are made asymmetric (the
    designed ones are symmetric, which would hide a missing flip or
    swapped axes)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in gen.parameters():
            p.add_(torch.randn_like(p) * 0.2)
        for name, buf in gen.named_buffers():
            if name.endswith('magnitude_ema'):
                buf.uniform_(0.5, 2.0)
            if name.endswith('w_avg'):
                buf.normal_()
            if name.endswith(('up_filter', 'down_filter')):
                buf.add_(torch.randn_like(buf) * 0.2 * buf.abs().max())
            if name.endswith('input.transform'):
                angle = torch.tensor(0.3)
                buf.copy_(torch.tensor(
                    [[angle.cos(), -angle.sin(), 0.1],
                     [angle.sin(), angle.cos(), -0.05], [0., 0., 1.]]))
    return gen.eval()


def build(radial=False, out_size=16, channels=None, rgb2bgr=False,
          **layer_kwargs):
    """A tiny MMagic StyleGAN3 teacher, or (``channels``) the project's
    explicit-width student."""
    cfg = dict(type='StyleGAN3Generator', out_size=out_size,
               style_channels=STYLE, img_channels=3, noise_size=NOISE,
               rgb2bgr=rgb2bgr,
               synthesis_cfg=dict(type='SynthesisNetwork',
                                  **synthesis_args(radial, out_size),
                                  **layer_kwargs))
    if channels is not None:
        cfg.update(type='StyleGAN3StudentGenerator', channels=channels)
    torch.manual_seed(0)
    return randomise(MODELS.build(cfg))


CASES = {
    'T16-teacher': dict(),
    'T32-student': dict(out_size=32, channels=[7, 13, 5, 11]),
    'R16-student': dict(radial=True, channels=[9, 5, 14, 3],
                        rgb2bgr=True),
    'R32-teacher': dict(radial=True, out_size=32),
    # a clamp that bites (the default 256 never does on random weights)
    'T16-clamped': dict(channels=[8, 6, 12, 5], conv_clamp=0.5),
}


@pytest.fixture(scope='module', params=list(CASES))
def case(request):
    gen = build(**CASES[request.param])
    return request.param, gen, plain_stylegan3_from_mmagic(gen)


def z_batch(n, seed=2):
    return torch.randn(n, NOISE, generator=torch.Generator().manual_seed(seed))


def test_matches_mmagic(case):
    name, gen, plain = case
    z = z_batch(3)
    with torch.no_grad():
        ref = torch.cat([gen(z[i:i + 1]) for i in range(3)])
        out = plain(z)
    size = gen.out_size
    assert out.shape == ref.shape == (3, 3, size, size)
    assert ref.std() > 1e-3
    assert rel_l2(out, ref) < EXACT, name
    # w input (WToImage's path) and a per-sample batch
    with torch.no_grad():
        w = gen.style_mapping(z, truncation=1)
        out_w = plain.synthesis(plain.truncate(w))
        ref_w = gen(w[:, 0], input_is_latent=True)
    assert rel_l2(out_w, ref_w) < EXACT
    assert rel_l2(plain.mapping(z), w[:, 0]) < EXACT
    if name.startswith('R16'):
        assert plain.rgb2bgr and plain.layers[0].down.weight_x.ndim == 4
    if name == 'T16-clamped':  # the clamp changes the images
        unclamped = plain_stylegan3_from_mmagic(gen)
        for layer in unclamped.layers:
            layer.clamp = -1.
        with torch.no_grad():
            assert rel_l2(unclamped(z), ref) > 1e-2


def test_truncation_towards_w_avg(case):
    _, gen, _ = case
    plain = PlainStyleGAN3Generator.from_mmagic(gen, truncation=0.6)
    z = z_batch(2, seed=3)
    with torch.no_grad():
        ref = torch.cat([gen(z[i:i + 1], truncation=0.6) for i in range(2)])
        assert rel_l2(plain(z), ref) < EXACT
        # w_avg is the default, an explicit mean latent the override
        mean = torch.randn(STYLE)
        other = PlainStyleGAN3Generator.from_mmagic(gen, 0.6, mean)
        assert torch.equal(other.mean_latent, mean)
        assert torch.equal(plain.mean_latent, gen.style_mapping.w_avg)


@pytest.mark.parametrize('up,down', [(True, True), (False, True),
                                     (True, False)])
def test_separable_filter_modes_agree(up, down):
    gen = build(out_size=16, channels=[6, 10, 4, 9])
    plain = plain_stylegan3_from_mmagic(gen, separable=dict(up=up,
                                                            down=down))
    z = z_batch(2)
    with torch.no_grad():
        ref = torch.cat([gen(z[i:i + 1]) for i in range(2)])
        assert rel_l2(plain(z), ref) < EXACT


@pytest.mark.parametrize('radial', [False, True], ids=['T', 'R'])
def test_converted_nvlabs_snapshot(radial, tmp_path):
    _, snapshot = stylegan3_source(radial)
    path = tmp_path / 'stylegan3.pkl'
    with fake_nvlabs_modules(), open(path, 'wb') as f:
        pickle.dump(dict(G_ema=snapshot), f, protocol=4)
    gen = converted_generator(convert_nvlabs_pickle(str(path)))
    plain = plain_stylegan3_from_mmagic(gen, truncation=0.7)
    z = z_batch(2, seed=5)
    with torch.no_grad():
        ref = torch.cat([gen(z[i:i + 1], truncation=0.7) for i in range(2)])
        out = plain(z)
    assert ref.std() > 1e-3
    assert rel_l2(out, ref) < EXACT


@pytest.fixture(scope='module')
def small():
    """A 16 px R student and a 16 px T teacher (MMagic's) for the export
    checks."""
    return [build(radial=True, channels=[9, 5, 14, 3]), build()]


def test_torchscript_same_images(small):
    z = z_batch(3, seed=6)
    for gen in small:
        plain = plain_stylegan3_from_mmagic(gen)
        scripted = torch.jit.script(plain)
        with torch.no_grad():
            assert rel_l2(scripted(z), plain(z)) < EXPORTED
            w = plain.mapping(z)[:, None].expand(-1, plain.num_latents, -1)
            assert rel_l2(scripted.synthesis(w), plain.synthesis(w)) < \
                EXPORTED


def test_onnx_same_images(small, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    for i, gen in enumerate(small):
        plain = plain_stylegan3_from_mmagic(gen)
        path = str(tmp_path / f'g{i}.onnx')
        with torch.no_grad():
            torch.onnx.export(plain, (z_batch(2), ), path, dynamo=False,
                              input_names=['z'], output_names=['image'],
                              dynamic_axes=dict(z={0: 'batch'},
                                                image={0: 'batch'}),
                              opset_version=17)
        sess = ort.InferenceSession(path,
                                    providers=['CPUExecutionProvider'])
        z = z_batch(3, seed=7)  # another batch size than exported
        out = torch.from_numpy(sess.run(None, dict(z=z.numpy()))[0])
        with torch.no_grad():
            assert rel_l2(out, plain(z)) < EXPORTED


@pytest.mark.parametrize('dtype,tol', [(torch.float16, 2e-2),
                                       (torch.bfloat16, 8e-2)])
def test_half_precision_close_to_fp32(small, dtype, tol):
    z = z_batch(4, seed=8)
    for gen in small:
        plain = plain_stylegan3_from_mmagic(gen)
        half = plain_stylegan3_from_mmagic(gen).to(dtype)
        # filters and weights in the compute dtype
        assert {b.dtype for b in half.buffers()} == {dtype}
        with torch.no_grad():
            out = half(z.to(dtype))
            ref = plain(z)
        assert out.dtype == dtype and torch.isfinite(out).all()
        assert rel_l2(out.float(), ref) < tol


class DeviceLog(TorchDispatchMode):
    """Devices of every tensor an op returns."""

    def __init__(self):
        super().__init__()
        self.devices = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in (out if isinstance(out, (tuple, list)) else [out]):
            if isinstance(t, torch.Tensor):
                self.devices.add((t.device.type, str(func)))
        return out


def test_forward_creates_tensors_on_the_input_device_only(small):
    for gen in small:
        meta = plain_stylegan3_from_mmagic(gen).to('meta')
        z = torch.empty(2, NOISE, device='meta')
        log = DeviceLog()
        with torch.no_grad(), log:
            out = meta(z)
        assert out.device.type == 'meta' and out.shape == (2, 3, 16, 16)
        assert log.devices
        assert {d for d, _ in log.devices} == {'meta'}, sorted(log.devices)


def test_refuses_other_generators():
    with pytest.raises(TypeError, match='StyleGAN3Generator'):
        PlainStyleGAN3Generator(torch.nn.Linear(2, 2))
