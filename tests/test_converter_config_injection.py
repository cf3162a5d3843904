"""Generated teacher configs hold only data.

A converted teacher config is Python that mmengine runs
(``Config.fromfile``). Here every text and number a converter reads from a
source (an NVlabs pickle's attributes and constructor arguments, a rosinality
checkpoint's ``args``, the file names, the converter's notes) is crafted to
close a docstring or a string, start a new line, or use mmengine's
``{{ ... }}`` text substitutions, followed by code that creates a marker
file. Each run must either be refused, with a message naming the field and
the value and with nothing written, or write a config that loads without
running anything and holds the values unchanged.

The small NVlabs and rosinality sources are built with the helpers of
``test_converters.py``.
"""
import argparse
import functools
import os.path as osp
import pickle

import pytest
import torch
from conftest import check, run_tool
from mmengine.config import Config
from test_converters import (D_CHANNELS, G_CHANNELS, Discriminator, Generator,
                             Reduced, dump_nvlabs, fake_nvlabs_modules,
                             rosinality_discriminator, rosinality_generator,
                             stylegan3_source)

import mmstylekd  # noqa: F401
from mmstylekd.converters import (ConvertedTeacher, convert_nvlabs_pickle,
                                  convert_rosinality_checkpoint,
                                  write_teacher_config)
from mmstylekd.converters.cli import write_outputs

MARKER_ENV = 'MSKD_MARK'
#: creates the marker file when run; no spaces and no '/', so that it also
#: fits in a file name and in mmengine's ``{{$VAR:default}}``
CODE = f"open(__import__('os').environ['{MARKER_ENV}'],'w')"
PAYLOADS = {
    'docstring"""': f'256"""\n{CODE}\n"""',
    "docstring'''": f"256'''\n{CODE}\n'''",
    'newline': f'256\n{CODE}\n#',
    'carriage return': f'256\r{CODE}\r#',
    'quotes': f'256\'+{CODE}+\'"+{CODE}+"',
    'backslash': f'256\\\n{CODE}\\',
    'mmengine template': '{{ fileDirname }}{{$MSKD_NO_SUCH_VAR:\'+'
                         f'{CODE}+\'}}}}',
}
TOOL = 'tools/model_converters/{}_to_mmagic.py'


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """The file that the crafted code would create."""
    path = tmp_path / 'code_ran'
    monkeypatch.setenv(MARKER_ENV, str(path))
    yield path
    assert not path.exists(), 'code from a source file ran'


def write(converted, out_dir, ratio=0.7):
    """Write checkpoint and config as the tools do; return their paths."""
    out, cfg = out_dir / 'teacher.pth', out_dir / 'teacher.py'
    write_outputs(converted, argparse.Namespace(
        out=str(out), config_out=str(cfg), student_ratio=ratio,
        overwrite=False),
        'converter')
    return out, cfg


def assert_refused(error, field, value, out_dir, shown=None):
    """The message names ``field`` and shows the value (its repr, or
    ``shown``, cut to a bounded length); nothing was written."""
    message = str(error.value)
    assert field in message, message
    assert (shown or repr(value)[:24]) in message, message
    assert len(message) < len(field) + 400, message
    assert not out_dir.exists() or not list(out_dir.iterdir())


def load_config(cfg_path, marker):
    """The written config, loaded by mmengine; nothing in it ran."""
    cfg = Config.fromfile(str(cfg_path))
    assert not marker.exists(), 'loading the config ran code'
    return cfg


