"""NVlabs StyleGAN2-ADA / StyleGAN3 networks -> MMagic modules.

Layouts (NVlabs ``training/networks.py`` of stylegan2-ada-pytorch,
``training/networks_stylegan2.py`` and ``networks_stylegan3.py`` of
stylegan3):

StyleGAN2 (``G.synthesis.b4`` .. ``b{res}``, architecture 'skip'):
  - ``mapping.fc{i}`` (raw weight (out, in), applied as weight * lr / sqrt(in),
    bias * lr, lr = ``lr_multiplier`` 0.01) -> MMagic's
    ``style_mapping.{i+1}`` (``linear.weight_orig`` + EqualizedLR with the
    same gain and ``lr_mul``); ``mapping.w_avg`` -> ``w_avg``.
  - ``b4.const`` (C, 4, 4) -> ``constant_input.input`` (1, C, 4, 4).
  - ``b4.conv1``, ``b{r}.conv0`` (up), ``b{r}.conv1`` -> ``conv1``,
    ``convs.{2k}``, ``convs.{2k+1}``: weight (O, I, 3, 3) -> ``weight_orig``
    (1, O, I, 3, 3) (demodulated: no gain is involved), ``affine`` ->
    ``style_modulation``, ``bias`` -> ``activate.bias``, ``noise_strength``
    () -> ``noise_injector.weight`` (1,), ``noise_const`` (r, r) ->
    ``injected_noise_{n}`` (1, 1, r, r).
  - ``b{r}.torgb``: weight (3, C, 1, 1) -> (1, 3, C, 1, 1); NVlabs scales
    the styles by 1 / sqrt(C), MMagic the weight (same product); bias (3,)
    -> (1, 3, 1, 1).
  - resample filters must be the normalised [1,3,3,1] outer product that
    MMagic builds its blur kernels from (checked, not copied).

StyleGAN3: MMagic's StyleGAN3 is a port of NVlabs' with the same parameter
names; ``mapping.`` becomes ``style_mapping.``. The architecture (sizes,
sampling rates, cut-offs, filters, paddings) is rebuilt from the networks'
saved constructor arguments and checked layer by layer against the pickle.

Discriminator (both): NVlabs' ResNet D (``b{res}.fromrgb``, ``conv0``,
``conv1`` (down), ``skip``; ``b4`` epilogue with minibatch-stddev, ``conv``,
``fc``, ``out``) -> MMagic's StyleGAN2 discriminator layers.
"""
import functools
import math
import re
from typing import Any, Callable, Dict, List

import numpy as np
import torch

from .config_values import as_bool, as_int, as_real, short_repr
from .config_writer import (discriminator_config, stylegan2_generator_config,
                            stylegan2_notes, stylegan3_generator_config)
from .layout import LayoutError, Rename, apply_layout, shape_of
from .mmagic_checkpoint import ConvertedTeacher, build_module, fit_to_mmagic
from .nvlabs_pickle import PersistentObject, load_nvlabs_pickle, network

BLUR_KERNEL = torch.tensor([1., 3., 3., 1.])


def _default_filter() -> torch.Tensor:
    kernel = BLUR_KERNEL[None, :] * BLUR_KERNEL[:, None]
    return kernel / kernel.sum()


def _is_blur_kernel(key: str) -> bool:
    return key.endswith('.kernel')


