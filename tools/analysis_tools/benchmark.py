"""Teacher vs student inference latency (StyleGAN2 or StyleGAN3), and one
distillation step.

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        [--device cpu|cuda] [--batch-sizes 1 8 64] \
        [--backend eager graph compile onnxruntime torchscript mmagic] \
        [--dtype fp32|fp16|bf16] [--repeats N] [--threads T] [--json]

Both generators are built from the config (random weights: timing does not
depend on them; ``--checkpoint`` loads the student, e.g. a pruned one) and
run the same way: every backend but ``mmagic`` first converts both to the
same plain-PyTorch form (``mmstylekd.deployment``). For each backend and
batch size: median latency and spread (interquartile range; CUDA events on
a GPU), images/s, measured speed-up next to the MAC ratio
(``generator_complexity``), peak memory (weights + one forward's working
memory; a CUDA graph's pool, allocated at capture, is not seen), and on a
CPU the speed-up in process CPU time. Teacher and student calls alternate,
so that a load change on a shared machine hits both alike.
``--layer-profile`` adds every layer's time next to its MACs. Then the time
of one StyleKD training step (the config's model with
``teacher_ckpt=None`` and ``student_init=None``: MMagic's discriminator and
generator steps with every distillation loss, optimiser wrappers built by
mmengine). With ``--json`` the last line is one JSON object holding every
figure, the device, the versions and the settings.
"""
import argparse
import contextlib
import io
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings

# import-time deprecation chatter of diffusers/mmengine/mmcv (not ours);
# the filter must come first, hence the late imports
warnings.filterwarnings(
    'ignore', message='.*(pkg_resources|_register_pytree_node|Since aten)')

# isort: off
import torch  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmagic.structures import DataSample  # noqa: E402
from mmengine import MessageHub  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

import mmstylekd  # noqa: E402
from mmstylekd.deployment import (BACKENDS, DTYPES,  # noqa: E402
                                  fast_generator)
from mmstylekd.deployment.exporters import plain_generator_of  # noqa: E402
from mmstylekd.deployment.fast_inference import quiet_eval  # noqa: E402
from mmstylekd.deployment.layer_profile import layer_profile  # noqa: E402
from mmstylekd.evaluation import generator_complexity  # noqa: E402
from mmstylekd.models import (build_student,  # noqa: E402
                              build_student_from_checkpoint,
                              generator_configs)
# isort: on


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='student checkpoint (training '
                        'or tools/prune.py); default: built from the config')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 8, 64])
    parser.add_argument('--backend', nargs='+', default=['eager'],
                        choices=BACKENDS)
    parser.add_argument('--dtype', default='fp32', choices=list(DTYPES))
    parser.add_argument('--repeats', type=int,
                        help='timed runs per model (default 25 on CUDA, 10 '
                        'on CPU)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int,
                        help='CPU threads for torch and onnxruntime '
                        '(default: torch\'s)')
    parser.add_argument('--compile-mode', help='torch.compile mode for the '
                        'compile backend (default: torch\'s default)')
    parser.add_argument('--train-batch-size', type=int,
                        help='batch of the timed training step (default: '
                        'the config\'s train_dataloader.batch_size)')
    parser.add_argument('--train-steps', type=int, default=2,
                        help='timed training steps after one warm-up step')
    parser.add_argument('--skip-train-step', action='store_true')
    parser.add_argument('--layer-profile', action='store_true',
                        help='also time every layer of both generators '
                        '(plain eager, CPU, first batch size) next to its '
                        'MACs')
    parser.add_argument('--json', action='store_true',
                        help='end with one JSON line of every figure')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