# ======================================================= NVlabs (.pkl)
#: field named in the message -> (network, attribute path, list index)
NVLABS_FIELDS = {
    'G_ema.synthesis.b8.conv0.conv_clamp':
    ('G_ema', 'synthesis.b8.conv0.conv_clamp', None),
    'G_ema.synthesis.b4.conv1.use_noise':
    ('G_ema', 'synthesis.b4.conv1.use_noise', None),
    'G_ema.z_dim': ('G_ema', 'z_dim', None),
    'G_ema.w_dim': ('G_ema', 'w_dim', None),
    'G_ema.c_dim': ('G_ema', 'c_dim', None),
    'G_ema.img_channels': ('G_ema', 'img_channels', None),
    'G_ema.mapping.num_layers': ('G_ema', 'mapping.num_layers', None),
    'G_ema.mapping.w_avg_beta': ('G_ema', 'mapping.w_avg_beta', None),
    'G_ema.mapping.fc0.bias_gain': ('G_ema', 'mapping.fc0.bias_gain', None),
    'G_ema.mapping.fc1.weight_gain':
    ('G_ema', 'mapping.fc1.weight_gain', None),
    'G_ema.synthesis.b8.torgb.weight_gain':
    ('G_ema', 'synthesis.b8.torgb.weight_gain', None),
    'G_ema.synthesis.block_resolutions[1]':
    ('G_ema', 'synthesis.block_resolutions', 1),
    'G_ema.synthesis.b16': ('G_ema', 'synthesis.b16.architecture', None),
    'D.img_resolution': ('D', 'img_resolution', None),
    'D.img_channels': ('D', 'img_channels', None),
    'D.block_resolutions[0]': ('D', 'block_resolutions', 0),
    'D.b4.mbstd.group_size': ('D', 'b4.mbstd.group_size', None),
    'D.b8': ('D', 'b8.architecture', None),
}


def nvlabs_pickle(path, field=None, value=None):
    """A 16 px StyleGAN2-ADA pickle (G_ema, and D for D fields), with
    ``field`` (a key of :data:`NVLABS_FIELDS`) set to ``value``.

    Returns:
        the field's valid value (None without a field).
    """
    torch.manual_seed(0)
    nets = dict(G_ema=Generator(16, 16, G_CHANNELS).eval())
    if field is not None and field.startswith('D.'):
        nets['D'] = Discriminator(D_CHANNELS).eval()
    valid = None
    if field is not None:
        net, attr, index = NVLABS_FIELDS[field]
        *parents, name = attr.split('.')
        owner = functools.reduce(getattr, parents, nets[net])
        valid = getattr(owner, name)
        if index is not None:
            valid, new = valid[index], list(valid)
            new[index] = value
            value = new
        setattr(owner, name, value)
    dump_nvlabs(path, nets)
    return valid


def nvlabs_values(valid):
    """What a field is set to: code in text; a number as text, True
    and nan where a number belongs."""
    values = [PAYLOADS['docstring"""'], PAYLOADS['newline']]
    if not isinstance(valid, str):  # a name may be text
        values.append(str(valid))
    if isinstance(valid, (int, float)) and not isinstance(valid, bool):
        values += [True, float('nan')]
    return values


@pytest.mark.parametrize('field', list(NVLABS_FIELDS))
def test_nvlabs_fields_must_be_what_the_format_says(field, tmp_path,
                                                    marker):
    src, out_dir = tmp_path / 'network.pkl', tmp_path / 'out'
    for value in nvlabs_values(nvlabs_pickle(src, field)):
        nvlabs_pickle(src, field, value)
        with pytest.raises(ValueError) as error:
            write(convert_nvlabs_pickle(str(src)), out_dir)
        assert_refused(error, f'network.pkl: {field}', value, out_dir)


@pytest.mark.parametrize('payload', list(PAYLOADS))
def test_nvlabs_conv_clamp_note_is_refused(payload, tmp_path, marker):
    # the review's case: conv_clamp became a note in the docstring
    src, out_dir = tmp_path / 'network.pkl', tmp_path / 'out'
    field = 'G_ema.synthesis.b8.conv0.conv_clamp'
    nvlabs_pickle(src, field, PAYLOADS[payload])
    with pytest.raises(ValueError, match='expected a number or None'
                       ) as error:
        write(convert_nvlabs_pickle(str(src)), out_dir)
    assert_refused(error, field, PAYLOADS[payload], out_dir)


def test_nvlabs_tool_refuses_and_writes_nothing(tmp_path, marker):
    src, out_dir = tmp_path / 'network.pkl', tmp_path / 'out'
    field = 'G_ema.synthesis.b8.conv0.conv_clamp'
    nvlabs_pickle(src, field, PAYLOADS['docstring"""'])
    proc = run_tool(TOOL.format('nvlabs'), src, '--out', out_dir / 'a.pth',
                    '--config-out', out_dir / 'a.py')
    assert proc.returncode == 1
    assert f'nvlabs_to_mmagic: {src}: {field} is ' in proc.stderr
    assert 'expected a number or None' in proc.stderr
    assert not out_dir.exists()


