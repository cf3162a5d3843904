"""Write a StyleGAN2 generator as standalone ONNX and TorchScript files.

Files (``prefix`` is ``student`` for ``tools/deployment/export.py``):

* ``{prefix}.onnx``: input ``z`` (N, noise_size), output ``image``
  (N, 3, H, W); needs only onnxruntime.
* ``{prefix}_w.onnx``: input ``w`` (N, num_latents, style_channels), one w
  per layer (repeat a single w for all of them; style mixing by giving
  different ones), output ``image``.
* ``{prefix}.ts``: TorchScript (needs only torch): ``m(z)``,
  ``m(z, noises)``, and ``m.synthesis(m.truncate(w))`` for w inputs.
* ``metadata.json``: sizes, inputs, truncation, MACs, versions, and the
  largest relative L2 error of each file against the source generator.

With ``noise_inputs`` the ONNX models also take ``noise_0 .. noise_{K-1}``
((N or 1), 1, H_i, W_i); otherwise the injected noise is the generator's
own fixed buffers (MMagic's ``randomize_noise=False``). The batch axis is
dynamic. Truncation (``t < 1``) is baked in with a mean w estimated from
``truncation_samples`` z (seeded), applied to z and w inputs alike, as
MMagic does.
"""
import json
import os
import os.path as osp
import warnings
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..engine.atomic_output import atomic_write
from .stylegan2_export_modules import PlainStyleGAN2Generator

#: ONNX opset written by default (onnxruntime >= 1.14 runs it).
DEFAULT_OPSET = 17


class ZToImage(nn.Module):
    """ONNX entry point: z (and optionally noises) -> image."""

    def __init__(self, plain: PlainStyleGAN2Generator):
        super().__init__()
        self.plain = plain

    def forward(self, z: torch.Tensor, *noises: torch.Tensor):
        return self.plain(z, list(noises) if noises else None)


class WToImage(nn.Module):
    """ONNX entry point: w (N, num_latents, style) -> image."""

    def __init__(self, plain: PlainStyleGAN2Generator):
        super().__init__()
        self.plain = plain

    def forward(self, w: torch.Tensor, *noises: torch.Tensor):
        return self.plain.synthesis(
            self.plain.truncate(w), list(noises) if noises else None)


@torch.no_grad()
def estimate_mean_latent(plain: PlainStyleGAN2Generator,
                         num_samples: int = 4096,
                         seed: int = 0) -> torch.Tensor:
    """Mean w of ``num_samples`` z drawn with ``seed`` (as MMagic's
    ``get_mean_latent``, reproducibly).

    Returns:
        Tensor: (style_channels,).
    """
    gen = torch.Generator().manual_seed(seed)
    device = plain.mean_latent.device
    total = torch.zeros(plain.style_channels, dtype=torch.float64)
    for start in range(0, num_samples, 1024):
        n = min(1024, num_samples - start)
        z = torch.randn(n, plain.noise_size, generator=gen).to(device)
        total += plain.mapping(z).double().sum(0).cpu()
    return (total / num_samples).float()


