"""Run a StyleGAN2 or StyleGAN3 teacher or student through a fast inference
backend.

    from mmstylekd.deployment import fast_generator
    run = fast_generator(student, backend='graph', device='cuda',
                         dtype='fp16', batch_size=8)
    images = run(torch.randn(8, 512, device='cuda'))  # (8, 3, H, W)

Backends (teacher and student run the same way: both are converted to the
same plain-PyTorch form, :class:`PlainStyleGAN2Generator` or
:class:`PlainStyleGAN3Generator`):

* ``mmagic``: MMagic's generator as is (mmcv ops; fp32): the baseline.
* ``eager``: the plain module, eager PyTorch.
* ``graph``: the plain module captured in a CUDA graph for one batch size
  (CUDA only; the plain forward creates no CPU tensors).
* ``compile``: ``torch.compile(fullgraph=True)`` of the plain module.
* ``torchscript``: the scripted, frozen plain module.
* ``onnxruntime``: the plain module exported to ONNX and run by an
  onnxruntime session (CPU, or CUDA with onnxruntime-gpu).

Every backend maps z (N, noise_size) to images (N, 3, H, W) with the fixed
injected noise (MMagic's ``randomize_noise=False``; StyleGAN3 has none).
"""
import contextlib
import io
import os.path as osp
import tempfile
from typing import Callable, Optional

import torch
import torch.nn as nn

from ..engine.atomic_output import atomic_write
from .exporters import (DEFAULT_OPSET, FINGERPRINT_KEY, export_onnx,
                        is_stylegan3, onnx_fingerprint, plain_fingerprint,
                        plain_generator_of)

BACKENDS = ('mmagic', 'eager', 'graph', 'compile', 'torchscript',
            'onnxruntime')
DTYPES = {
    'fp32': torch.float32,
    'fp16': torch.float16,
    'bf16': torch.bfloat16,
}


def quiet_eval(module: nn.Module) -> nn.Module:
    """``module.eval()`` without MMagic's printed style-mode message."""
    with contextlib.redirect_stdout(io.StringIO()):
        module.eval()
    return module