SG3_INIT_KWARGS = ('channel_base', 'channel_max', 'first_cutoff',
                   'first_stopband', 'last_stopband_rel', 'conv_kernel',
                   'filter_size', 'lrelu_upsampling', 'use_radial_filters',
                   'conv_clamp', 'magnitude_ema_beta')


def test_nvlabs_stylegan3_arguments_must_be_what_the_format_says(
        tmp_path, marker):
    _, G = stylegan3_source(False)
    synthesis = G.meta['state']['_modules']['synthesis'].meta['state']
    mapping = G.meta['state']['_modules']['mapping'].meta['state']
    init = synthesis['_init_kwargs']
    # a network object where a number belongs: its repr is not code either
    evil_object = Reduced(dict(type='class', version=6, module_src='',
                               class_name=PAYLOADS['docstring"""'],
                               state={}))
    cases = [(f"G_ema.synthesis._init_kwargs['{key}']", init, key)
             for key in SG3_INIT_KWARGS]
    cases += [(f'G_ema.synthesis.{key}', synthesis, key)
              for key in ('num_layers', 'num_critical', 'margin_size',
                          'output_scale', 'num_fp16_res')]
    cases += [('G_ema.mapping.w_avg_beta', mapping, 'w_avg_beta'),
              ('G_ema.img_resolution', G.meta['state'], 'img_resolution'),
              ('G_ema.z_dim', G.meta['state'], 'z_dim')]
    src, out_dir = tmp_path / 'stylegan3.pkl', tmp_path / 'out'
    for field, owner, key in cases:
        saved = owner.get(key, KeyError)
        as_text = '1' if saved is KeyError else str(saved)
        for value in (PAYLOADS['docstring"""'], as_text, evil_object):
            owner[key] = value
            with fake_nvlabs_modules(), open(src, 'wb') as f:
                pickle.dump(dict(G_ema=G), f)
            with pytest.raises(ValueError) as error:
                write(convert_nvlabs_pickle(str(src)), out_dir)
            assert_refused(
                error, f'stylegan3.pkl: {field}', value, out_dir,
                "PersistentObject('256" if value is evil_object else None)
        if saved is KeyError:
            del owner[key]
        else:
            owner[key] = saved
    # an argument name that is not text is named, not a crash
    init[1] = 2
    with fake_nvlabs_modules(), open(src, 'wb') as f:
        pickle.dump(dict(G_ema=G), f)
    with pytest.raises(ValueError, match=r'constructor arguments \[1\]'):
        convert_nvlabs_pickle(str(src))


@pytest.mark.parametrize('payload', list(PAYLOADS))
def test_nvlabs_file_names_end_nothing(payload, tmp_path, marker):
    # source, checkpoint, config and their folder named with the payload;
    # the config's folder is what mmengine puts in for {{ fileDirname }}
    text = PAYLOADS[payload]
    src = tmp_path / f'net{text}.pkl'
    nvlabs_pickle(src)
    out_dir = tmp_path / f'out{text}'
    out = out_dir / f'teacher{text}.pth'
    cfg_path = out_dir / f'teacher{text}.py'
    write_outputs(convert_nvlabs_pickle(str(src)), argparse.Namespace(
        out=str(out), config_out=str(cfg_path), student_ratio=0.7,
        overwrite=False), TOOL.format('nvlabs') + text)
    cfg = load_config(cfg_path, marker)
    assert cfg.teacher_checkpoint == osp.abspath(out)
    assert cfg.teacher_generator.channels == G_CHANNELS
    text = cfg_path.read_text(encoding='utf-8')
    assert text.startswith('"""Teacher config written by an mmstylekd')
    assert '{{' not in text and '\r' not in text


def test_nvlabs_tool_with_crafted_file_names(tmp_path, marker):
    text = PAYLOADS['docstring"""']
    src = tmp_path / f'net{text}.pkl'
    nvlabs_pickle(src)
    out_dir = tmp_path / f'out{PAYLOADS["mmengine template"]}'
    out, cfg_path = out_dir / f'a{text}.pth', out_dir / 'a.py'
    check(run_tool(TOOL.format('nvlabs'), src, '--out', out, '--config-out',
                   cfg_path))
    cfg = load_config(cfg_path, marker)
    assert cfg.teacher_checkpoint == osp.abspath(out)
    assert cfg.teacher_generator.lr_mlp == pytest.approx(0.01)