# --------------------------------------------------------------- checks
def _expect(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ValueError(f'{where}: {message}')


def _checked(obj: PersistentObject, name: str, source: str,
             check: Callable = as_int, default: Any = KeyError,
             **kwargs) -> Any:
    """A saved attribute checked by ``check`` (:func:`.as_int`,
    :func:`.as_real`, ...): what reaches a config or a computation is what
    the format says it is; the message names the file and attribute."""
    return check(obj.attr(name, default), f'{source}: {obj.path}.{name}',
                 **kwargs)


def _int_list(obj: PersistentObject, name: str, source: str) -> List[int]:
    """A saved list of integers (e.g. ``block_resolutions``)."""
    field = f'{source}: {obj.path}.{name}'
    values = obj.attr(name)
    if not isinstance(values, (list, tuple)):
        raise ValueError(f'{field} is {short_repr(values)}: expected a list '
                         'of integers.')
    return [as_int(v, f'{field}[{i}]') for i, v in enumerate(values)]


def _param(layer: PersistentObject, name: str, source: str) -> torch.Tensor:
    """A parameter of a saved layer; LayoutError naming it if absent."""
    value = layer.state.get('_parameters', {}).get(name)
    if not isinstance(value, torch.Tensor):
        raise LayoutError(f'{source}: {layer.path}.{name}: missing from the '
                          f'saved {layer.class_name}.')
    return value


def _check_dense(layer: PersistentObject, lr: float, activation: str,
                 source: str) -> None:
    """An NVlabs FullyConnectedLayer with the given lr multiplier."""
    where = f'{source}: {layer.path}'
    fan_in = _param(layer, 'weight', source).shape[1]
    _expect(layer.attr('activation') == activation, where,
            f'activation {short_repr(layer.attr("activation"))}, MMagic uses '
            f'{activation!r}.')
    bias_gain = _checked(layer, 'bias_gain', source, as_real)
    weight_gain = _checked(layer, 'weight_gain', source, as_real)
    _expect(
        math.isclose(bias_gain, lr, rel_tol=1e-6)
        and math.isclose(weight_gain, lr / math.sqrt(fan_in), rel_tol=1e-5),
        where, f'gains (weight {weight_gain}, bias {bias_gain}) are not '
        f'lr_multiplier={lr} / sqrt(fan_in) as MMagic assumes.')


def _check_filter(obj: PersistentObject, key: str, source: str) -> None:
    value = obj.state['_buffers'].get(key)
    _expect(
        value is not None and value.shape == (4, 4)
        and torch.allclose(value.float(), _default_filter()),
        f'{source}: {obj.path}.{key}',
        'resample filter is not the [1, 3, 3, 1] filter MMagic builds its '
        'StyleGAN2 up/down-sampling with.')


def _unconditional(net: PersistentObject, source: str) -> None:
    """Refuse a conditional network (``c_dim`` > 0)."""
    c_dim = _checked(net, 'c_dim', source, default=0)
    _expect(c_dim == 0, f'{source}: {net.path}',
            f'conditional networks (c_dim={c_dim}) are not supported.')


def _mapping(mapping: PersistentObject, source: str) -> tuple:
    """(num_layers, lr_multiplier) of a checked NVlabs MappingNetwork."""
    num_layers = _checked(mapping, 'num_layers', source)
    lr = float(_checked(mapping.child('fc0'), 'bias_gain', source, as_real))
    for i in range(num_layers):
        _check_dense(mapping.child(f'fc{i}'), lr, 'lrelu', source)
    return num_layers, lr


# ----------------------------------------------------------- StyleGAN2 G
def _stylegan2_generator_table(resolutions: List[int],
                               num_mapping: int,
                               w_avg: bool,
                               sizes: Dict[str, tuple]) -> List[Rename]:
    # a missing tensor gets a placeholder shape: apply_layout reports it
    table = []
    for i in range(num_mapping):
        table += [
            Rename(f'mapping.fc{i}.weight',
                   f'style_mapping.{i + 1}.linear.weight_orig'),
            Rename(f'mapping.fc{i}.bias', f'style_mapping.{i + 1}.bias')
        ]
    if w_avg:
        table.append(Rename('mapping.w_avg', 'w_avg'))
    table.append(
        Rename('synthesis.b4.const', 'constant_input.input',
               (1, ) + sizes.get('synthesis.b4.const', ())))
    layers = [('synthesis.b4.conv1', 'conv1', 4)]
    rgbs = [('synthesis.b4.torgb', 'to_rgb1')]
    for k, res in enumerate(resolutions[1:]):
        layers += [(f'synthesis.b{res}.conv0', f'convs.{2 * k}', res),
                   (f'synthesis.b{res}.conv1', f'convs.{2 * k + 1}', res)]
        rgbs.append((f'synthesis.b{res}.torgb', f'to_rgbs.{k}'))
    for n, (src, dst, res) in enumerate(layers):
        table += [
            Rename(f'{src}.weight', f'{dst}.conv.weight_orig',
                   (1, ) + sizes.get(f'{src}.weight', ())),
            Rename(f'{src}.affine.weight',
                   f'{dst}.conv.style_modulation.linear.weight_orig'),
            Rename(f'{src}.affine.bias', f'{dst}.conv.style_modulation.bias'),
            Rename(f'{src}.bias', f'{dst}.activate.bias'),
            Rename(f'{src}.noise_strength', f'{dst}.noise_injector.weight',
                   (1, )),
            Rename(f'{src}.noise_const', f'injected_noise_{n}',
                   (1, 1, res, res)),
        ]
    for src, dst in rgbs:
        out, cin = sizes.get(f'{src}.weight', (0, 0))[:2]
        table += [
            Rename(f'{src}.weight', f'{dst}.conv.weight_orig',
                   (1, out, cin, 1, 1)),
            Rename(f'{src}.affine.weight',
                   f'{dst}.conv.style_modulation.linear.weight_orig'),
            Rename(f'{src}.affine.bias', f'{dst}.conv.style_modulation.bias'),
            Rename(f'{src}.bias', f'{dst}.bias', (1, out, 1, 1)),
        ]
    return table


def _stylegan2_generator(G: PersistentObject, source: str):
    """(config, table, notes) of an NVlabs StyleGAN2 generator."""
    where = f'{source}: {G.path}'
    _unconditional(G, source)
    mapping, synthesis = G.child('mapping'), G.child('synthesis')
    resolutions = _int_list(synthesis, 'block_resolutions', source)
    tensors = G.tensors()
    notes = []
    for res in resolutions:
        block = synthesis.child(f'b{res}')
        _expect(
            block.attr('architecture') == 'skip', f'{source}: {block.path}',
            f'architecture {short_repr(block.attr("architecture"))}: '
            'MMagic\'s StyleGAN2 generator is the \'skip\' architecture.')
        names = (['conv1'] if res == 4 else ['conv0', 'conv1'])
        for name in names:
            layer = block.child(name)
            lwhere = f'{source}: {layer.path}'
            _expect(
                _checked(layer, 'use_noise', source, as_bool), lwhere,
                'use_noise=False: MMagic\'s StyleGAN2 always injects noise.')
            _expect(
                layer.attr('activation') == 'lrelu'
                and tuple(_param(layer, 'weight', source).shape[2:]) ==
                (3, 3), lwhere, 'MMagic expects 3x3 lrelu layers.')
            _expect(
                layer.attr('up') == (2 if name == 'conv0' else 1), lwhere,
                f'up={short_repr(layer.attr("up"))} where MMagic upsamples '
                f'by {2 if name == "conv0" else 1}.')
            _check_dense(layer.child('affine'), 1, 'linear', source)
            # the note carries the value into the config's comments
            clamp = _checked(layer, 'conv_clamp', source, as_real,
                             optional=True)
            if clamp is not None:
                notes.append(f'NVlabs clamps activations to +-{clamp} '
                             '(conv_clamp); MMagic\'s StyleGAN2 clamps only '
                             'in fp16.')
        torgb = block.child('torgb')
        _check_dense(torgb.child('affine'), 1, 'linear', source)
        channels = _param(torgb, 'weight', source).shape[1]
        _expect(
            math.isclose(_checked(torgb, 'weight_gain', source, as_real),
                         1 / math.sqrt(channels), rel_tol=1e-5),
            f'{source}: {torgb.path}', 'to-RGB weight gain is not 1/sqrt(C).')
        if res > 4:
            _check_filter(block, 'resample_filter', source)
            _check_filter(block.child('conv0'), 'resample_filter', source)
    num_mapping, lr = _mapping(mapping, source)
    sizes = {k: tuple(v.shape) for k, v in tensors.items()}
    w_avg = 'mapping.w_avg' in tensors
    z_dim, w_dim = _checked(G, 'z_dim', source), _checked(G, 'w_dim', source)
    channels = {
        res: shape_of(tensors, f'synthesis.b{res}.conv1.weight', where)[0]
        for res in resolutions
    }
    cfg = stylegan2_generator_config(
        out_size=resolutions[-1],
        style_channels=w_dim,
        noise_size=z_dim,
        num_mlps=num_mapping,
        lr_mlp=lr,
        channels=channels,
        img_channels=_checked(G, 'img_channels', source),
        w_avg_beta=_checked(mapping, 'w_avg_beta', source, as_real)
        if w_avg else None)
    table = _stylegan2_generator_table(resolutions, num_mapping, w_avg, sizes)
    return cfg, table, sorted(set(notes)) + stylegan2_notes(cfg)


# ----------------------------------------------------------- StyleGAN3 G
#: SynthesisNetwork / SynthesisLayer constructor arguments, identical in
#: NVlabs' networks_stylegan3.py and MMagic's port: default, and the check
#: of a saved value (NVlabs' train.py sets conv_clamp None for --fp32)
SG3_SYNTHESIS_ARGS = dict(
    channel_base=(32768, as_int),
    channel_max=(512, as_int),
    num_layers=(14, as_int),
    num_critical=(2, as_int),
    first_cutoff=(2, as_real),
    first_stopband=(2**2.1, as_real),
    last_stopband_rel=(2**0.3, as_real),
    margin_size=(10, as_int),
    output_scale=(0.25, as_real),
    num_fp16_res=(4, as_int),
    conv_kernel=(3, as_int),
    filter_size=(6, as_int),
    lrelu_upsampling=(2, as_int),
    use_radial_filters=(False, as_bool),
    conv_clamp=(256, functools.partial(as_real, optional=True)),
    magnitude_ema_beta=(0.999, as_real))
#: arguments that SynthesisNetwork also keeps as attributes (read there)
SG3_SAVED_ARGS = ('num_layers', 'num_critical', 'margin_size',
                  'output_scale', 'num_fp16_res')
#: attributes compared between the pickle's layers and MMagic's rebuilt ones
SG3_LAYER_ATTRS = ('is_torgb', 'is_critically_sampled', 'use_fp16',
                   'in_channels', 'out_channels', 'in_size', 'out_size',
                   'in_sampling_rate', 'out_sampling_rate', 'in_cutoff',
                   'out_cutoff', 'in_half_width', 'out_half_width',
                   'tmp_sampling_rate', 'conv_kernel', 'conv_clamp',
                   'up_factor', 'up_taps', 'down_factor', 'down_taps',
                   'down_radial', 'padding', 'magnitude_ema_beta')
SG3_INPUT_ATTRS = ('channels', 'size', 'sampling_rate', 'bandwidth')


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (bool, str)) or isinstance(b, (bool, str)):
        return a == b
    try:
        return bool(np.allclose(np.asarray(a, dtype=np.float64),
                                np.asarray(b, dtype=np.float64), rtol=1e-6))
    except (TypeError, ValueError):  # not numbers: not the same
        return False


