"""GAN inversion: project real images into a StyleGAN2/3 generator.

The StyleKD paper reports the PSNR of GAN inversion as its third metric (how
well a generator can reproduce real images). :func:`invert_images` follows
the StyleGAN2 projector (Karras et al., NVlabs ``projector.py``): start from
the mean w, optimise w (or w+, one w per style layer) with Adam, a learning
rate ramped up over the first 5% of the steps and down (cosine) over the last
25%, and Gaussian noise added to w whose scale decays to zero at 75% of the
steps. The loss is the MSE between the generated and the target image, plus
LPIPS when a model is given. Unlike the projector, the injected noise stays
fixed (the generator's buffers, ``randomize_noise=False``), so only the
latent explains the image.
"""
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional

import mmcv
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.utils import ProgressBar

from ..models.latent_inputs import w_from_z
from .teacher_student_pairs import per_image_figures

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif',
                    '.tiff')


@dataclass
class InversionResult:
    """What :func:`invert_images` found.

    Attributes:
        latents: (N, C) for ``space='w'``, (N, num_ws, C) for ``'w+'``.
        images: (N, 3, H, W) reconstructions in [-1, 1], on CPU.
        psnr: (N,) PSNR (dB) between reconstruction and target, on images
            mapped to [0, 1] (as :func:`per_image_figures`).
        loss: ``'mse'`` or ``'mse+lpips'``.
    """
    latents: torch.Tensor
    images: torch.Tensor
    psnr: torch.Tensor
    loss: str


def num_style_layers(generator: nn.Module) -> int:
    """How many w a StyleGAN2 (``num_latents``) / StyleGAN3 (``num_ws``)
    generator takes per image."""
    if hasattr(generator, 'synthesis'):
        return generator.synthesis.num_ws
    return generator.num_latents


def synthesise(generator: nn.Module, ws: torch.Tensor) -> torch.Tensor:
    """Images from per-layer latents with the generator's fixed noise.

    Args:
        ws (Tensor): (N, num_ws, style_channels).

    Returns:
        Tensor: (N, 3, H, W) in the generator's range (about [-1, 1]).
    """
    if hasattr(generator, 'synthesis'):  # StyleGAN3: no injected noise
        img = generator.synthesis(ws)
        return img[:, [2, 1, 0]] if generator.rgb2bgr else img
    return generator([ws], input_is_latent=True, randomize_noise=False)


