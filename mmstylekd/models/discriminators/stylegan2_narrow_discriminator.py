"""A StyleGAN2 discriminator with explicit per-resolution widths."""
from typing import Dict

import torch.nn as nn
from mmagic.models.editors.stylegan1.stylegan1_modules import \
    EqualLinearActModule
from mmagic.models.editors.stylegan2 import StyleGAN2Discriminator
from mmagic.models.editors.stylegan2.stylegan2_modules import (
    ConvDownLayer, ModMBStddevLayer, ResBlock)
from mmagic.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class StyleGAN2NarrowDiscriminator(StyleGAN2Discriminator):
    """MMagic's StyleGAN2 discriminator with explicit widths.

    MMagic's ``StyleGAN2Discriminator`` keeps its width table in a local
    variable (512 up to 32 px), which makes a small CPU-trainable GAN
    impossible. This class builds the same layers (from-RGB conv, residual
    down blocks, minibatch-stddev, final conv and linears; unconditional)
    from MMagic's own building blocks with the given widths, and inherits
    MMagic's ``forward``.

    Args:
        in_size (int): input resolution.
        channels (dict[int, int]): width per resolution, 4 .. in_size.
        img_channels (int): image channels.
        blur_kernel (list[int]): blur kernel of the down blocks.
        mbstd_cfg (dict): minibatch-stddev config.
    """

    def __init__(self,
                 in_size: int,
                 channels: Dict[int, int],
                 img_channels: int = 3,
                 blur_kernel=(1, 3, 3, 1),
                 mbstd_cfg=dict(group_size=4, channel_groups=1),
                 init_cfg=None):
        BaseModule.__init__(self, init_cfg=init_cfg)
        channels = {int(k): int(v) for k, v in channels.items()}
        resolutions = [2**i for i in range(2, in_size.bit_length())]
        missing = [r for r in resolutions if r not in channels]
        if missing:
            raise ValueError(f'`channels` lacks resolutions {missing}.')
        self.num_fp16_scale = 0
        self.fp16_enabled = False
        self.convert_input_fp32 = True
        self.out_fp32 = True
        self.input_bgr2rgb = False
        blur_kernel = list(blur_kernel)

        convs = [ConvDownLayer(img_channels, channels[in_size], 1)]
        in_channels = channels[in_size]
        for res in reversed(resolutions[:-1]):
            convs.append(ResBlock(in_channels, channels[res], blur_kernel))
            in_channels = channels[res]
        self.convs = nn.Sequential(*convs)
        self.mbstd_layer = ModMBStddevLayer(**mbstd_cfg)
        self.final_conv = ConvDownLayer(in_channels + 1, channels[4], 3)
        self.final_linear = nn.Sequential(
            EqualLinearActModule(
                channels[4] * 4 * 4, channels[4],
                act_cfg=dict(type='fused_bias')),
            EqualLinearActModule(channels[4], 1),
        )