def _stylegan3_generator(G: PersistentObject, source: str):
    """(config, table, notes) of an NVlabs StyleGAN3 generator."""
    _unconditional(G, source)
    mapping, synthesis = G.child('mapping'), G.child('synthesis')
    num_mapping, lr = _mapping(mapping, source)
    cfg = stylegan3_generator_config(
        out_size=_checked(G, 'img_resolution', source),
        style_channels=_checked(G, 'w_dim', source),
        noise_size=_checked(G, 'z_dim', source),
        img_channels=_checked(G, 'img_channels', source),
        synthesis=_stylegan3_synthesis_args(synthesis, source),
        mapping=dict(
            num_layers=num_mapping,
            lr_multiplier=lr,
            w_avg_beta=_checked(mapping, 'w_avg_beta', source, as_real,
                                optional=True)))
    _check_stylegan3_layout(cfg, synthesis, source)
    table = [
        Rename(key, re.sub(r'^mapping\.', 'style_mapping.', key))
        for key in G.tensors()
    ]
    return cfg, table, []


def _stylegan3_synthesis_args(synthesis: PersistentObject,
                              source: str) -> dict:
    """Every ``SynthesisNetwork`` argument (written out: the rebuilt
    layers are compared with the pickle's), each checked."""
    where = f'{source}: {synthesis.path}'
    # the decorator of torch_utils.persistence saves constructor arguments
    init = synthesis.attr('_init_kwargs', {}) or {}
    _expect(isinstance(init, dict), where,
            f'_init_kwargs is {short_repr(init)}, not a dict.')
    unknown = sorted(
        set(init) - set(SG3_SYNTHESIS_ARGS) -
        {'w_dim', 'img_resolution', 'img_channels'}, key=repr)
    _expect(not unknown, where,
            f'constructor arguments {short_repr(unknown)} are unknown to '
            'MMagic\'s StyleGAN3 port.')
    args = {}
    for key, (default, check) in SG3_SYNTHESIS_ARGS.items():
        if key in SG3_SAVED_ARGS:
            args[key] = _checked(synthesis, key, source, check)
        else:
            args[key] = check(init.get(key, default),
                              f'{where}._init_kwargs[{key!r}]')
    return args


