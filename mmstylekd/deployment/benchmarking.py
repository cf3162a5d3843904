"""Teacher vs student latency, memory and training-step time.

The figures of ``tools/analysis_tools/benchmark.py``, here so that they can
be tested and reused.

Timing is ``torch.utils.benchmark.Timer``'s (warm-up calls, the thread
count fixed for the measurement, the accelerator synchronised around the
timed calls). Teacher and student alternate so that a load change on a
shared machine hits both alike: a Timer measures a whole block, so the
figures come from alternating *rounds*: in each round the teacher gets one
``Timer.timeit(runs_per_round)`` measurement, then the student one (each
``timeit`` adds its own two warm-up calls). Every round gives one time per
call (the round's mean); the median, quartiles and minimum are over the
rounds (``Measurement.merge`` of the rounds, quartiles computed as
``Measurement`` computes its IQR).

On a CPU each round also gives the process CPU time per call, read by the
clock Timer calls at the start and at the end of the timed loop (Python's
``timeit`` reads its timer exactly there, so the warm-up calls are not in
it). Process CPU time counts every thread of this process and is not
inflated by other processes on a shared machine, unlike the wall time: its
ratio is a steadier speed-up figure there. On CUDA it would measure kernel
launches and the synchronisation wait, so it is not reported.
"""
import itertools
import os
import platform
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import Config
from torch.utils.benchmark import Measurement, Timer

from ..engine.console import silenced
from .exporters import plain_generator_of
from .fast_inference import DTYPES, fast_generator
from .layer_profile import layer_profile


def benchmark_device(name: str) -> torch.device:
    """The device to time on, refusing CUDA where there is none.

    Args:
        name: ``'cpu'`` or ``'cuda'`` (or ``'cuda:N'``).

    Returns:
        torch.device: the device.

    Raises:
        RuntimeError: CUDA was asked for and no CUDA device is available.
    """
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'--device {name}: no CUDA device is available')
    return device


def environment(device: torch.device, threads: int) -> dict:
    """Device name, library versions and thread count of a benchmark.

    Args:
        device: the timed device.
        threads: torch's CPU threads during the timing.

    Returns:
        dict: ``device``, ``device_name``, ``threads`` and the versions of
        python, torch, CUDA (None on a CPU), mmcv, mmengine, mmagic,
        mmstylekd and onnxruntime (None when it is not installed).
    """
    import mmagic
    import mmcv
    import mmengine

    from ..version import __version__
    try:
        import onnxruntime
        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = None
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or 'unknown CPU'
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        name = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
        name = f'{name} ({os.cpu_count()} logical cores)'
    return dict(
        device=device.type,
        device_name=name,
        threads=threads,
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda if device.type == 'cuda' else None,
        mmcv=mmcv.__version__,
        mmengine=mmengine.__version__,
        mmagic=mmagic.__version__,
        mmstylekd=__version__,
        onnxruntime=ort_version)


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class PeakMemory:
    """Peak memory of a block above what was resident before it (MB).

    CUDA: the caching allocator's peak. CPU: the process's resident-set
    high-water mark (VmHWM), reset through ``/proc/self/clear_refs``
    (Linux); elsewhere ``mb`` stays None.

    Args:
        device: the device whose memory is watched.

    Attributes:
        mb (float, optional): the peak above the start, after the block.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.mb = None

    @staticmethod
    def _status(key: str) -> float:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key):
                    return float(line.split()[1]) / 1024  # kB -> MB
        raise KeyError(key)

    def __enter__(self) -> 'PeakMemory':
        _synchronize(self.device)
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
            self.before = torch.cuda.memory_allocated(self.device) / 2**20
        else:
            try:
                with open('/proc/self/clear_refs', 'w') as f:
                    f.write('5')  # resets VmHWM to the current RSS
                self.before = self._status('VmRSS:')
            except (OSError, KeyError):
                self.before = None
        return self

    def __exit__(self, *exc) -> None:
        _synchronize(self.device)
        if self.device.type == 'cuda':
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
            self.mb = peak - self.before
        elif self.before is not None:
            self.mb = self._status('VmHWM:') - self.before


def weight_mb(module: nn.Module) -> float:
    """Megabytes of a module's parameters and buffers."""
    tensors = list(module.parameters()) + list(module.buffers())
    return sum(t.numel() * t.element_size() for t in tensors) / 2**20


