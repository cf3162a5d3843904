"""The MMagic/mmstylekd configs of a converted teacher, and their file.

The generator configs say everything the weights cannot: resolution, widths,
mapping layers and learning-rate multiplier, whether a ``w_avg`` buffer is
kept, PixelNorm's epsilon; the noise buffers (``injected_noise_*``) are part
of MMagic's StyleGAN2 generator and come with the weights. The written file
defines four variables, named so that it can sit next to a StyleKD config in
``_base_`` without clashing::

    teacher_generator = dict(...)       # model.teacher
    student_generator = dict(...)       # model.generator (pruned by ratio)
    teacher_discriminator = dict(...)   # model.discriminator (if converted)
    teacher_checkpoint = '...'          # model.teacher_ckpt

Every architecture argument is written out (none left to defaults), so that
``model = dict(teacher=_base_.teacher_generator, ...)`` merged onto another
config's ``model`` replaces all of that config's architecture keys.

The file holds data and comments only (:mod:`.config_values`): numbers are
checked to be numbers, values are written as literals, and the source's path
and the converter's notes are comment lines that cannot end early.
"""
import os.path as osp
from typing import Dict, List, Optional

from ..engine.atomic_output import atomic_write
from ..utils import plain
from .config_values import as_int, as_real, comment_lines, literal
from .mmagic_checkpoint import ConvertedTeacher


def stylegan2_generator_config(out_size: int,
                               style_channels: int,
                               noise_size: int,
                               num_mlps: int,
                               lr_mlp: float,
                               channels: Dict[int, int],
                               img_channels: int = 3,
                               w_avg_beta: Optional[float] = None,
                               norm_eps: float = 1e-8) -> dict:
    """MMagic StyleGAN2 generator with explicit per-resolution widths.

    ``StyleGAN2StudentGenerator`` is MMagic's ``StyleGAN2Generator`` (same
    modules and ``state_dict`` keys) whose widths are given instead of taken
    from MMagic's 512-channel table, so any width (also a pruned CAGAN/StyleKD
    generator) fits.

    Args:
        out_size (int): resolution.
        style_channels (int): width of w.
        noise_size (int): width of z.
        num_mlps (int): mapping layers.
        lr_mlp (float): mapping learning-rate multiplier (equalised-lr gain).
        channels (dict): width per resolution 4 .. out_size.
        img_channels (int): output channels.
        w_avg_beta (float, optional): when given, MMagic keeps a ``w_avg``
            buffer (``update_mean_latent_with_ema``), which truncation uses.
        norm_eps (float): PixelNorm epsilon of z (NVlabs and rosinality use
            1e-8; MMagic's default is 1e-6).

    Returns:
        dict: the generator config.
    """
    cfg = dict(
        type='StyleGAN2StudentGenerator',
        out_size=as_int(out_size, 'out_size'),
        style_channels=as_int(style_channels, 'style_channels'),
        noise_size=as_int(noise_size, 'noise_size'),
        out_channels=as_int(img_channels, 'img_channels'),
        num_mlps=as_int(num_mlps, 'num_mlps'),
        lr_mlp=float(as_real(lr_mlp, 'lr_mlp')),
        channels=_widths(channels),
        norm_eps=float(as_real(norm_eps, 'norm_eps')),
        bgr2rgb=False)
    cfg['update_mean_latent_with_ema'] = w_avg_beta is not None
    if w_avg_beta is not None:
        cfg['w_avg_beta'] = float(as_real(w_avg_beta, 'w_avg_beta'))
    return cfg


def _widths(channels: Dict[int, int]) -> Dict[int, int]:
    """Width per resolution, both checked to be ints, by resolution."""
    return {
        as_int(k, 'channels key'): as_int(v, f'channels[{k!r}]')
        for k, v in sorted(channels.items())
    }


def stylegan2_notes(cfg: dict) -> List[str]:
    """What a StyleGAN2 generator config cannot do under MMagic's model."""
    if cfg['noise_size'] != cfg['style_channels']:
        # mmagic/models/editors/stylegan2/stylegan2.py: noise_size =
        # generator.style_channels
        return [f'z has {cfg["noise_size"]} dimensions but w '
                f'{cfg["style_channels"]}: the generator converts and '
                'generates, but MMagic\'s StyleGAN2 model (and so StyleKD '
                'training) samples z with style_channels dimensions.']
    return []