# ===================================================== rosinality (.pt)
def rosinality_checkpoint(path, args):
    torch.manual_seed(1)
    torch.save(dict(g_ema=rosinality_generator(G_CHANNELS),
                    d=rosinality_discriminator(D_CHANNELS), args=args), path)


@pytest.mark.parametrize('field, valid', [('size', 16), ('lr_mlp', 0.01)])
def test_rosinality_args_must_be_numbers(field, valid, tmp_path, marker):
    src, out_dir = tmp_path / 'ckpt.pt', tmp_path / 'out'
    values = [PAYLOADS[p] for p in PAYLOADS] + [str(valid), True]
    values += [float('nan'), float('inf')] if field == 'lr_mlp' else [16.0]
    for value in values:
        rosinality_checkpoint(src, argparse.Namespace(**{field: value}))
        with pytest.raises(ValueError) as error:
            write(convert_rosinality_checkpoint(str(src)), out_dir)
        assert_refused(error, f'ckpt.pt: args.{field}', value, out_dir)


def test_rosinality_lr_mlp_argument_must_be_finite(tmp_path, marker):
    src = tmp_path / 'ckpt.pt'
    rosinality_checkpoint(src, None)
    with pytest.raises(ValueError, match='lr_mlp is nan'):
        convert_rosinality_checkpoint(str(src), lr_mlp=float('nan'))


def test_rosinality_text_args_and_file_names_end_nothing(tmp_path, marker):
    # args that the converter does not read, with code; crafted file names
    text = PAYLOADS['docstring"""'] + PAYLOADS['mmengine template']
    src = tmp_path / f'ckpt{PAYLOADS["quotes"]}.pt'
    args = argparse.Namespace(size=16, lr_mlp=0.02, **{
        name: PAYLOADS[name] for name in PAYLOADS if name.isidentifier()})
    args.path, args.name = text, PAYLOADS["docstring'''"]
    rosinality_checkpoint(src, args)
    out_dir = tmp_path / f'out{text}'
    out, cfg_path = write(convert_rosinality_checkpoint(str(src)), out_dir)
    cfg = load_config(cfg_path, marker)
    assert cfg.teacher_checkpoint == osp.abspath(out)
    assert cfg.teacher_generator.lr_mlp == pytest.approx(0.02)
    assert cfg.teacher_discriminator.channels == D_CHANNELS


# ============================================= what reaches the writer
class EvilRepr(str):
    """Text whose repr is code."""

    def __repr__(self):
        return f"''\n{CODE}\n"


def test_free_text_of_a_converted_teacher_is_comments_only(tmp_path, marker):
    # what a future converter might carry from a source into the text
    text = '\n'.join(PAYLOADS.values())
    converted = ConvertedTeacher(
        source=text, source_format=text,
        generator_cfg=dict(type='StyleGAN2StudentGenerator',
                           channels={4: 8}, name=EvilRepr('x')),
        states={}, carried={text: text}, notes=[text, EvilRepr(text)])
    cfg_path = tmp_path / 'teacher.py'
    write_teacher_config(converted, str(cfg_path), text, text)
    cfg = load_config(cfg_path, marker)
    assert cfg.teacher_generator.name == 'x'
    assert cfg.teacher_checkpoint == osp.abspath(text)


@pytest.mark.parametrize('bad, field', [
    (float('nan'), 'teacher_generator.lr_mlp'),
    (object(), 'teacher_generator.lr_mlp'),
    ({(4, 8): 1}, 'teacher_generator.lr_mlp key'),
    ({'x': torch.ones(2)}, 'teacher_generator.lr_mlp.x'),
])
def test_a_value_that_is_not_plain_data_writes_nothing(bad, field, tmp_path,
                                                       marker):
    converted = ConvertedTeacher(
        source='src.pt', source_format='rosinality-stylegan2',
        generator_cfg=dict(type='StyleGAN2StudentGenerator',
                           channels={4: 8}, lr_mlp=bad),
        states=dict(generator_ema=dict(w=torch.zeros(1))))
    out_dir = tmp_path / 'out'
    with pytest.raises(ValueError, match='expected') as error:
        write(converted, out_dir)
    assert field in str(error.value)
    assert not out_dir.exists()  # not even the checkpoint