class WallAndProcessClock:
    """A ``Timer`` clock: wall time, and process CPU time on the side.

    Each reading synchronises the device (as Timer's own clock does), keeps
    ``time.process_time()`` and returns ``time.perf_counter()``.

    Args:
        device: the timed device.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.process_times: List[float] = []

    def __call__(self) -> float:
        _synchronize(self.device)
        self.process_times.append(time.process_time())
        return time.perf_counter()

    def last_interval(self) -> float:
        """Process CPU seconds between the last two readings (the timed
        loop of the last ``timeit``)."""
        return self.process_times[-1] - self.process_times[-2]


def time_figures(measurement: Measurement, batch: int) -> dict:
    """Milliseconds per call of a (merged) Timer measurement.

    Args:
        measurement: one time per round (``Measurement.merge``).
        batch: images per call.

    Returns:
        dict: ``median``, ``q1``, ``q3``, ``iqr``, ``min`` (ms), ``runs``
        (rounds) and ``images_per_s`` (from the median).
    """
    times = torch.tensor(measurement.times, dtype=torch.float64) * 1e3
    # quartiles as Measurement computes its IQR (torch.quantile)
    q1, q3 = times.quantile(.25).item(), times.quantile(.75).item()
    median = measurement.median * 1e3
    return dict(median=median, q1=q1, q3=q3, iqr=q3 - q1,
                min=times.min().item(), runs=len(times),
                images_per_s=batch * 1e3 / median)


def measure_alternating(models: Dict[str, Callable[[torch.Tensor],
                                                   torch.Tensor]],
                        z: torch.Tensor,
                        rounds: int,
                        runs_per_round: int = 1,
                        warmup: int = 1,
                        threads: Optional[int] = None) -> Dict[str, dict]:
    """Time several generators on the same z, alternating them by rounds.

    Args:
        models: name -> callable z -> images (e.g. ``teacher``, ``student``
            :class:`~mmstylekd.deployment.FastGenerator`); each may carry a
            ``weight_mb`` attribute, added to its working memory.
        z: the latent batch (N, noise_size) on the timed device.
        rounds: measurements per model (see the module docstring).
        runs_per_round: timed calls per measurement.
        warmup: calls of each model, alternating, before the first round
            (compilation, CUDA-graph capture, lazy initialisation).
        threads: torch CPU threads during the timing (default: torch's).

    Returns:
        dict: name -> :func:`time_figures` plus ``runs_per_round``,
        ``cpu_time_median`` (ms of process CPU time per call; None on
        CUDA) and ``peak_mem_mb`` (one call's working memory plus
        ``weight_mb``; None where it cannot be read).
    """
    device = z.device
    threads = threads or torch.get_num_threads()
    for _ in range(warmup):
        for fn in models.values():
            fn(z)
    _synchronize(device)
    clock = WallAndProcessClock(device)
    timers = {
        name: Timer('fn(z)', globals=dict(fn=fn, z=z), timer=clock,
                    num_threads=threads, label=name)
        for name, fn in models.items()
    }
    measurements = {name: [] for name in models}
    cpu_times = {name: [] for name in models}
    for _ in range(rounds):
        for name, timer in timers.items():
            measurements[name].append(timer.timeit(runs_per_round))
            cpu_times[name].append(clock.last_interval() / runs_per_round)
    result = {}
    batch = z.shape[0]
    for name, fn in models.items():
        merged, = Measurement.merge(measurements[name])
        figures = time_figures(merged, batch)
        figures['runs_per_round'] = runs_per_round
        figures['cpu_time_median'] = None if device.type == 'cuda' else \
            torch.tensor(cpu_times[name]).median().item() * 1e3
        with PeakMemory(device) as mem:
            fn(z)
        figures['peak_mem_mb'] = None if mem.mb is None else \
            mem.mb + getattr(fn, 'weight_mb', 0.)
        result[name] = figures
    return result


def benchmark_generators(generators: Dict[str, nn.Module],
                         backends: Sequence[str],
                         batch_sizes: Sequence[int],
                         device: torch.device,
                         onnx_dir: str,
                         dtype: str = 'fp32',
                         rounds: int = 5,
                         runs_per_round: int = 2,
                         warmup: int = 1,
                         threads: Optional[int] = None,
                         compile_mode: Optional[str] = None) -> List[dict]:
    """Teacher vs student on every backend and batch size.

    Both generators are converted the same way (:func:`fast_generator`);
    the ``graph`` backend captures one graph per batch size.

    Args:
        generators: ``{'teacher': ..., 'student': ...}`` MMagic generators.
        backends: names from :data:`~mmstylekd.deployment.BACKENDS`.
        batch_sizes: images per call.
        device: the timed device.
        onnx_dir: folder for the ``onnxruntime`` backend's ONNX files.
        dtype: ``'fp32'``, ``'fp16'`` or ``'bf16'``.
        rounds, runs_per_round, warmup, threads: as in
            :func:`measure_alternating`.
        compile_mode: ``torch.compile`` mode of the ``compile`` backend.

    Returns:
        list[dict]: one row per backend and batch: ``backend``, ``dtype``,
        ``batch``, ``teacher`` and ``student`` (figures of
        :func:`measure_alternating`), ``speedup`` (teacher / student
        median) and ``cpu_time_speedup`` (the same in process CPU time;
        None on CUDA).
    """
    threads = threads or torch.get_num_threads()
    rows = []
    for backend in backends:
        models = None
        for batch in batch_sizes:
            if models is None or backend == 'graph':
                models = {}
                for name, gen in generators.items():
                    run = fast_generator(
                        gen, backend=backend, device=device, dtype=dtype,
                        batch_size=batch, compile_mode=compile_mode,
                        ort_threads=threads,
                        onnx_path=os.path.join(onnx_dir, f'{name}.onnx'))
                    # mmagic runs the module itself, in fp32
                    scale = 1. if backend == 'mmagic' else \
                        DTYPES[dtype].itemsize / 4
                    run.weight_mb = weight_mb(gen) * scale
                    models[name] = run
            noise_size = models['teacher'].noise_size
            z = torch.randn(batch, noise_size, device=device)
            res = measure_alternating(models, z, rounds, runs_per_round,
                                      warmup, threads)
            t, s = res['teacher'], res['student']
            rows.append(dict(
                backend=backend, dtype=dtype, batch=batch, teacher=t,
                student=s, speedup=t['median'] / s['median'],
                cpu_time_speedup=(
                    t['cpu_time_median'] / s['cpu_time_median']
                    if t['cpu_time_median'] and s['cpu_time_median'] else
                    None)))
    return rows


def layer_profile_rows(generators: Dict[str, nn.Module], batch: int,
                       repeats: int) -> List[dict]:
    """Every layer's time and MACs, teacher next to student (eager, CPU).

    Args:
        generators: ``{'teacher': ..., 'student': ...}`` MMagic generators
            (moved to the CPU).
        batch: images per forward.
        repeats: timed forwards per layer.

    Returns:
        list[dict]: per layer ``name``, ``resolution``,
        ``teacher_channels``, ``student_channels``, ``teacher_ms``,
        ``student_ms``, ``teacher_filter_ms``, ``student_filter_ms``
        (StyleGAN3's up/down filtering; 0 in StyleGAN2), ``teacher_macs``,
        ``student_macs``.
    """
    profiles = {
        name: layer_profile(plain_generator_of(gen.cpu()), batch, repeats)
        for name, gen in generators.items()
    }
    return [
        dict(name=t['name'], resolution=t['resolution'],
             teacher_channels=t['channels'], student_channels=s['channels'],
             teacher_ms=t['ms'], student_ms=s['ms'],
             teacher_filter_ms=t['filter_ms'],
             student_filter_ms=s['filter_ms'], teacher_macs=t['macs'],
             student_macs=s['macs'])
        for t, s in zip(profiles['teacher'], profiles['student'])
    ]


def train_step_time(cfg: Config,
                    device: torch.device,
                    batch_size: Optional[int] = None,
                    steps: int = 2) -> dict:
    """Seconds of one StyleKD (or plain MMagic GAN) training step.

    The config's model, a StyleKD one with ``teacher_ckpt``, ``student_init``
    and ``student_ckpt`` None (random weights: the time does not depend on
    them), optimiser wrappers built by mmengine, MMagic's discriminator and
    generator steps with every configured distillation loss, on random
    images. The iteration counter skips multiples of the R1 and
    path-length intervals: lazy regularisation would make a few steps
    slower than the rest.

    Args:
        cfg: a StyleKD config, or an MMagic GAN config (e.g. the student's
            architecture trained without a teacher, for comparison).
        device: where to train.
        batch_size: images per step (default: the config's
            ``train_dataloader.batch_size``).
        steps: timed steps, one Timer measurement (after Timer's two
            warm-up steps).

    Returns:
        dict: ``batch``, ``seconds`` (mean per step) and ``steps``.
    """
    from mmagic.registry import MODELS
    from mmagic.structures import DataSample
    from mmengine import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    model_cfg = cfg.model.copy()
    if 'teacher' in model_cfg:  # a StyleKD model; else a plain MMagic GAN
        model_cfg.update(teacher_ckpt=None, student_init=None,
                         student_ckpt=None)
    with silenced(), DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg).to(device)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        model.train()
    batch = batch_size or cfg.train_dataloader.batch_size
    generator = getattr(model.generator, 'module', model.generator)
    size = generator.out_size
    intervals = [n for n in (getattr(model, 'r1_interval', None),
                             getattr(model, 'g_reg_interval', None)) if n]
    iterations = (it for it in itertools.count(1)
                  if all(it % n for n in intervals))
    hub = MessageHub.get_current_instance()

    def step() -> None:
        hub.update_info('iter', next(iterations))
        data = dict(
            inputs=dict(),
            data_samples=[
                DataSample(gt_img=torch.rand(3, size, size) * 255)
                for _ in range(batch)
            ])
        with silenced():
            model.train_step(data, optim_wrapper)

    timer = Timer('step()', globals=dict(step=step),
                  timer=WallAndProcessClock(device),
                  num_threads=torch.get_num_threads())
    measurement = timer.timeit(steps)
    return dict(batch=batch, seconds=measurement.median, steps=steps)


def write_random_lpips_backbone(net: str = 'vgg') -> str:
    """Put a randomly initialised LPIPS backbone where torchvision looks.

    For *timing* a training step with an LPIPS loss on an offline machine:
    the architecture and so the cost are those of the ImageNet weights,
    the values are not. Never use it for figures of image quality. Set
    ``TORCH_HOME`` to a scratch folder first, so that no real cache gets
    the file.

    Args:
        net: the LPIPS backbone (``'vgg'``, ``'alex'`` or ``'squeeze'``).

    Returns:
        str: the file written.
    """
    import torchvision

    from ..models.losses.lpips_backbone import lpips_backbone_file
    builders = dict(vgg=torchvision.models.vgg16,
                    alex=torchvision.models.alexnet,
                    squeeze=torchvision.models.squeezenet1_1)
    path = lpips_backbone_file(net)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(builders[net]().state_dict(), path)
    return path


def summary_lines(figures: dict) -> List[str]:
    """A short text summary of one ``benchmark.py --json`` result.

    Args:
        figures: the JSON object benchmark.py prints last.

    Returns:
        list[str]: the device and versions, one line per backend, dtype
        and batch (teacher and student medians, speed-up next to the MAC
        ratio), and the training step when it was timed.
    """
    env = figures['environment']
    lines = [f'{env["device_name"]}, torch {env["torch"]}, CUDA '
             f'{env["cuda"]}, mmcv {env["mmcv"]}']
    ratio = figures['macs']['ratio']
    for r in figures['results']:
        lines.append(
            f'  {r["backend"]:9s} {r["dtype"]} batch {r["batch"]:3d}: '
            f'teacher {r["teacher"]["median"]:8.2f} ms, student '
            f'{r["student"]["median"]:8.2f} ms, speed-up '
            f'{r["speedup"]:5.2f}x (MACs {ratio:.2f}x)')
    if figures.get('train_step'):
        t = figures['train_step']
        lines.append(f'  training step (batch {t["batch"]}): '
                     f'{t["seconds"]:.3f} s')
    return lines