class FastGenerator:
    """A callable z -> image built by :func:`fast_generator`.

    Attributes:
        backend, device, dtype: how it runs.
        noise_size (int): width of z.
        batch_size (int, optional): the only batch size it accepts
            (``graph``), else None.
    """

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor],
                 backend: str, device: torch.device, dtype: torch.dtype,
                 noise_size: int, batch_size: Optional[int] = None):
        self.fn = fn
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.noise_size = noise_size
        self.batch_size = batch_size

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, noise_size) -> images (N, 3, H, W) on ``device``."""
        if z.ndim != 2 or z.shape[1] != self.noise_size:
            raise ValueError(f'z must be (N, {self.noise_size}), got '
                             f'{tuple(z.shape)}')
        if self.batch_size is not None and z.shape[0] != self.batch_size:
            raise ValueError(f'this {self.backend} generator was captured '
                             f'for batch {self.batch_size}, got '
                             f'{z.shape[0]}')
        with torch.inference_mode():
            return self.fn(z.to(self.device, self.dtype))


def _mmagic(generator, device, dtype, **_):
    if dtype != torch.float32:
        raise ValueError('the mmagic backend runs in fp32 only (mmcv\'s '
                         'upfirdn2d needs a float32 filter); use eager, '
                         'graph or compile for fp16/bf16')
    generator = generator.to(device)
    if is_stylegan3(generator):  # no injected noise
        return generator
    return lambda z: generator(z, randomize_noise=False)


def _eager(plain, **_):
    return plain


def _graph(plain, device, dtype, batch_size, warmup=3, **_):
    if device.type != 'cuda':
        raise ValueError('the graph backend (CUDA graphs) needs a CUDA '
                         'device')
    static_z = torch.randn(batch_size, plain.noise_size, device=device,
                           dtype=dtype)
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(warmup):  # cuDNN autotuning, lazy allocations
            plain(static_z)
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        static_out = plain(static_z)

    def run(z):
        static_z.copy_(z)
        graph.replay()
        return static_out.clone()  # the next replay overwrites static_out

    return run


def _compile(plain, device, dtype, batch_size, compile_mode=None, **_):
    compiled = torch.compile(
        plain, mode=compile_mode, fullgraph=True, dynamic=False)
    # compile now, not in the first timed call, under the grad mode that
    # FastGenerator calls it with (another mode would recompile)
    with torch.inference_mode():
        compiled(torch.randn(batch_size, plain.noise_size, device=device,
                             dtype=dtype))
    if compile_mode == 'reduce-overhead':
        # CUDA-graph trees reuse their output buffers at the next call
        return lambda z: compiled(z).clone()
    return compiled


def _torchscript(plain, **_):
    scripted = torch.jit.script(plain)
    return torch.jit.freeze(scripted)


def _onnxruntime(plain, device, dtype, onnx_path=None, ort_threads=None,
                 **_):
    import onnxruntime as ort
    if dtype != torch.float32:
        raise ValueError('the onnxruntime backend runs fp32 models only')
    providers = ['CPUExecutionProvider']
    if device.type == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise ValueError('onnxruntime has no CUDAExecutionProvider '
                             '(install onnxruntime-gpu) for device cuda')
        providers.insert(0, 'CUDAExecutionProvider')
    plain = plain.float().cpu()
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(ort_threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    if onnx_path is None:
        # the session holds the model in memory: the file can go at once
        with tempfile.TemporaryDirectory(prefix='mmstylekd_onnx_') as tmp:
            path = export_onnx(plain, osp.join(tmp, 'generator.onnx'), 'z')
            session = ort.InferenceSession(
                path, sess_options=options, providers=providers)
    else:
        onnx_file_for(plain, onnx_path)
        session = ort.InferenceSession(
            onnx_path, sess_options=options, providers=providers)

    def run(z):
        out = session.run(['image'], {'z': z.detach().cpu().numpy()})[0]
        return torch.from_numpy(out).to(device)

    return run


def onnx_file_for(plain: nn.Module, path: str) -> bool:
    """Make ``path`` the ONNX export (input z, fp32) of ``plain``.

    An existing file is reused only when its recorded fingerprint (a hash
    of the module's weights, settings, the opset and the torch version,
    :func:`~mmstylekd.deployment.exporters.plain_fingerprint`) is
    ``plain``'s; any other file at ``path`` is replaced (atomically).

    Returns:
        bool: whether the file was (re)written.
    """
    key = plain_fingerprint(plain, 'z', DEFAULT_OPSET, torch.__version__)
    if osp.exists(path) and onnx_fingerprint(path) == key:
        return False
    atomic_write(path, lambda p: export_onnx(
        plain, p, 'z', metadata_props={FINGERPRINT_KEY: key}), force=True)
    return True


_BUILDERS = dict(
    mmagic=_mmagic,
    eager=_eager,
    graph=_graph,
    compile=_compile,
    torchscript=_torchscript,
    onnxruntime=_onnxruntime)


def fast_generator(generator: nn.Module,
                   backend: str = 'eager',
                   device='cpu',
                   dtype: str = 'fp32',
                   batch_size: int = 1,
                   truncation: float = 1.,
                   mean_latent: Optional[torch.Tensor] = None,
                   compile_mode: Optional[str] = None,
                   ort_threads: Optional[int] = None,
                   onnx_path: Optional[str] = None) -> FastGenerator:
    """Wrap an MMagic StyleGAN2 or StyleGAN3 generator for fast z -> image
    inference.

    Args:
        generator: MMagic ``StyleGAN2Generator`` or ``StyleGAN3Generator``
            (teacher or student).
        backend: one of :data:`BACKENDS`.
        device: ``'cpu'``, ``'cuda'`` or a torch device.
        dtype: ``'fp32'``, ``'fp16'`` or ``'bf16'``.
        batch_size: the batch the ``graph`` backend captures (and that
            ``compile`` compiles for first).
        truncation, mean_latent: truncation trick (``mean_latent``
            (style_channels,) needed when ``truncation < 1``).
        compile_mode: ``torch.compile`` mode (``None``: default;
            ``'reduce-overhead'`` adds CUDA graphs; ``'max-autotune'``).
        ort_threads: onnxruntime intra-op threads (default: torch's).
        onnx_path: where ``onnxruntime`` keeps its ONNX file, reused by
            a later call only when it was exported from the same weights
            and settings (:func:`onnx_file_for`); default: a temporary
            folder, removed once the session has loaded the model.

    Returns:
        FastGenerator: callable z (N, noise_size) -> images (N, 3, H, W).
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {list(DTYPES)}, got '
                         f'{dtype!r}')
    device = torch.device(device)
    torch_dtype = DTYPES[dtype]
    quiet_eval(generator)
    if backend == 'mmagic':
        if truncation < 1:
            raise ValueError('truncation: use another backend')
        model = generator
    else:
        model = plain_generator_of(generator, truncation, mean_latent)
        if backend != 'onnxruntime':
            model = model.to(device=device, dtype=torch_dtype)
    fn = _BUILDERS[backend](
        model,
        device=device,
        dtype=torch_dtype,
        batch_size=batch_size,
        compile_mode=compile_mode,
        ort_threads=ort_threads,
        onnx_path=onnx_path)
    return FastGenerator(fn, backend, device, torch_dtype,
                         int(generator.noise_size),
                         batch_size if backend == 'graph' else None)