def _check_stylegan3_layout(cfg: dict, synthesis: PersistentObject,
                            source: str) -> None:
    """Rebuild MMagic's synthesis network and compare every layer."""
    built = build_module(cfg).synthesis
    names = list(synthesis.attr('layer_names'))
    _expect(
        names == list(built.layer_names), f'{source}: {synthesis.path}',
        f'layers {short_repr(names)} but the rebuilt MMagic network has '
        f'{list(built.layer_names)} (widths or sizes differ: pruned or '
        'modified StyleGAN3 networks are not supported).')
    pairs = [(synthesis.child('input'), built.input, SG3_INPUT_ATTRS)]
    pairs += [(synthesis.child(n), getattr(built, n), SG3_LAYER_ATTRS)
              for n in names]
    for ours, theirs, attrs in pairs:
        for attr in attrs:
            a, b = ours.attr(attr), getattr(theirs, attr)
            _expect(
                _same(a, b), f'{source}: {ours.path}.{attr}',
                f'{short_repr(a)} in the pickle but {b!r} in MMagic\'s '
                'rebuilt layer (the saved constructor arguments do not '
                'reproduce the architecture).')
    for attr in ('output_scale', 'margin_size', 'num_ws'):
        _expect(
            _same(synthesis.attr(attr), getattr(built, attr)),
            f'{source}: {synthesis.path}.{attr}',
            f'{short_repr(synthesis.attr(attr))} in the pickle but '
            f'{getattr(built, attr)!r} in MMagic.')


