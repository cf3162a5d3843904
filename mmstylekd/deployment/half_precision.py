"""How far the fp16 / bf16 fast path's images are from fp32's.

    from mmstylekd.deployment.half_precision import half_precision_errors
    figures = half_precision_errors(generator, num_samples=64)
    figures['fp16']  # dict(rel_l2=..., psnr_db=..., nonfinite=..., ...)

The same z (seeded) go through the plain generator in fp32 (the reference,
equal to MMagic's generator to ~1e-6) and in each half dtype, with the
fixed injected noise; the half images are compared in float64:

* ``rel_l2``: ``||half - fp32|| / ||fp32||`` over all raw outputs (NaN when
  a half output is not finite);
* ``psnr_db``: PSNR of the images as shown, both clamped to [-1, 1] (peak
  to peak 2), non-finite half values counted as 0;
* ``max_abs``: largest ``|half - fp32|`` of the clamped images (in [0, 2]);
* ``nonfinite``: inf/NaN values among the half outputs, and
  ``nonfinite_images``: images holding any.

``tools/analysis_tools/half_precision.py`` prints them for a config's
trained teacher and student.
"""
import math
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from .fast_inference import DTYPES, fast_generator


def compare_images(out: torch.Tensor, ref: torch.Tensor) -> dict:
    """The figures of ``out`` against ``ref`` (both (N, 3, H, W))."""
    out, ref = out.detach().double().cpu(), ref.detach().double().cpu()
    finite = torch.isfinite(out)
    shown_out = torch.nan_to_num(out, nan=0., posinf=1.,
                                 neginf=-1.).clamp(-1, 1)
    shown_ref = ref.clamp(-1, 1)
    mse = float((shown_out - shown_ref).pow(2).mean())
    return dict(
        rel_l2=float((out - ref).norm() / ref.norm()),
        psnr_db=10 * math.log10(4 / mse) if mse > 0 else math.inf,
        max_abs=float((shown_out - shown_ref).abs().max()),
        nonfinite=int((~finite).sum()),
        nonfinite_images=int((~finite).flatten(1).any(1).sum()),
        images=int(out.shape[0]))


@torch.no_grad()
def half_precision_errors(generator: nn.Module,
                          dtypes: Sequence[str] = ('fp16', 'bf16'),
                          num_samples: int = 64,
                          batch_size: int = 16,
                          device='cpu',
                          backend: str = 'eager',
                          seed: int = 0,
                          truncation: float = 1.,
                          mean_latent: Optional[torch.Tensor] = None
                          ) -> Dict[str, dict]:
    """Images of ``generator`` in each half dtype against fp32.

    Args:
        generator: MMagic StyleGAN2 generator (teacher or student).
        dtypes: among ``'fp16'``, ``'bf16'``.
        num_samples: z drawn (``torch.Generator`` seeded with ``seed``).
        batch_size: z per call.
        device: where both run.
        backend: :func:`~mmstylekd.deployment.fast_generator` backend of
            the half runs (the fp32 reference runs ``eager``).
        truncation, mean_latent: as :func:`fast_generator`.

    Returns:
        dict: dtype -> figures (see the module docstring).
    """
    for dtype in dtypes:
        if dtype not in DTYPES or dtype == 'fp32':
            raise ValueError(f"dtypes must be among 'fp16', 'bf16'; got "
                             f'{dtype!r}')
    noise_size = int(generator.noise_size)
    z = torch.randn(num_samples, noise_size,
                    generator=torch.Generator().manual_seed(seed))
    batches = list(z.split(batch_size))

    def images(dtype, run_backend):
        run = fast_generator(
            generator, run_backend, device=device, dtype=dtype,
            batch_size=batch_size, truncation=truncation,
            mean_latent=mean_latent)
        outs = []
        for batch in batches:
            if run.batch_size is not None and batch.shape[0] != batch_size:
                run = fast_generator(  # the graph backend: one batch size
                    generator, run_backend, device=device, dtype=dtype,
                    batch_size=batch.shape[0], truncation=truncation,
                    mean_latent=mean_latent)
            outs.append(run(batch).float().cpu())
        return torch.cat(outs)

    ref = images('fp32', 'eager')
    return {dtype: compare_images(images(dtype, backend), ref)
            for dtype in dtypes}
