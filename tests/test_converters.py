"""Bring your own teacher: NVlabs (.pkl) and rosinality (.pt) converters.

Each source checkpoint is built here in its format's documented layout on a
tiny generator (names, shapes, raw equalised-lr weights, noise strengths and
maps, w_avg); the expected images are computed from the source tensors by
reference forwards written here from the source code's formulas (NVlabs'
``conv2d_resample``/``upfirdn2d``/``filtered_lrelu`` reference paths,
rosinality's ``model.py``), not through the converter's key tables and not
with MMagic's or mmcv's ops.

NVlabs pickles are real pickles with persistent-object reductions: the
network classes below reduce like ``torch_utils.persistence``'s decorator,
with a fake ``torch_utils.persistence`` (and ``dnnlib.util``) module
registered in ``sys.modules`` only while pickling.
"""
import argparse
import collections
import contextlib
import io
import math
import os
import os.path as osp
import pathlib
import pickle
import sys
import types

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

import mmstylekd  # noqa: F401
from mmstylekd.converters import (LayoutError, UnsafePickleError,
                                  convert_nvlabs_pickle,
                                  convert_rosinality_checkpoint)
from mmstylekd.converters.cli import write_outputs
from mmstylekd.models import build_teacher, read_checkpoint

SQRT2 = math.sqrt(2)
FILTER = torch.tensor([1., 3., 3., 1.])
FILTER2D = torch.outer(FILTER, FILTER) / FILTER.sum()**2
TINY_TRAIN = 'tests/configs/stylekd_tiny_train-16x16.py'


# ====================================================== reference operations
def fir(x, f, up=1, down=1, pad=(0, 0, 0, 0), gain=1.):
    """NVlabs' ``_upfirdn2d_ref``: zero-insert up, pad/crop, convolve
    (flipped filter), keep every ``down``-th pixel. ``f``: None, 1-D
    (separable) or 2-D."""
    if f is None:
        f = torch.ones(1, 1)
    if f.ndim == 1:
        f = torch.outer(f, f)
    n, c, h, w = x.shape
    if up > 1:
        y = x.new_zeros(n, c, h * up, w * up)
        y[:, :, ::up, ::up] = x
        x = y
    x = F.pad(x, [max(pad[0], 0), max(pad[1], 0), max(pad[2], 0),
                  max(pad[3], 0)])
    x = x[:, :, max(-pad[2], 0):x.shape[2] - max(-pad[3], 0),
          max(-pad[0], 0):x.shape[3] - max(-pad[1], 0)]
    kernel = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, kernel, groups=c)
    return x[:, :, ::down, ::down]


def lrelu(x, gain=SQRT2):
    return F.leaky_relu(x, 0.2) * gain


def dense(x, weight, bias, lr=1., act=None):
    """Equalised-lr linear layer: raw weight * lr / sqrt(fan_in)."""
    x = x @ (weight * lr / math.sqrt(weight.shape[1])).t() + bias * lr
    return lrelu(x) if act == 'lrelu' else x