# ------------------------------------------------------------------- D
def _discriminator(D: PersistentObject, source: str):
    """(config, table) of an NVlabs ResNet discriminator."""
    where = f'{source}: {D.path}'
    _unconditional(D, source)
    resolutions = _int_list(D, 'block_resolutions', source)
    in_size = _checked(D, 'img_resolution', source)
    tensors = D.tensors()
    channels = {}
    table = [
        Rename(f'b{in_size}.fromrgb.weight', 'convs.0.0.conv.weight_orig'),
        Rename(f'b{in_size}.fromrgb.bias', 'convs.0.1.bias')
    ]
    for i, res in enumerate(resolutions, start=1):
        block = D.child(f'b{res}')
        _expect(
            block.attr('architecture') == 'resnet', f'{source}: {block.path}',
            f'architecture {short_repr(block.attr("architecture"))}: '
            'MMagic\'s StyleGAN2 discriminator is the \'resnet\' one.')
        for name, down in (('conv0', 1), ('conv1', 2), ('skip', 2)):
            layer = block.child(name)
            _expect(
                layer.attr('down') == down and layer.attr('up') == 1,
                f'{source}: {layer.path}', 'unexpected resampling.')
            if down == 2:
                _check_filter(layer, 'resample_filter', source)
        channels[res] = shape_of(tensors, f'b{res}.conv0.weight', where)[0]
        table += [
            Rename(f'b{res}.conv0.weight',
                   f'convs.{i}.conv1.0.conv.weight_orig'),
            Rename(f'b{res}.conv0.bias', f'convs.{i}.conv1.1.bias'),
            Rename(f'b{res}.conv1.weight',
                   f'convs.{i}.conv2.1.conv.weight_orig'),
            Rename(f'b{res}.conv1.bias', f'convs.{i}.conv2.2.bias'),
            Rename(f'b{res}.skip.weight',
                   f'convs.{i}.skip.1.conv.weight_orig'),
        ]
    epilogue = D.child('b4')
    ewhere = f'{source}: {epilogue.path}'
    _expect(
        epilogue.attr('architecture') == 'resnet'
        and epilogue.attr('cmap_dim', 0) == 0, ewhere,
        'only the unconditional \'resnet\' epilogue is supported.')
    mbstd = epilogue.child('mbstd')
    # NVlabs' group_size None (the whole batch) has no MMagic equivalent
    group_size = _checked(mbstd, 'group_size', source)
    _expect(
        mbstd.attr('num_channels') == 1, ewhere,
        f'minibatch-stddev num_channels='
        f'{short_repr(mbstd.attr("num_channels"))}: MMagic uses one channel.')
    _check_dense(epilogue.child('fc'), 1, 'lrelu', source)
    _check_dense(epilogue.child('out'), 1, 'linear', source)
    channels[4] = shape_of(tensors, 'b4.conv.weight', where)[0]
    table += [
        Rename('b4.conv.weight', 'final_conv.0.conv.weight_orig'),
        Rename('b4.conv.bias', 'final_conv.1.bias'),
        Rename('b4.fc.weight', 'final_linear.0.linear.weight_orig'),
        Rename('b4.fc.bias', 'final_linear.0.bias'),
        Rename('b4.out.weight', 'final_linear.1.linear.weight_orig'),
        Rename('b4.out.bias', 'final_linear.1.bias'),
    ]
    cfg = discriminator_config(in_size, channels,
                               _checked(D, 'img_channels', source),
                               group_size)
    return cfg, table


