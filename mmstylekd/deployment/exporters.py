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
  relative L2 error of each file against the source generator.

Verification: each model file is run (fp32, CPU) on random inputs next to the
MMagic generator it was made from, and the export fails
(:class:`ExportVerificationError`, naming the file and its error) when the
relative L2 error ``||out - ref|| / ||ref||`` of any file exceeds
``tolerance``, :data:`DEFAULT_TOLERANCE` = 1e-4 by default. Correct exports
measure 2e-7 (the digits demo student, 32 px), 1.3e-6 and 2.1e-6 (StyleGAN2
with random weights, 256 and 1024 px): float32 summation-order noise, 50 times
below the tolerance. A relative L2 error of 1e-4 is an RMS error of about 1/100
of an 8-bit grey level, far below anything visible; the mistakes tried on the
demo student measure far above it (a lost sqrt(2) gain in one layer 3e-2, one
to-RGB weight zeroed 5e-2, one conv weight's sign flipped 1.7e-3), and one that
stays below it is invisible (the last layer's noise zeroed, 4.7e-5: its noise
strength is small). The files are written next to their targets and verified
before any of them replaces a file in ``out_dir``: a failed export leaves the
folder as it was.

With ``noise_inputs`` the ONNX models also take ``noise_0 .. noise_{K-1}``
((N or 1), 1, H_i, W_i); otherwise the injected noise is the generator's
own fixed buffers (MMagic's ``randomize_noise=False``). The batch axis is
dynamic. Truncation (``t < 1``) is baked in with a mean w estimated from
``truncation_samples`` z (seeded), applied to z and w inputs alike, as
MMagic does.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
import warnings
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..engine.atomic_output import atomic_write
from .stylegan2_export_modules import PlainStyleGAN2Generator
from .stylegan3_export_modules import PlainStyleGAN3Generator


def plain_generator_of(generator: nn.Module, truncation: float = 1.,
                       mean_latent: Optional[torch.Tensor] = None
                       ) -> nn.Module:
    """The plain-PyTorch port of an MMagic StyleGAN2 or StyleGAN3
    generator (both have the same interface: ``mapping``, ``truncate``,
    ``synthesis``, ``noise_shapes``, ``num_latents``)."""
    if is_stylegan3(generator):
        return PlainStyleGAN3Generator.from_mmagic(generator, truncation,
                                                   mean_latent)
    return PlainStyleGAN2Generator.from_mmagic(generator, truncation,
                                               mean_latent)


def is_stylegan3(generator: nn.Module) -> bool:
    """MMagic's StyleGAN3 generators have a ``synthesis`` network with
    ``layer_names``; StyleGAN2's have ``convs``."""
    return hasattr(getattr(generator, 'synthesis', None), 'layer_names')


def mmagic_images(reference: nn.Module, plain: nn.Module, z: torch.Tensor,
                  w: torch.Tensor, noises: Optional[List[torch.Tensor]]):
    """MMagic's images for ``z`` and for ``w`` (N, num_latents, style),
    with the plain module's truncation and fixed (or given) noise."""
    if is_stylegan3(reference):
        kwargs = dict(truncation=plain.truncation) \
            if plain.truncation < 1 else {}
        # MMagic's StyleGAN3 takes one w and truncates inside its mapping
        w_avg = reference.style_mapping.w_avg
        one_w = w[:, 0]
        if plain.truncation < 1:
            one_w = w_avg + plain.truncation * (one_w - w_avg)
        return (reference(z, **kwargs),
                reference(one_w, input_is_latent=True))
    kwargs = dict(injected_noise=noises) if noises else \
        dict(randomize_noise=False)
    if plain.truncation < 1:
        kwargs.update(truncation=plain.truncation,
                      truncation_latent=plain.mean_latent.cpu())
    return (reference(z, **kwargs),
            reference([w], input_is_latent=True, **kwargs))


#: ONNX opset written by default (onnxruntime >= 1.14 runs it).
DEFAULT_OPSET = 17

#: Largest relative L2 error (fp32) that a verified export may have against
#: the MMagic generator: 50 times the float32 summation-order noise of
#: correct exports (2e-7 at 32 px, 1.3e-6 at 256 px, 2.1e-6 at 1024 px), an
#: RMS error of ~1/100 of an 8-bit grey level; the bugs tried give 1.7e-3
#: to 5e-2.
DEFAULT_TOLERANCE = 1e-4

#: What the verification measures (recorded in ``metadata.json``).
VERIFICATION_METRIC = ('relative L2 error ||out - ref|| / ||ref|| against '
                       'the MMagic generator, fp32, CPU, 2 random z (seed '
                       '0); w inputs: their mapped w')

#: ONNX metadata key holding :func:`plain_fingerprint`.
FINGERPRINT_KEY = 'mmstylekd_fingerprint'


class ExportVerificationError(RuntimeError):
    """An exported file does not reproduce the MMagic generator.

    Attributes:
        failures (dict): file name -> relative L2 error above tolerance
            (NaN when the output is not finite).
        errors (dict): kind -> relative L2 error, every file.
        tolerance (float): the tolerance.
    """

    def __init__(self, failures: Dict[str, float], errors: Dict[str, float],
                 tolerance: float, out_dir: str):
        self.failures = failures
        self.errors = errors
        self.tolerance = tolerance
        lines = [f'{name}: relative L2 error {err:.3e} vs MMagic exceeds the '
                 f'tolerance {tolerance:.1e} (fp32)'
                 for name, err in failures.items()]
        super().__init__(
            '; '.join(lines) + f'. Nothing was written to {out_dir} (files '
            'already there are kept).')


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
                opset: int = DEFAULT_OPSET,
                metadata_props: Optional[Dict[str, str]] = None) -> str:
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
        metadata_props: string entries for the model's ``metadata_props``.

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
    if metadata_props:
        import onnx
        model = onnx.load(path)
        onnx.helper.set_model_props(model, dict(metadata_props))
        onnx.save(model, path)
    return path


def plain_fingerprint(plain: nn.Module, *extra) -> str:
    """SHA-256 of a module's function: every buffer and parameter (name,
    dtype, shape, bytes), every module's type and scalar settings (gains,
    paddings, truncation, ...), and ``extra`` (e.g. the opset)."""
    digest = hashlib.sha256()
    digest.update(repr(extra).encode())
    for name, module in plain.named_modules():
        settings = sorted(
            (k, v) for k, v in vars(module).items()
            if not k.startswith('_')
            and isinstance(v, (bool, int, float, str, tuple, list)))
        digest.update(repr((name, type(module).__qualname__,
                            settings)).encode())
    for name, tensor in plain.state_dict().items():
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(repr((name, str(tensor.dtype),
                            tuple(tensor.shape))).encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def onnx_fingerprint(path: str) -> Optional[str]:
    """The :data:`FINGERPRINT_KEY` entry of an ONNX file (None: no such
    entry, or not a readable ONNX file)."""
    import onnx
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # a truncated or foreign file: not ours to reuse
        return None
    props = {p.key: p.value for p in model.metadata_props}
    return props.get(FINGERPRINT_KEY)


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
    reference = reference.cpu().eval()
    with torch.no_grad():
        w = plain.mapping(z)[:, None].expand(-1, plain.num_latents, -1)
        w = w.contiguous()
        ref, ref_w = mmagic_images(reference, plain, z, w, noises)
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
                     force: bool = False,
                     tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """Convert an MMagic StyleGAN2/3 generator, write it to ``out_dir``.

    Every file is first written next to its target under a temporary name;
    only when all of them pass the verification do they replace the
    targets (each atomically), ``metadata.json`` last.

    Args:
        generator: MMagic ``StyleGAN2Generator`` or ``StyleGAN3Generator``
            (or a subclass: our students, converted NVlabs teachers), CPU.
            StyleGAN3 has no injected noise (``noise_inputs`` adds no
            input) and truncates towards its mapping's ``w_avg``.
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
        verify: compare every file with ``generator`` on random inputs,
            record the relative L2 errors and fail above ``tolerance``.
        force: overwrite existing files.
        tolerance: largest relative L2 error (fp32) a verified file may
            have (default :data:`DEFAULT_TOLERANCE`, 1e-4).

    Returns:
        dict: the metadata written to ``metadata.json``.

    Raises:
        FileExistsError: a file would be overwritten without ``force``; the
            message names the files.
        ExportVerificationError: a file is off by more than ``tolerance``
            (or not finite); the message names it and its error, and
            nothing in ``out_dir`` was replaced.
    """
    bad = [f for f in formats if f not in ('onnx', 'torchscript')]
    if bad or not formats:
        raise ValueError(f"formats must be among 'onnx', 'torchscript'; got "
                         f'{list(formats)}')
    if not tolerance > 0:
        raise ValueError(f'tolerance must be > 0, got {tolerance}')
    files = output_files(out_dir, formats, prefix)
    existing = [p for p in files.values() if osp.exists(p)]
    if existing and not force:
        raise FileExistsError(
            f'{", ".join(existing)} already exist(s); use --overwrite to '
            'overwrite.')
    created = not osp.isdir(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    generator = generator.cpu().eval()
    plain = plain_generator_of(generator)
    mean_latent = None
    if truncation < 1 and not is_stylegan3(generator):
        # StyleGAN3 truncates towards its mapping's w_avg, as MMagic does
        mean_latent = estimate_mean_latent(plain, truncation_samples)
    plain = plain_generator_of(generator, truncation, mean_latent)
    model_files = {k: v for k, v in files.items() if k != 'metadata'}
    staged = {}
    try:
        for kind, path in model_files.items():
            fd, staged[kind] = tempfile.mkstemp(
                dir=out_dir, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
            os.close(fd)
            if kind == 'torchscript':
                export_torchscript(plain, staged[kind])
            else:
                export_onnx(plain, staged[kind], 'z' if kind == 'onnx' else
                            'w', noise_inputs, opset)
        meta = _metadata(plain, metadata, model_files, formats, truncation,
                         truncation_samples, noise_inputs, opset)
        if verify:
            errors = verify_files(staged, generator, plain, noise_inputs)
            meta['max_relative_l2_vs_mmagic'] = errors
            # NaN (a non-finite output) fails too
            failures = {osp.basename(model_files[k]): e
                        for k, e in errors.items() if not e <= tolerance}
            if failures:
                raise ExportVerificationError(failures, errors, tolerance,
                                              out_dir)
        meta['verification'] = dict(
            tolerance=tolerance, metric=VERIFICATION_METRIC,
            passed=True) if verify else None
        for kind, path in model_files.items():
            # atomic_write's own temporary file becomes the verified one
            atomic_write(path, lambda p, src=staged[kind]: os.replace(src, p),
                         force=True)
        atomic_write(files['metadata'], lambda p: _dump_json(meta, p),
                     force=True)
    except BaseException:
        if created:
            _remove_if_empty(out_dir, staged.values())
        raise
    finally:
        for tmp in staged.values():
            if osp.exists(tmp):
                os.remove(tmp)
    return meta


def _remove_if_empty(folder: str, leftovers) -> None:
    """Remove a folder this export created, if it holds only its own
    temporary files."""
    for tmp in leftovers:
        if osp.exists(tmp):
            os.remove(tmp)
    try:
        os.rmdir(folder)
    except OSError:  # not empty: something else wrote there
        pass


def _metadata(plain: PlainStyleGAN2Generator, extra: Optional[dict],
              model_files: Dict[str, str], formats: Sequence[str],
              truncation: float, truncation_samples: int,
              noise_inputs: bool, opset: int) -> dict:
    """The entries of ``metadata.json`` (without the verification)."""
    noise_shapes = [list(s) for s in plain.noise_shapes]
    meta = dict(extra or {})
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