# ----------------------------------------------------------------- system
def environment(device: torch.device, threads: int) -> dict:
    """Device name, library versions and thread count."""
    import mmagic
    import mmcv
    import mmengine
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
        mmstylekd=mmstylekd.__version__,
        onnxruntime=ort_version)


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class PeakMemory:
    """Peak memory of a block above what was resident before it (MB).

    CUDA: the caching allocator's peak. CPU: the process's resident-set
    high-water mark (VmHWM), reset through /proc/self/clear_refs.
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

    def __enter__(self):
        synchronize(self.device)
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

    def __exit__(self, *exc):
        synchronize(self.device)
        if self.device.type == 'cuda':
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
            self.mb = peak - self.before
        elif self.before is not None:
            self.mb = self._status('VmHWM:') - self.before


def weight_mb(module: torch.nn.Module) -> float:
    tensors = list(module.parameters()) + list(module.buffers())
    return sum(t.numel() * t.element_size() for t in tensors) / 2**20


# ------------------------------------------------------------------ timing
def time_call(fn, z: torch.Tensor, device: torch.device) -> tuple:
    """Milliseconds of one call (CUDA events on a GPU) and, on a CPU, the
    process CPU time it used (all threads; not inflated by other processes
    on a shared machine, unlike the wall time)."""
    if device.type == 'cuda':
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn(z)
        end.record()
        end.synchronize()
        return start.elapsed_time(end), None
    begin, begin_cpu = time.perf_counter(), time.process_time()
    fn(z)
    return ((time.perf_counter() - begin) * 1e3,
            (time.process_time() - begin_cpu) * 1e3)


def summary(times) -> dict:
    """Median and interquartile range (ms)."""
    times = sorted(times)
    if len(times) >= 4:
        q1, _, q3 = statistics.quantiles(times, n=4)
    else:
        q1, q3 = times[0], times[-1]
    return dict(median=statistics.median(times), q1=q1, q3=q3,
                min=times[0], runs=len(times))


def measure(models: dict, batch: int, args, device: torch.device) -> dict:
    """Alternate teacher and student calls; then one call each for the
    memory figure."""
    z = torch.randn(batch, models['teacher'].noise_size, device=device)
    for _ in range(args.warmup):
        for fn in models.values():
            fn(z)
    synchronize(device)
    times = {name: [] for name in models}
    cpu_times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, fn in models.items():
            wall, cpu = time_call(fn, z, device)
            times[name].append(wall)
            cpu_times[name].append(cpu)
    result = {}
    for name, fn in models.items():
        with PeakMemory(device) as mem:
            fn(z)
        result[name] = summary(times[name])
        result[name]['cpu_time_median'] = (
            None if device.type == 'cuda' else
            statistics.median(cpu_times[name]))
        result[name]['images_per_s'] = batch * 1e3 / result[name]['median']
        result[name]['peak_mem_mb'] = (None if mem.mb is None else
                                       mem.mb + fn.weight_mb)
    return result


def build_backend(generator, backend: str, batch: int, args,
                  device: torch.device, onnx_dir: str, name: str):
    run = fast_generator(
        generator,
        backend=backend,
        device=device,
        dtype=args.dtype,
        batch_size=batch,
        compile_mode=args.compile_mode,
        ort_threads=args.threads,
        onnx_path=os.path.join(onnx_dir, f'{name}.onnx'))
    run.weight_mb = weight_mb(generator) if backend == 'mmagic' else \
        weight_mb(generator) * DTYPES[args.dtype].itemsize / 4
    return run


def benchmark_backend(generators: dict, backend: str, args,
                      device: torch.device, onnx_dir: str) -> list:
    rows = []
    models = None
    for batch in args.batch_sizes:
        if models is None or backend == 'graph':  # a graph per batch size
            models = {
                name: build_backend(gen, backend, batch, args, device,
                                    onnx_dir, name)
                for name, gen in generators.items()
            }
        res = measure(models, batch, args, device)
        t_cpu = res['teacher']['cpu_time_median']
        s_cpu = res['student']['cpu_time_median']
        rows.append(dict(
            backend=backend,
            dtype=args.dtype,
            batch=batch,
            teacher=res['teacher'],
            student=res['student'],
            speedup=res['teacher']['median'] / res['student']['median'],
            cpu_time_speedup=t_cpu / s_cpu if t_cpu and s_cpu else None))
    return rows


# -------------------------------------------------------------- training
@contextlib.contextmanager
def quiet():
    """No prints, warnings or mmengine log records below ERROR (model
    building announces the random teacher, the optimiser groups, style
    modes; LPIPS's torchvision call warns about its arguments)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        logger.setLevel(level)


def train_step_time(cfg: Config, args, device: torch.device) -> dict:
    """Seconds of one StyleKD training step (discriminator + generator
    with every configured loss); no R1 / path-length regularisation (the
    timed iterations are not multiples of their intervals)."""
    model_cfg = cfg.model.copy()
    model_cfg.update(teacher_ckpt=None, student_init=None, student_ckpt=None)
    with quiet(), DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg).to(device)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        model.train()
    batch = args.train_batch_size or cfg.train_dataloader.batch_size
    size = model.generator.out_size if hasattr(model.generator, 'out_size') \
        else model.generator.module.out_size
    hub = MessageHub.get_current_instance()
    times = []
    for step in range(1 + args.train_steps):
        # iterations 1, 2, 3, ... (0 would add R1 and path-length terms)
        hub.update_info('iter', step + 1)
        data = dict(
            inputs=dict(),
            data_samples=[
                DataSample(gt_img=torch.rand(3, size, size) * 255)
                for _ in range(batch)
            ])
        synchronize(device)
        begin = time.perf_counter()
        with quiet():
            model.train_step(data, optim_wrapper)
        synchronize(device)
        if step > 0:  # the first step warms up
            times.append(time.perf_counter() - begin)
    return dict(batch=batch, seconds=statistics.median(times),
                all_seconds=times)