def modconv(x, weight, styles, demodulate, up=False):
    """StyleGAN2 modulated conv (NVlabs' generic reference path: upsampling
    is FIR upsampling then a convolution with the flipped weight)."""
    w = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        w = w * (w.square().sum([2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    pad = weight.shape[-1] // 2
    if up:
        x = fir(x, FILTER2D, up=2, pad=(3, 2, 3, 2), gain=4)
        w, pad = w.flip([3, 4]), 0
    return torch.cat([
        F.conv2d(x[i:i + 1], w[i], padding=pad) for i in range(x.shape[0])
    ])


def stylegan2_reference(net, z, noises, psi=1., w_avg=None):
    """A StyleGAN2 generator from its tensors (format-neutral roles).

    ``net``: mapping [(w, b)], lr, const (C, 4, 4), layers [dict(weight
    (O, I, 3, 3), affine (w, b), strength, bias)] in order b4.conv1,
    b8.conv0, b8.conv1, ..., rgbs [dict(weight (3, C, 1, 1), affine,
    bias (3,))]. ``noises``: one (r, r) map per layer.
    """
    x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    for weight, bias in net['mapping']:
        x = dense(x, weight, bias, net['lr'], 'lrelu')
    if psi != 1:
        x = w_avg + psi * (x - w_avg)

    def layer(h, i, up=False):
        p = net['layers'][i]
        styles = dense(x, *p['affine'])
        h = modconv(h, p['weight'], styles, True, up)
        h = h + noises[i] * p['strength']
        return lrelu(h + p['bias'][None, :, None, None])

    def to_rgb(h, k):
        p = net['rgbs'][k]
        styles = dense(x, *p['affine']) / math.sqrt(p['weight'].shape[1])
        return modconv(h, p['weight'], styles, False) + \
            p['bias'][None, :, None, None]

    h = layer(net['const'][None].repeat(len(z), 1, 1, 1), 0)
    img = to_rgb(h, 0)
    for k in range(1, len(net['rgbs'])):
        h = layer(layer(h, 2 * k - 1, up=True), 2 * k)
        img = fir(img, FILTER2D, up=2, pad=(2, 1, 2, 1), gain=4) + \
            to_rgb(h, k)
    return img


def discriminator_reference(net, img, group):
    """StyleGAN2 ResNet discriminator from its tensors. ``net``: fromrgb
    (w, b), blocks [dict(conv0, conv1 (w, b), skip w)], conv, fc, out."""

    def conv(x, weight, bias=None, pad=0, stride=1):
        fan_in = weight[0].numel()
        return F.conv2d(x, weight / math.sqrt(fan_in), bias, stride, pad)

    x = lrelu(conv(img, *net['fromrgb']))
    for block in net['blocks']:
        skip = conv(fir(x, FILTER2D, down=2, pad=(1, 1, 1, 1)),
                    block['skip']) / SQRT2
        x = lrelu(conv(x, *block['conv0'], pad=1))
        x = conv(fir(x, FILTER2D, pad=(2, 2, 2, 2)), *block['conv1'],
                 stride=2)
        x = skip + lrelu(x) / SQRT2
    n, c, h, w = x.shape
    y = x.reshape(group, -1, 1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt()
    y = y.mean([2, 3, 4]).reshape(-1, 1, 1, 1).repeat(group, 1, h, w)
    x = lrelu(conv(torch.cat([x, y], 1), *net['conv'], pad=1))
    x = dense(x.flatten(1), *net['fc'], act='lrelu')
    return dense(x, *net['out'])


# ===================================================== NVlabs pickle format
EVIL_SOURCE = 'import os\nos.system("touch {marker}")\n'


def _reconstruct_persistent_obj(meta):  # never called: pickling only
    raise AssertionError('the converter must not call NVlabs code')


class EasyDict(dict):
    """Stands for ``dnnlib.util.EasyDict`` in the pickles made here."""


_reconstruct_persistent_obj.__module__ = 'torch_utils.persistence'
EasyDict.__module__ = 'dnnlib.util'


@contextlib.contextmanager
def fake_nvlabs_modules():
    """``torch_utils.persistence`` and ``dnnlib.util`` exist only while
    pickling (pickle checks that globals resolve)."""
    modules = {
        'torch_utils': types.ModuleType('torch_utils'),
        'torch_utils.persistence': types.ModuleType('torch_utils.persistence'),
        'dnnlib': types.ModuleType('dnnlib'),
        'dnnlib.util': types.ModuleType('dnnlib.util'),
    }
    modules['torch_utils.persistence']._reconstruct_persistent_obj = \
        _reconstruct_persistent_obj
    modules['dnnlib.util'].EasyDict = EasyDict
    assert not set(modules) & set(sys.modules)
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name in modules:
            del sys.modules[name]


class Persistent(nn.Module):
    """Reduces like ``persistence.persistent_class``'s ``Decorator``:
    ``(_reconstruct_persistent_obj, (meta,))`` with the class name, the
    module source and the object's state (``__dict__``)."""
    module_src = '# NVlabs network source would be here\n'

    def __reduce__(self):
        fields = list(super().__reduce__())
        fields += [None] * max(3 - len(fields), 0)
        assert isinstance(fields[2], dict)
        meta = dict(type='class', version=6, module_src=self.module_src,
                    class_name=type(self).__name__, state=fields[2])
        return (_reconstruct_persistent_obj, (meta, ), None) + tuple(
            fields[3:])


def rand(*shape, scale=1.):
    return nn.Parameter(torch.randn(*shape) * scale)


class FullyConnectedLayer(Persistent):

    def __init__(self, in_f, out_f, activation='linear', lr_multiplier=1,
                 bias_init=0):
        super().__init__()
        self.activation = activation
        self.weight = rand(out_f, in_f, scale=1 / lr_multiplier)
        self.bias = nn.Parameter(bias_init + torch.randn(out_f) * 0.1)
        self.weight_gain = lr_multiplier / np.sqrt(in_f)  # numpy, as NVlabs
        self.bias_gain = lr_multiplier


class MappingNetwork(Persistent):

    def __init__(self, z_dim, w_dim, num_ws, num_layers, w_avg_beta=0.995):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, 0, w_dim
        self.num_ws, self.num_layers = num_ws, num_layers
        self.w_avg_beta = w_avg_beta
        for idx in range(num_layers):
            setattr(self, f'fc{idx}',
                    FullyConnectedLayer(z_dim if idx == 0 else w_dim, w_dim,
                                        'lrelu', lr_multiplier=0.01))
        self.register_buffer('w_avg', torch.randn(w_dim))


class SynthesisLayer(Persistent):

    def __init__(self, cin, cout, w_dim, resolution, up=1):
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, True
        self.activation, self.conv_clamp, self.padding = 'lrelu', 256, 1
        self.act_gain = np.float64(SQRT2)
        self.register_buffer('resample_filter', FILTER2D.clone())
        self.affine = FullyConnectedLayer(w_dim, cin, bias_init=1)
        self.weight = rand(cout, cin, 3, 3)
        self.register_buffer('noise_const', torch.randn(resolution,
                                                        resolution))
        self.noise_strength = nn.Parameter(torch.rand([]) + 0.2)
        self.bias = rand(cout, scale=0.2)


class ToRGBLayer(Persistent):

    def __init__(self, cin, cout, w_dim):
        super().__init__()
        self.conv_clamp = 256
        self.affine = FullyConnectedLayer(w_dim, cin, bias_init=1)
        self.weight = rand(cout, cin, 1, 1)
        self.bias = rand(cout, scale=0.2)
        self.weight_gain = 1 / np.sqrt(cin)


class SynthesisBlock(Persistent):

    def __init__(self, cin, cout, w_dim, resolution, img_channels=3):
        super().__init__()
        self.in_channels, self.w_dim, self.resolution = cin, w_dim, resolution
        self.img_channels, self.architecture = img_channels, 'skip'
        self.is_last, self.use_fp16, self.channels_last = False, False, False
        self.register_buffer('resample_filter', FILTER2D.clone())
        if cin == 0:
            self.const = rand(cout, resolution, resolution)
        else:
            self.conv0 = SynthesisLayer(cin, cout, w_dim, resolution, up=2)
        self.conv1 = SynthesisLayer(cout, cout, w_dim, resolution)
        self.torgb = ToRGBLayer(cout, img_channels, w_dim)


class SynthesisNetwork(Persistent):

    def __init__(self, w_dim, channels):
        super().__init__()
        self.w_dim, self.img_channels = w_dim, 3
        self.block_resolutions = sorted(channels)
        self.img_resolution = self.block_resolutions[-1]
        self.num_ws = 0
        for res in self.block_resolutions:
            block = SynthesisBlock(channels.get(res // 2, 0), channels[res],
                                   w_dim, res)
            setattr(self, f'b{res}', block)
            self.num_ws += 1 if res == 4 else 2
        self.num_ws += 1


class Generator(Persistent):
    """NVlabs StyleGAN2(-ADA) ``Generator`` layout (skip architecture)."""

    def __init__(self, z_dim, w_dim, channels, num_mapping=2):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, 0, w_dim
        self.img_resolution, self.img_channels = max(channels), 3
        self.synthesis = SynthesisNetwork(w_dim, channels)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, w_dim, self.num_ws, num_mapping)
        self._init_args = ()
        self._init_kwargs = EasyDict(
            z_dim=z_dim, w_dim=w_dim,
            mapping_kwargs=EasyDict(num_layers=num_mapping),
            synthesis_kwargs=EasyDict(conv_clamp=256))

    def reference_net(self):
        syn = self.synthesis
        blocks = [getattr(syn, f'b{r}') for r in syn.block_resolutions]
        layers = [blocks[0].conv1]
        for block in blocks[1:]:
            layers += [block.conv0, block.conv1]

        def affine(layer):
            return layer.affine.weight.data, layer.affine.bias.data

        return dict(
            mapping=[(getattr(self.mapping, f'fc{i}').weight.data,
                      getattr(self.mapping, f'fc{i}').bias.data)
                     for i in range(self.mapping.num_layers)],
            lr=0.01,
            const=blocks[0].const.data,
            layers=[dict(weight=p.weight.data, affine=affine(p),
                         strength=p.noise_strength.data, bias=p.bias.data)
                    for p in layers],
            rgbs=[dict(weight=b.torgb.weight.data, affine=affine(b.torgb),
                       bias=b.torgb.bias.data) for b in blocks])

    def noise_maps(self):
        syn = self.synthesis
        blocks = [getattr(syn, f'b{r}') for r in syn.block_resolutions]
        maps = [blocks[0].conv1.noise_const]
        for block in blocks[1:]:
            maps += [block.conv0.noise_const, block.conv1.noise_const]
        return maps


class Conv2dLayer(Persistent):

    def __init__(self, cin, cout, kernel, bias=True, activation='linear',
                 down=1):
        super().__init__()
        self.activation, self.up, self.down = activation, 1, down
        self.conv_clamp, self.padding = None, kernel // 2
        self.register_buffer('resample_filter', FILTER2D.clone())
        self.weight_gain = 1 / np.sqrt(cin * kernel**2)
        self.act_gain = SQRT2 if activation == 'lrelu' else 1.
        self.weight = rand(cout, cin, kernel, kernel)
        self.bias = rand(cout, scale=0.2) if bias else None


class DiscriminatorBlock(Persistent):

    def __init__(self, cin, tmp, cout, resolution):
        super().__init__()
        self.in_channels, self.resolution = cin, resolution
        self.img_channels, self.architecture = 3, 'resnet'
        self.register_buffer('resample_filter', FILTER2D.clone())
        if cin == 0:
            self.fromrgb = Conv2dLayer(3, tmp, 1, activation='lrelu')
        self.conv0 = Conv2dLayer(tmp, tmp, 3, activation='lrelu')
        self.conv1 = Conv2dLayer(tmp, cout, 3, activation='lrelu', down=2)
        self.skip = Conv2dLayer(tmp, cout, 1, bias=False, down=2)


class MinibatchStdLayer(Persistent):

    def __init__(self, group_size, num_channels=1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels


class DiscriminatorEpilogue(Persistent):

    def __init__(self, channels, group_size):
        super().__init__()
        self.in_channels, self.cmap_dim, self.resolution = channels, 0, 4
        self.img_channels, self.architecture = 3, 'resnet'
        self.mbstd = MinibatchStdLayer(group_size)
        self.conv = Conv2dLayer(channels + 1, channels, 3, activation='lrelu')
        self.fc = FullyConnectedLayer(channels * 16, channels, 'lrelu')
        self.out = FullyConnectedLayer(channels, 1)


class Discriminator(Persistent):
    """NVlabs ResNet ``Discriminator`` layout."""

    def __init__(self, channels, group_size=2):
        super().__init__()
        self.c_dim, self.img_channels = 0, 3
        self.img_resolution = max(channels)
        self.block_resolutions = sorted(channels, reverse=True)[:-1]
        for res in self.block_resolutions:
            block = DiscriminatorBlock(
                0 if res == self.img_resolution else channels[res],
                channels[res], channels[res // 2], res)
            setattr(self, f'b{res}', block)
        self.b4 = DiscriminatorEpilogue(channels[4], group_size)

    def reference_net(self):
        blocks = [getattr(self, f'b{r}') for r in self.block_resolutions]
        first = blocks[0].fromrgb
        return dict(
            fromrgb=(first.weight.data, first.bias.data),
            blocks=[dict(conv0=(b.conv0.weight.data, b.conv0.bias.data),
                         conv1=(b.conv1.weight.data, b.conv1.bias.data),
                         skip=b.skip.weight.data) for b in blocks],
            conv=(self.b4.conv.weight.data, self.b4.conv.bias.data),
            fc=(self.b4.fc.weight.data, self.b4.fc.bias.data),
            out=(self.b4.out.weight.data, self.b4.out.bias.data))


def dump_nvlabs(path, networks, protocol=4):
    """``pickle.dump`` like NVlabs' training loop (snapshot_data)."""
    data = dict(networks, augment_pipe=None,
                training_set_kwargs=EasyDict(class_name='dataset.Folder',
                                             resolution=16))
    with fake_nvlabs_modules(), open(path, 'wb') as f:
        pickle.dump(data, f, protocol=protocol)


G_CHANNELS = {4: 32, 8: 32, 16: 16}
D_CHANNELS = {16: 16, 8: 32, 4: 32}


@pytest.fixture(scope='module')
def nvlabs_sg2(tmp_path_factory):
    """(pickle path, G_ema, G, D) of a 16 px StyleGAN2-ADA layout."""
    torch.manual_seed(0)
    G_ema, G = (Generator(16, 16, G_CHANNELS).eval() for _ in range(2))
    D = Discriminator(D_CHANNELS).eval()
    path = tmp_path_factory.mktemp('nvlabs') / 'network-snapshot.pkl'
    dump_nvlabs(path, dict(G=G, D=D, G_ema=G_ema))
    return path, G_ema, G, D


def converted_generator(converted, prefix='generator_ema'):
    gen = MODELS.build(converted.generator_cfg).eval()
    gen.load_state_dict(converted.states[prefix])
    return gen


# ------------------------------------------------------------- NVlabs SG2
def test_nvlabs_stylegan2_generator_matches_reference(nvlabs_sg2):
    path, G_ema, G, _ = nvlabs_sg2
    converted = convert_nvlabs_pickle(str(path))
    assert converted.source_format == 'nvlabs-stylegan2'
    cfg = converted.generator_cfg
    assert cfg['channels'] == G_CHANNELS and cfg['num_mlps'] == 2
    assert cfg['noise_size'] == 16 and cfg['style_channels'] == 16
    assert cfg['lr_mlp'] == pytest.approx(0.01)
    assert set(converted.carried) == {'noise', 'w_avg', 'generator',
                                      'discriminator'}
    assert any('conv_clamp' in note for note in converted.notes)
    torch.manual_seed(1)
    z = torch.randn(3, 16)
    for source, prefix in ((G_ema, 'generator_ema'), (G, 'generator')):
        gen = converted_generator(converted, prefix)
        net = source.reference_net()
        noises = [torch.randn(n.shape) for n in source.noise_maps()]
        with torch.no_grad():
            ours = gen(z, injected_noise=[n[None, None] for n in noises])
            expected = stylegan2_reference(net, z, noises)
            # noise buffers and w_avg carried over: buffered noise and
            # truncation towards the source's w_avg
            buffered = gen(z, randomize_noise=False, truncation=0.5)
            expected_buffered = stylegan2_reference(
                net, z, [n.data for n in source.noise_maps()], psi=0.5,
                w_avg=source.mapping.w_avg)
        assert expected.abs().mean() > 0.1
        torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(buffered, expected_buffered, atol=1e-4,
                                   rtol=1e-4)


def test_nvlabs_discriminator_matches_reference(nvlabs_sg2):
    path, _, _, D = nvlabs_sg2
    converted = convert_nvlabs_pickle(str(path))
    assert converted.discriminator_cfg['channels'] == D_CHANNELS
    assert converted.discriminator_cfg['mbstd_cfg']['group_size'] == 2
    disc = MODELS.build(converted.discriminator_cfg).eval()
    disc.load_state_dict(converted.states['discriminator'])
    torch.manual_seed(2)
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        ours = disc(img)
    expected = discriminator_reference(D.reference_net(), img, group=2)
    assert ours.shape == (4, 1)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------- NVlabs SG3
SG3_ARGS = dict(channel_base=512, channel_max=16, num_layers=4,
                num_critical=2, margin_size=2)
#: MMagic attribute -> NVlabs attribute, per class
SG3_NAMES = {
    'Generator': dict(style_channels='w_dim', noise_size='z_dim',
                      out_size='img_resolution'),
    'MappingNetwork': dict(style_channels='w_dim', noise_size='z_dim',
                           cond_size='c_dim'),
    'SynthesisNetwork': dict(style_channels='w_dim',
                             out_size='img_resolution'),
}
SG3_CLASSES = {'MappingNetwork': 'MappingNetwork',
               'SynthesisNetwork': 'SynthesisNetwork',
               'SynthesisInput': 'SynthesisInput',
               'SynthesisLayer': 'SynthesisLayer',
               'FullyConnectedLayer': 'FullyConnectedLayer'}


class Reduced:
    """A persistent-object reduction with a given meta."""

    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta, ))


def nvlabs_tree(module, class_name, extra=None, children=None):
    """The NVlabs persistent reduction of a StyleGAN3 module built with
    MMagic's port (same tensor names): NVlabs' attribute names, submodules
    as nested persistent objects."""
    names = SG3_NAMES.get(class_name, dict(style_channels='w_dim'))
    state = {names.get(k, k): v for k, v in module.__dict__.items()
             if k != '_modules'}
    state['_modules'] = collections.OrderedDict()
    for name, child in module._modules.items():
        if children and name in children:
            state['_modules'][children[name][0]] = children[name][1]
        else:
            state['_modules'][name] = nvlabs_tree(
                child, SG3_CLASSES[type(child).__name__])
    state.update(extra or {})
    return Reduced(dict(type='class', version=6, module_src=Persistent.
                        module_src, class_name=class_name, state=state))


def stylegan3_source(radial):
    """A tiny StyleGAN3-T (or -R: radial filters, 1x1 convs) built from
    MMagic's port with every tensor randomised, and its NVlabs pickle
    layout."""
    torch.manual_seed(3)
    args = dict(SG3_ARGS)
    if radial:
        args.update(conv_kernel=1, use_radial_filters=True)
    src = MODELS.build(dict(
        type='StyleGAN3Generator', out_size=16, style_channels=16,
        img_channels=3, noise_size=12,
        synthesis_cfg=dict(type='SynthesisNetwork', **args),
        mapping_cfg=dict(type='MappingNetwork', num_layers=2))).eval()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(torch.randn_like(p) * 0.2)
        for name, buf in src.named_buffers():
            if name.endswith('magnitude_ema'):
                buf.uniform_(0.5, 2.0)
            if name.endswith('w_avg'):
                buf.normal_()
    synthesis = nvlabs_tree(src.synthesis, 'SynthesisNetwork', extra=dict(
        _init_args=(), _init_kwargs=EasyDict(
            w_dim=16, img_resolution=16, img_channels=3, **args)))
    G = nvlabs_tree(src, 'Generator', extra=dict(
        z_dim=12, c_dim=0, w_dim=16, img_resolution=16, img_channels=3),
        children=dict(
            synthesis=('synthesis', synthesis),
            style_mapping=('mapping', nvlabs_tree(src.style_mapping,
                                                  'MappingNetwork'))))
    return src, G


def stylegan3_reference(src, z):
    """NVlabs' StyleGAN3 forward (networks_stylegan3.py, filtered_lrelu's
    reference path) from the source generator's tensors and attributes."""
    mapping, syn = src.style_mapping, src.synthesis

    def fc(layer, x, act=None):
        x = x @ (layer.weight * layer.weight_gain).t() + \
            layer.bias * layer.bias_gain
        return lrelu(x) if act == 'lrelu' else x

    w = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    for i in range(mapping.num_layers):
        w = fc(getattr(mapping, f'fc{i}'), w, 'lrelu')
    inp, n = syn.input, len(z)
    t = fc(inp.affine, w)
    t = t / t[:, :2].norm(dim=1, keepdim=True)
    m_r = torch.eye(3).repeat(n, 1, 1)
    m_r[:, 0, 0], m_r[:, 0, 1] = t[:, 0], -t[:, 1]
    m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 1], t[:, 0]
    m_t = torch.eye(3).repeat(n, 1, 1)
    m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
    transform = m_r @ m_t @ inp.transform[None]
    phases = inp.phases[None] + (inp.freqs[None] @ transform[:, :2, 2:])[
        ..., 0]
    freqs = inp.freqs[None] @ transform[:, :2, :2]
    rate, band = float(inp.sampling_rate), float(inp.bandwidth)
    amplitude = (1 - (freqs.norm(dim=2) - band) / (rate / 2 - band)).clamp(
        0, 1)
    size = [int(s) for s in inp.size]
    theta = torch.tensor([[0.5 * size[0] / rate, 0, 0],
                          [0, 0.5 * size[1] / rate, 0]])
    grid = F.affine_grid(theta[None], [1, 1, size[1], size[0]],
                         align_corners=False)  # (1, H, W, 2)
    x = torch.einsum('hwk,nck->nhwc', grid[0], freqs) + phases[:, None, None]
    x = torch.sin(x * 2 * math.pi) * amplitude[:, None, None]
    x = (x @ (inp.weight / math.sqrt(inp.channels)).t()).permute(0, 3, 1, 2)
    for name in syn.layer_names:
        layer = getattr(syn, name)
        styles = fc(layer.affine, w)
        weight = layer.weight
        if layer.is_torgb:
            styles = styles / math.sqrt(weight[0].numel())
        else:
            weight = weight * weight.square().mean([1, 2, 3],
                                                   keepdim=True).rsqrt()
            styles = styles * styles.square().mean().rsqrt()
        wgt = weight[None] * styles[:, None, :, None, None]
        if not layer.is_torgb:
            wgt = wgt * (wgt.square().sum([2, 3, 4], keepdim=True) +
                         1e-8).rsqrt()
        wgt = wgt * layer.magnitude_ema.rsqrt()
        k = weight.shape[-1]
        x = torch.cat([F.conv2d(x[i:i + 1], wgt[i], padding=k - 1)
                       for i in range(n)])
        x = x + layer.bias[None, :, None, None]
        x = fir(x, layer.up_filter, up=layer.up_factor, pad=layer.padding,
                gain=layer.up_factor**2)
        x = F.leaky_relu(x, 1. if layer.is_torgb else 0.2)
        x = x * (1 if layer.is_torgb else SQRT2)
        x = x.clamp(-layer.conv_clamp, layer.conv_clamp)
        x = fir(x, layer.down_filter, down=layer.down_factor)
    return x * syn.output_scale


@pytest.mark.parametrize('radial', [False, True], ids=['T', 'R'])
def test_nvlabs_stylegan3_matches_reference(radial, tmp_path):
    src, G = stylegan3_source(radial)
    path = tmp_path / 'stylegan3.pkl'
    with fake_nvlabs_modules(), open(path, 'wb') as f:
        pickle.dump(dict(G_ema=G), f, protocol=4)
    converted = convert_nvlabs_pickle(str(path))
    assert converted.source_format == 'nvlabs-stylegan3'
    cfg = converted.generator_cfg
    assert cfg['type'] == 'StyleGAN3Generator'
    assert cfg['synthesis_cfg']['channel_base'] == 512
    assert cfg['synthesis_cfg'].get('use_radial_filters', False) == radial
    assert set(converted.states) == {'generator_ema'}
    gen = converted_generator(converted)
    assert torch.equal(gen.style_mapping.w_avg, src.style_mapping.w_avg)
    torch.manual_seed(4)
    z = torch.randn(2, 12)
    with torch.no_grad():
        ours = gen(z)
        expected = stylegan3_reference(src, z)
    assert ours.shape == (2, 3, 16, 16) and expected.abs().mean() > 1e-3
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-3)


def test_stylegan3_wrong_constructor_arguments_are_named(tmp_path):
    src, G = stylegan3_source(False)
    synthesis = G.meta['state']['_modules']['synthesis'].meta['state']
    synthesis['_init_kwargs']['first_cutoff'] = 3  # not what was built
    path = tmp_path / 'bad.pkl'
    with fake_nvlabs_modules(), open(path, 'wb') as f:
        pickle.dump(dict(G_ema=G), f)
    with pytest.raises(ValueError, match='G_ema.synthesis'):
        convert_nvlabs_pickle(str(path))


# ------------------------------------------------------- unsafe pickles
class RunsCommand:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


class EvilStorage:
    """Reduces like a storage, with a code-running payload."""

    def __init__(self, command):
        buffer = io.BytesIO()
        torch.save(RunsCommand(command), buffer,
                   _use_new_zipfile_serialization=False)
        self.payload = buffer.getvalue()

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.payload, ))


def test_code_executing_pickles_are_refused_before_running(tmp_path):
    marker = tmp_path / 'pwned'
    cases = {
        'top-level global': dict(G_ema=RunsCommand(f'touch {marker}')),
        'inside a network': dict(G_ema=Reduced(dict(
            type='class', version=6, module_src='', class_name='Generator',
            state=dict(_init_kwargs=RunsCommand(f'touch {marker}'))))),
    }
    for name, data in cases.items():
        path = tmp_path / 'evil.pkl'
        with fake_nvlabs_modules(), open(path, 'wb') as f:
            pickle.dump(data, f)
        with pytest.raises(UnsafePickleError, match=r'posix\.system'):
            convert_nvlabs_pickle(str(path))
        assert not marker.exists(), name
    # a tensor storage whose bytes are a code-running torch.save file
    path = tmp_path / 'evil_storage.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(G_ema=EvilStorage(f'touch {marker}')), f)
    with pytest.raises(UnsafePickleError, match='storage'):
        convert_nvlabs_pickle(str(path))
    assert not marker.exists()


def test_network_source_code_in_the_pickle_is_never_run(tmp_path):
    marker = tmp_path / 'source_ran'
    Persistent.module_src = EVIL_SOURCE.format(marker=marker)
    try:
        torch.manual_seed(0)
        path = tmp_path / 'snapshot.pkl'
        # protocol 2 (Python 2 names, bytes as _codecs.encode) as old
        # pickles may be
        dump_nvlabs(path, dict(G_ema=Generator(12, 16, G_CHANNELS)),
                    protocol=2)
    finally:
        Persistent.module_src = '# NVlabs network source would be here\n'
    assert b'os.system' in path.read_bytes()
    assert b'_codecs' in path.read_bytes()
    convert_nvlabs_pickle(str(path))
    assert not marker.exists()


def test_malformed_nvlabs_layouts_are_named(tmp_path):
    torch.manual_seed(0)
    G = Generator(12, 16, G_CHANNELS)
    del G.synthesis.b8.conv0.noise_strength
    path = tmp_path / 'missing.pkl'
    dump_nvlabs(path, dict(G_ema=G))
    with pytest.raises(LayoutError,
                       match=r'synthesis\.b8\.conv0\.noise_strength'):
        convert_nvlabs_pickle(str(path))
    G = Generator(12, 16, G_CHANNELS)
    G.synthesis.b8.architecture = 'resnet'
    dump_nvlabs(path, dict(G_ema=G))
    with pytest.raises(ValueError, match=r'G_ema\.synthesis\.b8.*resnet'):
        convert_nvlabs_pickle(str(path))


# ====================================================== rosinality format
def make_kernel(scale=1.):
    return FILTER2D * scale


def rosinality_generator(widths, style_dim=16, n_mlp=2, noise_dim=None):
    """A ``model.py`` Generator state dict (also CAGAN's pruned layout:
    one width per conv, here equal per resolution)."""
    noise_dim = noise_dim or style_dim
    s = {}
    for i in range(1, n_mlp + 1):
        s[f'style.{i}.weight'] = torch.randn(
            style_dim, noise_dim if i == 1 else style_dim) / 0.01
        s[f'style.{i}.bias'] = torch.randn(style_dim) * 0.1
    resolutions = sorted(widths)
    s['input.input'] = torch.randn(1, widths[4], 4, 4)

    def styled(name, cin, cout, up=False):
        s[f'{name}.conv.weight'] = torch.randn(1, cout, cin, 3, 3)
        s[f'{name}.conv.modulation.weight'] = torch.randn(cin, style_dim)
        s[f'{name}.conv.modulation.bias'] = 1 + torch.randn(cin) * 0.1
        s[f'{name}.noise.weight'] = torch.rand(1) + 0.2
        s[f'{name}.activate.bias'] = torch.randn(cout) * 0.2
        if up:
            s[f'{name}.conv.blur.kernel'] = make_kernel(4)

    def to_rgb(name, cin, up):
        s[f'{name}.conv.weight'] = torch.randn(1, 3, cin, 1, 1)
        s[f'{name}.conv.modulation.weight'] = torch.randn(cin, style_dim)
        s[f'{name}.conv.modulation.bias'] = 1 + torch.randn(cin) * 0.1
        s[f'{name}.bias'] = torch.randn(1, 3, 1, 1) * 0.2
        if up:
            s[f'{name}.upsample.kernel'] = make_kernel(4)

    styled('conv1', widths[4], widths[4])
    to_rgb('to_rgb1', widths[4], False)
    for k, res in enumerate(resolutions[1:]):
        styled(f'convs.{2 * k}', widths[res // 2], widths[res], up=True)
        styled(f'convs.{2 * k + 1}', widths[res], widths[res])
        to_rgb(f'to_rgbs.{k}', widths[res], True)
    for i in range(2 * len(resolutions) - 1):
        res = 2**((i + 5) // 2)
        s[f'noises.noise_{i}'] = torch.randn(1, 1, res, res)
    return s


def rosinality_discriminator(channels):
    s, size = {}, max(channels)
    s['convs.0.0.weight'] = torch.randn(channels[size], 3, 1, 1)
    s['convs.0.1.bias'] = torch.randn(channels[size]) * 0.2
    cin = channels[size]
    for i, res in enumerate(sorted(channels, reverse=True)[1:], start=1):
        p, cout = f'convs.{i}', channels[res]
        s[f'{p}.conv1.0.weight'] = torch.randn(cin, cin, 3, 3)
        s[f'{p}.conv1.1.bias'] = torch.randn(cin) * 0.2
        s[f'{p}.conv2.0.kernel'] = make_kernel()
        s[f'{p}.conv2.1.weight'] = torch.randn(cout, cin, 3, 3)
        s[f'{p}.conv2.2.bias'] = torch.randn(cout) * 0.2
        s[f'{p}.skip.0.kernel'] = make_kernel()
        s[f'{p}.skip.1.weight'] = torch.randn(cout, cin, 1, 1)
        cin = cout
    s['final_conv.0.weight'] = torch.randn(channels[4], cin + 1, 3, 3)
    s['final_conv.1.bias'] = torch.randn(channels[4]) * 0.2
    s['final_linear.0.weight'] = torch.randn(channels[4], channels[4] * 16)
    s['final_linear.0.bias'] = torch.randn(channels[4]) * 0.2
    s['final_linear.1.weight'] = torch.randn(1, channels[4])
    s['final_linear.1.bias'] = torch.randn(1) * 0.2
    return s


def rosinality_reference_net(s, widths):
    """The format-neutral roles of a rosinality generator (model.py)."""
    names = ['conv1'] + [f'convs.{j}' for j in range(2 * len(widths) - 2)]
    rgbs = ['to_rgb1'] + [f'to_rgbs.{k}' for k in range(len(widths) - 1)]
    mlps = sorted(int(k.split('.')[1]) for k in s
                  if k.startswith('style.') and k.endswith('.weight'))
    return dict(
        mapping=[(s[f'style.{i}.weight'], s[f'style.{i}.bias'])
                 for i in mlps],
        lr=0.01,
        const=s['input.input'][0],
        layers=[dict(weight=s[f'{n}.conv.weight'][0],
                     affine=(s[f'{n}.conv.modulation.weight'],
                             s[f'{n}.conv.modulation.bias']),
                     strength=s[f'{n}.noise.weight'][0],
                     bias=s[f'{n}.activate.bias']) for n in names],
        rgbs=[dict(weight=s[f'{n}.conv.weight'][0],
                   affine=(s[f'{n}.conv.modulation.weight'],
                           s[f'{n}.conv.modulation.bias']),
                   bias=s[f'{n}.bias'].flatten()) for n in rgbs])


def rosinality_discriminator_net(s, num_blocks):
    return dict(
        fromrgb=(s['convs.0.0.weight'], s['convs.0.1.bias']),
        blocks=[dict(conv0=(s[f'convs.{i}.conv1.0.weight'],
                            s[f'convs.{i}.conv1.1.bias']),
                     conv1=(s[f'convs.{i}.conv2.1.weight'],
                            s[f'convs.{i}.conv2.2.bias']),
                     skip=s[f'convs.{i}.skip.1.weight'])
                for i in range(1, num_blocks + 1)],
        conv=(s['final_conv.0.weight'], s['final_conv.1.bias']),
        fc=(s['final_linear.0.weight'], s['final_linear.0.bias']),
        out=(s['final_linear.1.weight'], s['final_linear.1.bias']))


PRUNED = {4: 10, 8: 10, 16: 5}  # CAGAN-style 0.7-pruned widths


@pytest.fixture(scope='module')
def rosinality_ckpt(tmp_path_factory):
    """rosinality ``train.py`` layout: g, d, g_ema, optimiser states, args
    (argparse.Namespace), plus convert_weight.py's latent_avg."""
    torch.manual_seed(5)
    g_ema, g = rosinality_generator(G_CHANNELS), rosinality_generator(
        G_CHANNELS)
    d = rosinality_discriminator(D_CHANNELS)
    path = tmp_path_factory.mktemp('rosinality') / '000100.pt'
    torch.save(dict(g=g, d=d, g_ema=g_ema, latent_avg=torch.randn(16),
                    g_optim=dict(state={}, param_groups=[dict(lr=0.002)]),
                    args=argparse.Namespace(size=16, n_mlp=2, latent=16,
                                            channel_multiplier=2),
                    ada_aug_p=0.0), path)
    return path, torch.load(path, weights_only=False)


def test_rosinality_generator_and_discriminator_match_reference(
        rosinality_ckpt):
    path, ckpt = rosinality_ckpt
    converted = convert_rosinality_checkpoint(str(path))
    assert converted.generator_cfg['channels'] == G_CHANNELS
    assert set(converted.carried) == {'noise', 'w_avg', 'generator',
                                      'discriminator'}
    torch.manual_seed(6)
    z = torch.randn(3, 16)
    for key, prefix in (('g_ema', 'generator_ema'), ('g', 'generator')):
        gen = converted_generator(converted, prefix)
        net = rosinality_reference_net(ckpt[key], G_CHANNELS)
        buffers = [ckpt[key][f'noises.noise_{i}'][0, 0] for i in range(5)]
        with torch.no_grad():
            ours = gen(z, randomize_noise=False, truncation=0.7)
        expected = stylegan2_reference(net, z, buffers, psi=0.7,
                                       w_avg=ckpt['latent_avg'])
        assert expected.abs().mean() > 0.1
        torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)
    disc = MODELS.build(converted.discriminator_cfg).eval()
    disc.load_state_dict(converted.states['discriminator'])
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        ours = disc(img)
    expected = discriminator_reference(
        rosinality_discriminator_net(ckpt['d'], 2), img, group=4)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_pruned_cagan_generator_becomes_explicit_width_student(tmp_path):
    torch.manual_seed(7)
    g_ema = rosinality_generator(PRUNED, n_mlp=3, noise_dim=12)
    path = tmp_path / 'content_aware_pruned_0.7_16px_model.pth'
    torch.save(dict(g=g_ema, d=rosinality_discriminator(D_CHANNELS),
                    g_ema=g_ema), path)  # CAGAN's prune.py layout
    converted = convert_rosinality_checkpoint(str(path))
    cfg = converted.generator_cfg
    assert cfg['type'] == 'StyleGAN2StudentGenerator'
    assert cfg['channels'] == PRUNED and cfg['num_mlps'] == 3
    assert cfg['update_mean_latent_with_ema'] is False  # no latent_avg
    assert cfg['noise_size'] == 12 and cfg['style_channels'] == 16
    assert any('lr_mlp' in note for note in converted.notes)
    assert any('samples z with style_channels' in note
               for note in converted.notes)
    gen = converted_generator(converted)
    z = torch.randn(2, 12)
    noises = [torch.randn(2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2))
              for i in range(5)]
    with torch.no_grad():
        ours = gen(z, injected_noise=[n[None, None] for n in noises])
    expected = stylegan2_reference(rosinality_reference_net(g_ema, PRUNED),
                                   z, noises)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_malformed_rosinality_checkpoints_are_named(tmp_path):
    torch.manual_seed(8)
    path = tmp_path / 'bad.pt'
    cases = [
        (dict(g_ema=dict(rosinality_generator(G_CHANNELS),
                         **{'convs.0.conv.weight_x': torch.zeros(1)})),
         LayoutError, r'convs\.0\.conv\.weight_x'),
        (dict(g_ema={k: v for k, v in rosinality_generator(G_CHANNELS)
                     .items() if k != 'to_rgbs.0.bias'}),
         LayoutError, r'to_rgbs\.0\.bias'),
    ]
    uneven = rosinality_generator(G_CHANNELS)
    uneven['convs.3.conv.weight'] = torch.randn(1, 12, 16, 3, 3)
    cases.append((dict(g_ema=uneven), ValueError,
                  r'convs\.2 has 16.*convs\.3 has 12'))
    cases.append((dict(g_ema=rosinality_generator(G_CHANNELS),
                       args=argparse.Namespace(path=pathlib.Path('data'))),
                  pickle.UnpicklingError, r'pathlib\.PosixPath'))
    for ckpt, error, message in cases:
        torch.save(ckpt, path)
        with pytest.raises(error, match=message):
            convert_rosinality_checkpoint(str(path))


# ============================================== tools, files, distillation
def test_tools_write_safe_files_and_never_overwrite(tmp_path,
                                                    rosinality_ckpt):
    src, _ = rosinality_ckpt
    out, cfg = tmp_path / 'teacher.pth', tmp_path / 'teacher.py'
    tool = 'tools/model_converters/rosinality_to_mmagic.py'
    proc = check(run_tool(tool, src, '--out', out, '--config-out', cfg))
    assert 'carried over: w_avg' in proc.stdout
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    assert read_checkpoint(str(out)).keys() == ckpt.keys()
    keys = ckpt['state_dict'].keys()
    for prefix in ('generator_ema.', 'generator.', 'discriminator.'):
        assert any(k.startswith(prefix) for k in keys), prefix
    assert ckpt['meta']['source_format'] == 'rosinality-stylegan2'
    teacher_cfg = Config.fromfile(str(cfg))
    assert teacher_cfg.teacher_checkpoint == str(out)
    teacher = build_teacher(teacher_cfg.teacher_generator,
                            teacher_cfg.teacher_checkpoint)
    assert torch.equal(teacher.w_avg,
                       ckpt['state_dict']['generator_ema.w_avg'])
    # what the tool does on a second run, without and with --overwrite
    before = out.read_bytes(), cfg.read_text()
    converted = convert_rosinality_checkpoint(str(src))
    args = argparse.Namespace(out=str(out), config_out=str(cfg),
                              student_ratio=0.7, overwrite=False)
    with pytest.raises(FileExistsError, match='--overwrite'):
        write_outputs(converted, args, tool)
    assert (out.read_bytes(), cfg.read_text()) == before
    args.overwrite = True
    write_outputs(converted, args, tool)
    assert torch.load(out, weights_only=True)['meta'] == ckpt['meta']
    assert not list(tmp_path.glob('*.tmp'))


def test_converted_nvlabs_teacher_prunes_and_distils(tmp_path, nvlabs_sg2):
    src = nvlabs_sg2[0]
    out, teacher_py = tmp_path / 'teacher.pth', tmp_path / 'teacher.py'
    check(run_tool('tools/model_converters/nvlabs_to_mmagic.py', src,
                   '--out', out, '--config-out', teacher_py,
                   '--student-ratio', '0.5'))
    # docs/converters.md's recipe: a StyleKD config (here the tiny
    # one) with the converted teacher, its student and its discriminator
    derived = tmp_path / 'stylekd_converted_teacher.py'
    derived.write_text(
        f"_base_ = ['{osp.join(REPO, TINY_TRAIN)}', '{teacher_py}']\n"
        'model = dict(teacher=_base_.teacher_generator,\n'
        '             teacher_ckpt=_base_.teacher_checkpoint,\n'
        '             generator=_base_.student_generator,\n'
        '             discriminator=_base_.teacher_discriminator)\n'
        'train_cfg = dict(max_iters=2)\n')
    cfg = Config.fromfile(str(derived))
    assert cfg.model.teacher.noise_size == 16  # converted, not the base's
    assert cfg.model.teacher.style_channels == 16
    assert cfg.model.generator.teacher_channels == G_CHANNELS

    student = tmp_path / 'student.pth'
    check(run_tool('tools/prune.py', derived, '--out', student))
    pruned = torch.load(student, weights_only=True)
    assert pruned['meta']['student_cfg']['channels'] == {4: 16, 8: 16, 16: 8}
    assert pruned['meta']['teacher_checkpoint'] == str(out)

    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    loss = runner.message_hub.get_scalar('train/loss_l1').current()
    assert math.isfinite(loss)
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    # the teacher's discriminator started the student's GAN
    assert f'Discriminator initialised from {out}' in log