# ------------------------------------------------------------- entry
def _family(G: PersistentObject) -> str:
    synthesis = G.child('synthesis')
    if synthesis.has_child('input') and synthesis.attr('layer_names', None):
        return 'stylegan3'
    if synthesis.has_child('b4'):
        return 'stylegan2'
    raise ValueError(f'{G.path} is neither an NVlabs StyleGAN2 (synthesis.b4)'
                     ' nor a StyleGAN3 (synthesis.input) generator.')


def _convert_generator(G: PersistentObject, source: str, family: str):
    if family == 'stylegan2':
        cfg, table, notes = _stylegan2_generator(G, source)
        ignore = re.compile(r'.*resample_filter$').match
    else:
        cfg, table, notes = _stylegan3_generator(G, source)
        ignore = re.compile(r'$^').match
    where = f'{source}: {G.path}'
    tensors = apply_layout(G.tensors(), table, where, ignore)
    # resample filters were checked to be MMagic's: its blur kernels stay
    state = fit_to_mmagic(cfg, tensors, where, derived=_is_blur_kernel)
    return cfg, state, notes


def convert_nvlabs_pickle(path: str) -> ConvertedTeacher:
    """Convert an NVlabs network pickle (StyleGAN2-ADA or StyleGAN3).

    Args:
        path (str): the ``.pkl`` file.

    Returns:
        ConvertedTeacher: ``generator_ema`` from ``G_ema``; ``generator``
        from ``G`` and ``discriminator`` from ``D`` when present.

    Raises:
        UnsafePickleError: the pickle holds anything but networks and data.
        LayoutError, ValueError: the networks are not a layout this converter
            knows (messages name the key, layer or attribute).
    """
    data = load_nvlabs_pickle(path)
    G_ema = network(data, 'G_ema', path)
    if G_ema is None:
        raise LayoutError(f'{path}: no G_ema in the pickle (keys '
                          f'{sorted(data)}).')
    family = _family(G_ema)
    cfg, state, notes = _convert_generator(G_ema, path, family)
    states = {'generator_ema': state}
    carried = {}
    if family == 'stylegan2':
        carried['noise'] = 'synthesis.*.noise_const -> injected_noise_*'
        if 'w_avg' in state:
            carried['w_avg'] = 'mapping.w_avg -> w_avg'
    else:
        carried['w_avg'] = 'mapping.w_avg -> style_mapping.w_avg'
    G = network(data, 'G', path)
    if G is not None:
        g_cfg, states['generator'], _ = _convert_generator(G, path, family)
        if g_cfg != cfg:
            raise ValueError(f'{path}: G and G_ema have different '
                             f'architectures ({g_cfg} vs {cfg}).')
        carried['generator'] = 'G -> generator'
    D = network(data, 'D', path)
    d_cfg = None
    if D is not None:
        d_cfg, table = _discriminator(D, path)
        where = f'{path}: {D.path}'
        tensors = apply_layout(D.tensors(), table, where,
                               re.compile(r'.*resample_filter$').match)
        states['discriminator'] = fit_to_mmagic(
            d_cfg, tensors, where, derived=_is_blur_kernel)
        carried['discriminator'] = 'D -> discriminator'
    return ConvertedTeacher(
        source=str(path),
        source_format=f'nvlabs-{family}',
        generator_cfg=cfg,
        discriminator_cfg=d_cfg,
        states=states,
        carried=carried,
        notes=notes)