# ------------------------------------------------------------------ main
def print_table(rows: list, macs: dict) -> None:
    ratio = macs['teacher'] / macs['student']
    head = (f'{"backend":12s} {"dtype":5s} {"batch":>5s} '
            f'{"teacher ms (IQR)":>22s} {"student ms (IQR)":>20s} '
            f'{"T img/s":>8s} {"S img/s":>8s} {"speed-up":>8s} '
            f'{"MAC ratio":>9s} {"T MB":>7s} {"S MB":>7s} '
            f'{"CPU-time speed-up":>17s}')
    print(head)
    for row in rows:
        t, s = row['teacher'], row['student']
        cells = []
        for fig in (t, s):
            cells.append(f'{fig["median"]:9.2f} ({fig["q1"]:.1f}-'
                         f'{fig["q3"]:.1f})')
        mem = [('-' if fig['peak_mem_mb'] is None else
                f'{fig["peak_mem_mb"]:7.1f}') for fig in (t, s)]
        cpu_speedup = ('-' if row['cpu_time_speedup'] is None else
                       f'{row["cpu_time_speedup"]:.2f}x')
        print(f'{row["backend"]:12s} {row["dtype"]:5s} {row["batch"]:5d} '
              f'{cells[0]:>22s} {cells[1]:>20s} '
              f'{t["images_per_s"]:8.1f} {s["images_per_s"]:8.1f} '
              f'{row["speedup"]:7.2f}x {ratio:8.2f}x '
              f'{mem[0]:>7s} {mem[1]:>7s} {cpu_speedup:>17s}')