@contextmanager
def quiet_export():
    """Silence the exporters' deprecation and tracer chatter."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


def onnx_io(plain: PlainStyleGAN2Generator, input_name: str,
            noise_inputs: bool) -> Dict[str, List[str]]:
    """Input and output names of an exported ONNX model."""
    inputs = [input_name]
    if noise_inputs:
        inputs += [f'noise_{i}' for i in range(len(plain.noise_shapes))]
    return dict(inputs=inputs, outputs=['image'])


def example_inputs(plain: PlainStyleGAN2Generator, input_name: str,
                   noise_inputs: bool, batch: int = 2) -> tuple:
    """Random inputs of the right shapes (float32, the buffers' device)."""
    device = plain.mean_latent.device
    if input_name == 'z':
        first = torch.randn(batch, plain.noise_size, device=device)
    else:
        first = torch.randn(batch, plain.num_latents, plain.style_channels,
                            device=device)
    noises = [
        torch.randn(batch, *shape[1:], device=device)
        for shape in plain.noise_shapes
    ] if noise_inputs else []
    return (first, *noises)


def export_onnx(plain: PlainStyleGAN2Generator,
                path: str,
                input_name: str = 'z',
                noise_inputs: bool = False,
                opset: int = DEFAULT_OPSET) -> str:
    """Write ``plain`` as an ONNX model with a dynamic batch axis.

    Uses torch's TorchScript-based exporter (``dynamo=False``): the plain
    module has no data-dependent control flow, and this exporter needs no
    extra package.

    Args:
        plain: the converted generator (fp32).
        path: the ``.onnx`` file to write.
        input_name: ``'z'`` or ``'w'``.
        noise_inputs: take the injected noises as inputs.
        opset: ONNX opset version.

    Returns:
        str: ``path``.
    """
    if input_name not in ('z', 'w'):
        raise ValueError(f"input_name must be 'z' or 'w', got {input_name!r}")
    wrapper = (ZToImage if input_name == 'z' else WToImage)(plain).eval()
    names = onnx_io(plain, input_name, noise_inputs)
    axes = {name: {0: 'batch'} for name in names['inputs'] + ['image']}
    with quiet_export(), torch.no_grad():
        torch.onnx.export(
            wrapper,
            example_inputs(plain, input_name, noise_inputs),
            path,
            dynamo=False,
            input_names=names['inputs'],
            output_names=names['outputs'],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True)
    return path


def export_torchscript(plain: PlainStyleGAN2Generator, path: str) -> str:
    """Write ``plain`` as a scripted TorchScript module.

    Returns:
        str: ``path``.
    """
    with quiet_export():
        torch.jit.script(plain.eval()).save(path)
    return path


def relative_l2(out: torch.Tensor, ref: torch.Tensor) -> float:
    """``||out - ref|| / ||ref||`` in float64."""
    out, ref = out.double(), ref.double()
    return float((out - ref).norm() / ref.norm())


def verify_files(files: Dict[str, str],
                 reference: nn.Module,
                 plain: PlainStyleGAN2Generator,
                 noise_inputs: bool,
                 batch: int = 2,
                 seed: int = 0) -> Dict[str, float]:
    """Relative L2 error of each written file against ``reference``.

    Args:
        files: kind (``onnx``, ``onnx_w``, ``torchscript``) -> path.
        reference: the MMagic generator the files were made from.
        plain: its conversion (for the truncation and noise shapes).

    Returns:
        dict: kind -> relative L2 error on ``batch`` random inputs.
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, plain.noise_size, generator=gen)
    noises = [torch.randn(batch, *s[1:], generator=gen)
              for s in plain.noise_shapes] if noise_inputs else None
    kwargs = dict(injected_noise=noises) if noises else \
        dict(randomize_noise=False)
    if plain.truncation < 1:
        kwargs.update(truncation=plain.truncation,
                      truncation_latent=plain.mean_latent.cpu())
    reference = reference.cpu().eval()
    with torch.no_grad():
        ref = reference(z, **kwargs)
        w = plain.mapping(z)[:, None].expand(-1, plain.num_latents, -1)
        w = w.contiguous()
        ref_w = reference([w], input_is_latent=True, **kwargs)
    errors = {}
    for kind, path in files.items():
        if kind == 'torchscript':
            module = torch.jit.load(path, map_location='cpu')
            with torch.no_grad():
                out = module(z, noises)
            errors[kind] = relative_l2(out, ref)
            continue
        import onnxruntime as ort
        session = ort.InferenceSession(
            path, providers=['CPUExecutionProvider'])
        first, target = (z, ref) if kind == 'onnx' else (w, ref_w)
        feed = {session.get_inputs()[0].name: first.numpy()}
        for i, noise in enumerate(noises or []):
            feed[f'noise_{i}'] = noise.numpy()
        out = torch.from_numpy(session.run(['image'], feed)[0])
        errors[kind] = relative_l2(out, target)
    return errors


def output_files(out_dir: str, formats: Sequence[str],
                 prefix: str = 'student') -> Dict[str, str]:
    """kind -> path of every file an export writes (metadata included)."""
    files = {}
    if 'onnx' in formats:
        files['onnx'] = osp.join(out_dir, f'{prefix}.onnx')
        files['onnx_w'] = osp.join(out_dir, f'{prefix}_w.onnx')
    if 'torchscript' in formats:
        files['torchscript'] = osp.join(out_dir, f'{prefix}.ts')
    files['metadata'] = osp.join(out_dir, 'metadata.json')
    return files


def export_generator(generator: nn.Module,
                     out_dir: str,
                     formats: Sequence[str] = ('onnx', 'torchscript'),
                     truncation: float = 1.,
                     truncation_samples: int = 4096,
                     noise_inputs: bool = False,
                     opset: int = DEFAULT_OPSET,
                     prefix: str = 'student',
                     metadata: Optional[dict] = None,
                     verify: bool = True,
                     force: bool = False) -> dict:
    """Convert an MMagic StyleGAN2 generator and write it to ``out_dir``.

    Args:
        generator: MMagic ``StyleGAN2Generator`` (or subclass), CPU.
        out_dir: output folder (created).
        formats: any of ``'onnx'``, ``'torchscript'``.
        truncation: truncation factor baked in (1: none).
        truncation_samples: z samples for the mean w (when ``t < 1``).
        noise_inputs: injected noises as ONNX inputs instead of the fixed
            buffers.
        opset: ONNX opset.
        prefix: file name prefix.
        metadata: extra entries for ``metadata.json`` (config, checkpoint,
            MACs, ...).
        verify: compare every file with ``generator`` on random inputs and
            record the relative L2 errors.
        force: overwrite existing files.

    Returns:
        dict: the metadata written to ``metadata.json``.

    Raises:
        FileExistsError: a file would be overwritten without ``force``; the
            message names the files.
    """
    bad = [f for f in formats if f not in ('onnx', 'torchscript')]
    if bad or not formats:
        raise ValueError(f"formats must be among 'onnx', 'torchscript'; got "
                         f'{list(formats)}')
    files = output_files(out_dir, formats, prefix)
    existing = [p for p in files.values() if osp.exists(p)]
    if existing and not force:
        raise FileExistsError(
            f'{", ".join(existing)} already exist(s); use --force to '
            'overwrite.')
    os.makedirs(out_dir, exist_ok=True)

    generator = generator.cpu().eval()
    plain = PlainStyleGAN2Generator.from_mmagic(generator)
    mean_latent = None
    if truncation < 1:
        mean_latent = estimate_mean_latent(plain, truncation_samples)
    plain = PlainStyleGAN2Generator.from_mmagic(generator, truncation,
                                                mean_latent)
    model_files = {k: v for k, v in files.items() if k != 'metadata'}
    for kind, path in model_files.items():
        if kind == 'torchscript':
            atomic_write(path, lambda p: export_torchscript(plain, p),
                         force=True)
        else:
            name = 'z' if kind == 'onnx' else 'w'
            atomic_write(
                path,
                lambda p: export_onnx(plain, p, name, noise_inputs, opset),
                force=True)

    noise_shapes = [list(s) for s in plain.noise_shapes]
    meta = dict(metadata or {})
    meta.update(
        files={k: osp.basename(v) for k, v in model_files.items()},
        out_size=plain.out_size,
        noise_size=plain.noise_size,
        style_channels=plain.style_channels,
        num_latents=plain.num_latents,
        inputs=dict(
            z=[-1, plain.noise_size],
            w=[-1, plain.num_latents, plain.style_channels],
            noises=noise_shapes if noise_inputs else None),
        output=dict(
            image=[-1, 3, plain.out_size, plain.out_size],
            range='[-1, 1] nominal (MMagic\'s output, not clamped)',
            channel_order='as the training images (MMagic reads BGR)'),
        injected_noise='inputs' if noise_inputs else
        'fixed (the generator\'s injected_noise_* buffers)',
        truncation=float(truncation),
        truncation_mean_latent=dict(samples=truncation_samples, seed=0)
        if truncation < 1 else None,
        opset=opset if 'onnx' in formats else None,
        torch_version=torch.__version__)
    if verify:
        meta['max_relative_l2_vs_mmagic'] = verify_files(
            model_files, generator, plain, noise_inputs)
    atomic_write(files['metadata'], lambda p: _dump_json(meta, p),
                 force=True)
    return meta


def _dump_json(obj: dict, path: str) -> None:
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2, default=_json_default)
        f.write('\n')


def _json_default(obj):
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if torch.is_tensor(obj):
        return obj.tolist()
    raise TypeError(f'not JSON serialisable: {type(obj).__name__}')