def stylegan3_generator_config(out_size: int, style_channels: int,
                               noise_size: int, img_channels: int,
                               synthesis: dict, mapping: dict) -> dict:
    """MMagic ``StyleGAN3Generator`` config (MMagic's port of NVlabs').

    Args:
        synthesis (dict): ``SynthesisNetwork`` arguments (``channel_base``,
            ``channel_max``, ``num_layers``, ... and layer arguments such as
            ``conv_kernel``, ``use_radial_filters``).
        mapping (dict): ``MappingNetwork`` arguments (``num_layers``,
            ``lr_multiplier``, ``w_avg_beta``).
    """
    return dict(
        type='StyleGAN3Generator',
        out_size=as_int(out_size, 'out_size'),
        style_channels=as_int(style_channels, 'style_channels'),
        noise_size=as_int(noise_size, 'noise_size'),
        img_channels=as_int(img_channels, 'img_channels'),
        rgb2bgr=False,
        synthesis_cfg=dict(type='SynthesisNetwork', **synthesis),
        mapping_cfg=dict(type='MappingNetwork', **mapping))


def student_config(teacher_cfg: dict, ratio: float) -> dict:
    """The student of ``teacher_cfg``: every width reduced by ``ratio``.

    StyleGAN2: ``StyleGAN2StudentGenerator`` with ``ratio`` applied to the
    teacher's explicit widths; StyleGAN3: ``StyleGAN3StudentGenerator`` on
    the teacher's synthesis layout.
    """
    ratio = float(as_real(ratio, 'student ratio'))
    if teacher_cfg['type'] == 'StyleGAN3Generator':
        return dict(teacher_cfg, type='StyleGAN3StudentGenerator',
                    channels=None, ratio=ratio)
    return dict(teacher_cfg, channels=None, ratio=ratio,
                teacher_channels=dict(teacher_cfg['channels']))


def discriminator_config(in_size: int,
                         channels: Dict[int, int],
                         img_channels: int = 3,
                         mbstd_group_size: int = 4) -> dict:
    """StyleGAN2 ResNet discriminator with explicit widths.

    ``StyleGAN2NarrowDiscriminator`` builds MMagic's own StyleGAN2
    discriminator layers (same keys as ``StyleGAN2Discriminator``) with the
    given widths.
    """
    return dict(
        type='StyleGAN2NarrowDiscriminator',
        in_size=as_int(in_size, 'in_size'),
        channels=_widths(channels),
        img_channels=as_int(img_channels, 'img_channels'),
        mbstd_cfg=dict(
            group_size=as_int(mbstd_group_size, 'mbstd group_size'),
            channel_groups=1))


#: the docstring of every written config: fixed text, nothing read from a
#: source (where it came from follows as comment lines)
USAGE = '''"""Teacher config written by an mmstylekd model converter.

Use it as the teacher of a distillation config:

    _base_ = ['<your StyleKD config>', '<this file>']
    model = dict(teacher=_base_.teacher_generator,
                 teacher_ckpt=_base_.teacher_checkpoint,
                 generator=_base_.student_generator,
                 discriminator=_base_.teacher_discriminator)
"""'''


def _provenance(converted: ConvertedTeacher, tool: str) -> List[str]:
    """Comment lines: the tool, the source, what was carried over, notes."""
    carried = ', '.join(f'{k} ({v})' for k, v in converted.carried.items())
    texts = [
        f'Converted by {tool}',
        f'Source: {osp.abspath(converted.source)} '
        f'({converted.source_format})',
        f'Carried over: {carried or "generator weights only"}'
    ]
    texts += [f'Note: {note}' for note in converted.notes]
    return [line for text in texts for line in comment_lines(text)]


def format_teacher_config(converted: ConvertedTeacher, checkpoint: str,
                          tool: str, student_ratio: float = 0.7) -> str:
    """The text of the teacher config file: data and comments only.

    Args:
        converted (ConvertedTeacher): what a converter made.
        checkpoint (str): the MMagic checkpoint the config points to.
        tool (str): the converter, named in a comment.
        student_ratio (float): see :func:`student_config`.

    Returns:
        str: the file's text.

    Raises:
        ValueError: a config value is not plain data (the message names it).
    """
    values = [('teacher_generator', converted.generator_cfg),
              ('student_generator',
               student_config(converted.generator_cfg, student_ratio))]
    if converted.discriminator_cfg is not None:
        values.append(('teacher_discriminator', converted.discriminator_cfg))
    values.append(('teacher_checkpoint', osp.abspath(checkpoint)))
    lines = [USAGE] + _provenance(converted, tool) + ['']
    lines += [f'{name} = {literal(plain(value), name)}'
              for name, value in values]
    return '\n'.join(lines) + '\n'


def write_config_file(path: str, text: str, force: bool = False) -> None:
    """Write a config's ``text`` (UTF-8, as mmengine reads it) atomically.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """

    def write(tmp):
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)

    atomic_write(path, write, force)


def write_teacher_config(converted: ConvertedTeacher,
                         path: str,
                         checkpoint: str,
                         tool: str,
                         student_ratio: float = 0.7,
                         force: bool = False) -> str:
    """Write the teacher config next to its checkpoint (atomically).

    Args:
        student_ratio (float): fraction of every width the suggested
            ``student_generator`` removes (the paper's 0.7).

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    text = format_teacher_config(converted, checkpoint, tool, student_ratio)
    write_config_file(path, text, force)
    return text