def print_layer_profile(generators: dict, batch: int, repeats: int) -> list:
    """Per-layer time and MACs, teacher next to student (eager, CPU);
    for StyleGAN3 also the time in each layer's up/down filtering."""
    profiles = {
        name: layer_profile(plain_generator_of(gen.cpu()), batch, repeats)
        for name, gen in generators.items()
    }
    sg3 = any(r['filter_ms'] for r in profiles['teacher'])
    print(f'per-layer profile (plain eager, CPU, batch {batch}, median of '
          f'{repeats}):')
    filt_head = f' {"T filter ms":>11s} {"S filter ms":>11s}' if sg3 else ''
    print(f'{"layer":18s} {"px":>4s} {"T ch":>5s} {"S ch":>5s} '
          f'{"teacher ms":>10s} {"student ms":>10s}{filt_head}'
          f' {"time ratio":>10s} {"MAC ratio":>9s}')
    rows = []
    for t, s in zip(profiles['teacher'], profiles['student']):
        row = dict(name=t['name'], resolution=t['resolution'],
                   teacher_channels=t['channels'],
                   student_channels=s['channels'],
                   teacher_ms=t['ms'], student_ms=s['ms'],
                   teacher_filter_ms=t['filter_ms'],
                   student_filter_ms=s['filter_ms'],
                   teacher_macs=t['macs'], student_macs=s['macs'])
        rows.append(row)
        mac_ratio = (f'{t["macs"] / s["macs"]:8.2f}x' if s['macs'] else
                     f'{"-":>9s}')
        filt = (f' {t["filter_ms"]:11.2f} {s["filter_ms"]:11.2f}'
                if sg3 else '')
        print(f'{t["name"]:18s} {t["resolution"]:4d} {t["channels"]:5d} '
              f'{s["channels"]:5d} {t["ms"]:10.2f} {s["ms"]:10.2f}{filt} '
              f'{t["ms"] / s["ms"]:9.2f}x {mac_ratio}')
    total = [sum(r[f'{k}_ms'] for r in rows) for k in ('teacher', 'student')]
    filt_total = [sum(r[f'{k}_filter_ms'] for r in rows)
                  for k in ('teacher', 'student')]
    filt = (f' {filt_total[0]:11.2f} {filt_total[1]:11.2f}' if sg3 else '')
    print(f'{"sum":18s} {"":4s} {"":5s} {"":5s} {total[0]:10.2f} '
          f'{total[1]:10.2f}{filt} {total[0] / total[1]:9.2f}x')
    return rows


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    if device.type == 'cuda':
        # fixed shapes: let cuDNN pick its fastest kernels (both models)
        torch.backends.cudnn.benchmark = True
    # inductor on a CPU-only build announces that it found no CUDA runtime
    logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    if args.repeats is None:
        args.repeats = 25 if device.type == 'cuda' else 10
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    teacher_cfg, student_cfg = generator_configs(cfg)
    torch.manual_seed(0)
    with quiet():
        teacher = quiet_eval(MODELS.build(teacher_cfg.to_dict()))
        if args.checkpoint:
            student = build_student_from_checkpoint(student_cfg,
                                                    args.checkpoint)
        else:
            student = build_student(student_cfg)
        quiet_eval(student)
    generators = dict(teacher=teacher, student=student)
    macs = {name: generator_complexity(gen)['macs']
            for name, gen in generators.items()}

    env = environment(device, args.threads)
    print(f'device: {env["device_name"]} ({device.type}), threads '
          f'{args.threads}')
    print('versions: ' + ', '.join(
        f'{k} {env[k]}' for k in ('python', 'torch', 'cuda', 'mmcv',
                                  'mmengine', 'mmagic', 'onnxruntime')
        if env[k]))
    print(f'config: {args.config}; student: '
          f'{args.checkpoint or "built from the config"}; teacher: random '
          f'weights; dtype {args.dtype}; {args.repeats} timed runs after '
          f'{args.warmup} warm-up, teacher and student alternating')
    unit, scale = ('G', 1e9) if macs['teacher'] >= 1e9 else ('M', 1e6)
    print(f'MACs per image: teacher {macs["teacher"] / scale:.2f}{unit}, '
          f'student {macs["student"] / scale:.2f}{unit} '
          f'({macs["teacher"] / macs["student"]:.2f}x)')

    rows = []
    with tempfile.TemporaryDirectory(prefix='mmstylekd_bench_') as tmp:
        for backend in args.backend:
            rows += benchmark_backend(generators, backend, args, device, tmp)
    print_table(rows, macs)
    layers = None
    if args.layer_profile:
        layers = print_layer_profile(generators, args.batch_sizes[0],
                                     args.repeats)

    train = None
    if not args.skip_train_step:
        del generators, teacher, student
        train = train_step_time(cfg, args, device)
        print(f'training step (StyleKD, batch {train["batch"]}, discriminator'
              f' + generator, no regularisation): {train["seconds"]:.3f} s '
              f'(median of {len(train["all_seconds"])})')
    if args.json:
        print(json.dumps(dict(
            config=args.config,
            checkpoint=args.checkpoint,
            environment=env,
            settings=dict(backends=args.backend, dtype=args.dtype,
                          batch_sizes=args.batch_sizes,
                          repeats=args.repeats, warmup=args.warmup,
                          compile_mode=args.compile_mode),
            macs=dict(macs, ratio=macs['teacher'] / macs['student']),
            results=rows,
            layer_profile=layers,
            train_step=train)))


if __name__ == '__main__':
    sys.exit(main())