def latent_statistics(generator: nn.Module,
                      num_samples: int = 10000,
                      seed: int = 0):
    """Mean w (C,) and the projector's scalar spread of w around it."""
    device = next(generator.parameters()).device
    z = torch.randn(num_samples, generator.noise_size,
                    generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        w = w_from_z(generator, z.to(device))
    w_avg = w.mean(0)
    w_std = ((w - w_avg)**2).sum(1).mean().sqrt().item()
    return w_avg, w_std


def _learning_rate(t: float, initial: float) -> float:
    """The projector's schedule at progress ``t`` in [0, 1)."""
    ramp = min(1.0, (1.0 - t) / 0.25)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return initial * ramp * min(1.0, t / 0.05)


def invert_images(generator: nn.Module,
                  targets: torch.Tensor,
                  steps: int = 1000,
                  space: str = 'w',
                  lpips_model: Optional[nn.Module] = None,
                  lpips_weight: float = 1.0,
                  lr: float = 0.1,
                  noise_factor: float = 0.05,
                  batch_size: int = 16,
                  w_avg_samples: int = 10000,
                  seed: int = 0,
                  progress: bool = True) -> InversionResult:
    """Find the latent whose image is closest to each target.

    Every image has its own latent; images of a batch are optimised
    together, which is the same as one by one (the loss is a sum over
    images and Adam works element-wise).

    Args:
        generator: MMagic StyleGAN2/StyleGAN3 generator (not modified; its
            parameters are frozen during the call).
        targets (Tensor): (N, 3, H, W) real images in [-1, 1] at the
            generator's resolution.
        steps (int): Adam steps per batch.
        space (str): ``'w'`` (one w per image) or ``'w+'`` (one per style
            layer, all starting from the mean w).
        lpips_model: an ``lpips.LPIPS`` network, or None for MSE only.
        lpips_weight (float): weight of LPIPS next to the MSE (on [-1, 1]).
        lr (float): peak Adam learning rate (the projector's 0.1).
        noise_factor (float): initial latent noise, times the spread of w.
        batch_size (int): images optimised together.
        w_avg_samples (int): z sampled for the mean w and its spread.
        seed (int): seed of those z and of the latent noise.
        progress (bool): show an mmengine ProgressBar over the steps.

    Returns:
        InversionResult
    """
    if space not in ('w', 'w+'):
        raise ValueError(f'space must be "w" or "w+", got {space!r}.')
    size = generator.out_size
    if targets.dim() != 4 or tuple(targets.shape[1:]) != (3, size, size):
        raise ValueError(f'Targets must be (N, 3, {size}, {size}) for this '
                         f'generator, got {tuple(targets.shape)}.')
    device = next(generator.parameters()).device
    w_avg, w_std = latent_statistics(generator, w_avg_samples, seed)
    num_ws = num_style_layers(generator)
    gen = torch.Generator().manual_seed(seed + 1)
    was_training = generator.training
    flags = [(p, p.requires_grad) for p in generator.parameters()]
    generator.eval().requires_grad_(False)
    if lpips_model is not None:
        lpips_model = lpips_model.to(device)
    latents, images = [], []
    bar = ProgressBar(steps * math.ceil(len(targets) / batch_size)) \
        if progress else None
    try:
        for start in range(0, len(targets), batch_size):
            target = targets[start:start + batch_size].to(device)
            shape = (len(target), 1 if space == 'w' else num_ws, w_avg.numel())
            latent = w_avg.view(1, 1, -1).repeat(shape[0], shape[1], 1)
            latent = latent.clone().requires_grad_(True)
            optimizer = torch.optim.Adam([latent], betas=(0.9, 0.999), lr=lr)
            for step in range(steps):
                t = step / steps
                for group in optimizer.param_groups:
                    group['lr'] = _learning_rate(t, lr)
                # exploration noise on w early on, as in the projector
                scale = w_std * noise_factor * max(0.0, 1.0 - t / 0.75)**2
                noise = torch.randn(shape, generator=gen).to(device) * scale
                ws = (latent + noise).expand(-1, num_ws, -1)
                loss = _loss(synthesise(generator, ws), target, lpips_model,
                             lpips_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if bar is not None:
                    bar.update()
            with torch.no_grad():
                latent = latent.detach()
                images.append(
                    synthesise(generator, latent.expand(-1, num_ws,
                                                        -1)).cpu())
                latents.append(
                    (latent[:, 0] if space == 'w' else latent).cpu())
    finally:
        generator.train(was_training)
        for param, flag in flags:
            param.requires_grad_(flag)
    images = torch.cat(images)
    return InversionResult(
        latents=torch.cat(latents),
        images=images,
        psnr=per_image_figures(targets.cpu(), images)['psnr'],
        loss='mse' if lpips_model is None else 'mse+lpips')


def _loss(images: torch.Tensor, targets: torch.Tensor,
          lpips_model: Optional[nn.Module],
          lpips_weight: float) -> torch.Tensor:
    """Per-image MSE (+ LPIPS), summed over the batch."""
    loss = ((images - targets)**2).flatten(1).mean(1).sum()
    if lpips_model is not None:
        if images.shape[-1] > 256:  # LPIPS is calibrated at 256 px or less
            images = F.interpolate(images, size=256, mode='area')
            targets = F.interpolate(targets, size=256, mode='area')
        loss = loss + lpips_weight * lpips_model(images, targets).sum()
    return loss


def load_image_folder(folder: str, size: int) -> torch.Tensor:
    """Every image file of ``folder`` (sorted by name), resized to ``size``.

    Images are read as RGB, resized (area when shrinking, bicubic when
    enlarging) to ``size`` x ``size`` and mapped to [-1, 1].

    Returns:
        Tensor: (N, 3, size, size).

    Raises:
        FileNotFoundError: the folder does not exist, or holds no image
            file (the message names it and the extensions looked for).
        ValueError: a file with an image extension cannot be decoded.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'Image folder not found: {folder}')
    names = sorted(f for f in os.listdir(folder)
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise FileNotFoundError(
            f'No image files ({", ".join(IMAGE_EXTENSIONS)}) in {folder}.')
    images = []
    for name in names:
        path = osp.join(folder, name)
        try:
            img = mmcv.imread(path, channel_order='rgb')
        except Exception as err:  # cv2 fails on undecodable bytes
            raise ValueError(f'Cannot read image {path}: {err}') from err
        if img is None:
            raise ValueError(f'Cannot read image {path}.')
        shrink = max(img.shape[:2]) > size
        img = mmcv.imresize(
            img, (size, size), interpolation='area' if shrink else 'bicubic')
        images.append(torch.from_numpy(img).permute(2, 0, 1).float())
    return torch.stack(images) / 127.5 - 1


def load_digit_images(num: int, size: int = 32) -> torch.Tensor:
    """The first ``num`` of scikit-learn's 1,797 real digits.

    Served as the demo's training pipeline serves them (``DigitsDataset``,
    MMagic's ``Resize`` to ``size`` px with bicubic interpolation,
    ``PackInputs``) and mapped to [-1, 1].

    Returns:
        Tensor: (num, 3, size, size).
    """
    from mmagic.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')  # the pipeline's transforms are MMagic's
    dataset = DATASETS.build(
        dict(
            type='DigitsDataset',
            pipeline=[
                dict(
                    type='Resize',
                    keys='gt',
                    scale=(size, size),
                    interpolation='bicubic'),
                dict(type='PackInputs')
            ]))
    if not 1 <= num <= len(dataset):
        raise ValueError(f'--digits must be between 1 and {len(dataset)} '
                         f'(the digits scikit-learn ships), got {num}.')
    images: List[torch.Tensor] = [
        dataset[i]['data_samples'].gt_img.float() for i in range(num)
    ]
    return torch.stack(images) / 127.5 - 1
