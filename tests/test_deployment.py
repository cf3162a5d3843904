"""Plain-PyTorch StyleGAN2, ONNX / TorchScript export, fast backends.

Exactness is checked against MMagic's own generators (mmcv ops): the demo's
pruned student from the committed teacher checkpoint, and tiny random
generators with non-zero noise weights and biases and an asymmetric blur
filter (so that a flipped or shifted filter shows).
"""
import contextlib
import copy
import io
import json
import os.path as osp
import re
import runpy
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmcv.ops import upfirdn2d
from mmengine.config import Config
from torch.utils._python_dispatch import TorchDispatchMode

import mmstylekd  # noqa: F401
from mmstylekd.deployment import (PlainStyleGAN2Generator,
                                  estimate_mean_latent, export_generator,
                                  exporters, fast_generator)
from mmstylekd.deployment.exporters import (DEFAULT_TOLERANCE,
                                            ExportVerificationError)
from mmstylekd.deployment.fast_inference import onnx_file_for, quiet_eval
from mmstylekd.deployment.stylegan2_export_modules import (PlainUpFirDn2d,
                                                           equalized_weight)
from mmstylekd.models import (build_student, build_teacher,
                              init_student_from_teacher)

DEMO = 'configs/demo/stylekd_stylegan2_digits-32x32.py'
TINY_CFGS = {
    'mmagic-16px': dict(type='StyleGANv2Generator', out_size=16,
                        style_channels=16, num_mlps=2),
    'student-32px': dict(type='StyleGAN2StudentGenerator', out_size=32,
                         style_channels=24, num_mlps=3,
                         channels={4: 16, 8: 12, 16: 8, 32: 6},
                         blur_kernel=[1, 2, 4, 1]),
}


def rel_l2(out, ref):
    out = torch.as_tensor(out).double()
    ref = torch.as_tensor(ref).double()
    return float((out - ref).norm() / ref.norm())


def tiny_generator(name, seed=0):
    """A random MMagic generator whose noise weights and biases are not
    zero (as after training)."""
    torch.manual_seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        gen = quiet_eval(MODELS.build(TINY_CFGS[name]))
    with torch.no_grad():
        for key, param in gen.named_parameters():
            if 'noise_injector' in key or key.endswith('bias'):
                param.normal_(0, 0.5)
    return gen


def load_tool(path):
    """The tool's namespace (its ``main(argv)``), imported in-process."""
    return runpy.run_path(osp.join(REPO, path), run_name='tool')


# ----------------------------------------------------------- plain modules
@pytest.mark.parametrize('up,pad', [(1, (1, 1)), (1, (2, 1)), (1, 2),
                                    (1, (2, 1, 0, 3)), (2, (2, 1, 2, 1)),
                                    (2, (1, 1)), (2, (3, 3, 1, 2))])
def test_upfirdn_as_conv_matches_mmcv(up, pad):
    # asymmetric and not separable into equal halves: a flip shows
    kernel = torch.tensor([[1., 2., 4., 1.]]) * torch.tensor([[1., 3., 2.,
                                                               1.]]).t()
    x = torch.randn(2, 5, 7, 7)
    ref = upfirdn2d(x, kernel, up=up, down=1, padding=pad)
    out = PlainUpFirDn2d(kernel, 5, up, pad)(x)
    assert out.shape == ref.shape
    assert rel_l2(out, ref) < 1e-6


@pytest.mark.parametrize('name', sorted(TINY_CFGS))
def test_plain_generator_matches_mmagic(name):
    gen = tiny_generator(name)
    plain = PlainStyleGAN2Generator.from_mmagic(gen)
    z = torch.randn(2, gen.noise_size)
    noises = [torch.randn(2, *s[1:]) for s in plain.noise_shapes]
    mean = torch.randn(gen.style_channels)
    truncated = PlainStyleGAN2Generator.from_mmagic(gen, 0.6, mean)
    w1, w2 = gen.style_mapping(z), gen.style_mapping(torch.randn_like(z))
    mixed = torch.cat([w1[:, None].expand(-1, 3, -1),
                       w2[:, None].expand(-1, gen.num_latents - 3, -1)], 1)
    with torch.no_grad():
        pairs = [
            (plain(z), gen(z, randomize_noise=False)),
            (plain(z, noises), gen(z, injected_noise=noises)),
            (truncated(z), gen(z, randomize_noise=False, truncation=0.6,
                               truncation_latent=mean)),
            (plain.synthesis(mixed), gen([mixed], input_is_latent=True,
                                         randomize_noise=False)),
        ]
    for out, ref in pairs:
        assert out.shape == ref.shape == (2, 3, gen.out_size, gen.out_size)
        assert rel_l2(out, ref) < 1e-5
    # the fixed noise matters: other noise gives other images
    assert rel_l2(pairs[0][0], pairs[1][0]) > 1e-2


class DeviceRecorder(TorchDispatchMode):
    """Every device that an op's tensor inputs and outputs live on."""

    def __init__(self):
        super().__init__()
        self.devices = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        flat = torch.utils._pytree.tree_leaves((args, kwargs, out))
        for t in flat:
            if isinstance(t, torch.Tensor):
                self.devices.setdefault(t.device.type, str(func))
        return out


def test_plain_forward_creates_tensors_on_the_input_device_only():
    """What CUDA-graph capture needs: no CPU tensor in a CUDA forward. On
    the meta device any CPU tensor (a Python scalar made a tensor, a
    buffer left behind) shows up."""
    gen = tiny_generator('student-32px')
    plain = PlainStyleGAN2Generator.from_mmagic(
        gen, 0.7, torch.zeros(gen.style_channels)).to('meta')
    z = torch.randn(2, gen.noise_size, device='meta')
    with DeviceRecorder() as rec:
        out = plain(z)
        plain(z, [torch.randn(2, *s[1:], device='meta')
                  for s in plain.noise_shapes])
    assert out.shape == (2, 3, 32, 32)
    assert set(rec.devices) == {'meta'}, rec.devices
    # the recorder does see MMagic's CPU scalars (pixel_norm's
    # torch.tensor(C)), the cause of "Cannot copy between CPU and CUDA
    # tensors during CUDA graph capture"
    mapping = gen.style_mapping[:2].to('meta')
    with DeviceRecorder() as rec:
        mapping(z)
    assert 'cpu' in rec.devices


def test_plain_generator_runs_in_half_precision_and_compiles_whole():
    gen = tiny_generator('mmagic-16px')
    plain = PlainStyleGAN2Generator.from_mmagic(gen)
    z = torch.randn(2, gen.noise_size)
    with torch.no_grad():
        ref = plain(z)
        for dtype in (torch.bfloat16, torch.float16):
            out = copy.deepcopy(plain).to(dtype)(z.to(dtype))
            assert out.dtype == dtype
            assert rel_l2(out.float(), ref) < 3e-2, dtype
        # dynamo captures the forward as one graph (no graph break, no
        # Python fallback): what torch.compile needs
        compiled = torch.compile(plain, fullgraph=True, backend='eager')
        assert rel_l2(compiled(z), ref) < 1e-6


def test_fast_generator_backends_agree_with_mmagic(tmp_path):
    gen = tiny_generator('student-32px')
    z = torch.randn(2, gen.noise_size)
    with torch.no_grad():
        ref = gen(z, randomize_noise=False)
    for backend in ('mmagic', 'eager', 'torchscript', 'onnxruntime'):
        run = fast_generator(gen, backend, onnx_path=str(tmp_path / 'g.onnx'))
        assert rel_l2(run(z), ref) < 1e-5, backend
    bf16 = fast_generator(gen, 'eager', dtype='bf16')(z)
    assert bf16.dtype == torch.bfloat16 and rel_l2(bf16.float(), ref) < 3e-2
    with pytest.raises(ValueError, match='CUDA'):
        fast_generator(gen, 'graph', device='cpu')
    with pytest.raises(ValueError, match='fp32'):
        fast_generator(gen, 'mmagic', dtype='fp16')


def test_equalized_weight_refuses_modules_it_does_not_know():
    gen = tiny_generator('mmagic-16px')
    conv = gen.convs[0].conv
    # MMagic's hook: the stored weight_orig times the equalised-lr scale
    scale = equalized_weight(conv) / conv.weight_orig
    assert torch.allclose(scale, scale.flatten()[0]) and scale.flatten()[0] < 1
    linear = torch.nn.Linear(3, 2)
    assert torch.equal(equalized_weight(linear), linear.weight)
    hooked = torch.nn.Linear(3, 2)
    hooked.register_forward_pre_hook(lambda module, inputs: None)
    unknown = [(torch.nn.Conv1d(3, 2, 1), 'Conv1d .*unknown type'),
               (hooked, 'Linear .*forward pre-hooks'),
               (torch.nn.utils.parametrizations.spectral_norm(
                   torch.nn.Linear(3, 2)), 'ParametrizedLinear')]
    for module, message in unknown:
        with pytest.raises(TypeError, match=message):
            equalized_weight(module)


def test_fast_generator_never_reuses_a_stale_onnx_file(tmp_path):
    path = tmp_path / 'g.onnx'
    gens = [tiny_generator('student-32px', seed) for seed in (0, 1)]
    z = torch.randn(2, gens[0].noise_size)
    with torch.no_grad():
        refs = [gen(z, randomize_noise=False) for gen in gens]
    for i in (0, 1, 0):  # each time another generator than the file's
        run = fast_generator(gens[i], 'onnxruntime', onnx_path=str(path))
        assert rel_l2(run(z), refs[i]) < 1e-5, i
    path.write_bytes(b'not an ONNX file')
    run = fast_generator(gens[0], 'onnxruntime', onnx_path=str(path))
    assert rel_l2(run(z), refs[0]) < 1e-5
    # the same generator and settings: the file is reused as is
    inode = path.stat().st_ino
    plain = PlainStyleGAN2Generator.from_mmagic(gens[0])
    assert not onnx_file_for(plain, str(path))
    fast_generator(gens[0], 'onnxruntime', onnx_path=str(path))
    assert path.stat().st_ino == inode
    # other settings, same weights: another file
    mean = torch.randn(gens[0].style_channels)
    run = fast_generator(gens[0], 'onnxruntime', onnx_path=str(path),
                         truncation=0.5, mean_latent=mean)
    assert path.stat().st_ino != inode
    with torch.no_grad():
        ref = gens[0](z, randomize_noise=False, truncation=0.5,
                      truncation_latent=mean)
    assert rel_l2(run(z), ref) < 1e-5


def test_fast_generator_leaves_no_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    gen = tiny_generator('student-32px')
    run = fast_generator(gen, 'onnxruntime')
    assert list(tmp_path.iterdir()) == []
    z = torch.randn(3, gen.noise_size)
    with torch.no_grad():
        assert rel_l2(run(z), gen(z, randomize_noise=False)) < 1e-5


# ------------------------------------------------------------------ export
def folder_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_fails_on_a_bad_file_and_replaces_nothing(tmp_path,
                                                         monkeypatch):
    gen = tiny_generator('student-32px')
    out = tmp_path / 'deploy'
    meta = export_generator(gen, str(out))
    assert meta['verification'] == dict(
        tolerance=DEFAULT_TOLERANCE, passed=True,
        metric=exporters.VERIFICATION_METRIC)
    assert json.loads((out / 'metadata.json').read_text())[
        'verification']['tolerance'] == 1e-4
    before = folder_bytes(out)
    real = exporters.export_torchscript

    def nan_torchscript(plain, path):
        plain = copy.deepcopy(plain)
        plain.to_rgb1.bias.fill_(float('nan'))
        return real(plain, path)

    monkeypatch.setattr(exporters, 'export_torchscript', nan_torchscript)
    with pytest.raises(ExportVerificationError,
                       match=r'student\.ts: relative L2 error nan .*'
                       r'tolerance 1\.0e-04') as info:
        export_generator(gen, str(out), force=True)
    assert list(info.value.failures) == ['student.ts']
    assert max(info.value.errors['onnx'], info.value.errors['onnx_w']) < 1e-5
    # the good export is untouched and no temporary file is left
    assert folder_bytes(out) == before
    with pytest.raises(ExportVerificationError):
        export_generator(gen, str(tmp_path / 'new' / 'deploy'))
    assert list((tmp_path / 'new').iterdir()) == []
    # a tolerance below float32 noise fails a correct export
    monkeypatch.setattr(exporters, 'export_torchscript', real)
    with pytest.raises(ExportVerificationError, match='student.onnx'):
        export_generator(gen, str(tmp_path / 'tight'), tolerance=1e-12,
                         formats=['onnx'])


@pytest.fixture(scope='module')
def demo_student_ckpt(tmp_path_factory):
    """The demo's pruned student (from the committed teacher), saved as a
    training checkpoint whose EMA generator differs from the generator."""
    cfg = Config.fromfile(osp.join(REPO, DEMO))
    with contextlib.redirect_stdout(io.StringIO()):
        teacher = build_teacher(cfg.model.teacher,
                                osp.join(REPO, cfg.model.teacher_ckpt))
        student = build_student(cfg.model.generator)
        init_student_from_teacher(student, teacher)
    ema = student.state_dict()
    state = {f'generator_ema.module.{k}': v for k, v in ema.items()}
    state.update({f'generator.{k}': v + 0.1 * torch.randn_like(v)
                  for k, v in ema.items()})
    path = tmp_path_factory.mktemp('demo') / 'iter_1000.pth'
    torch.save(dict(state_dict=state, meta=dict(iter=1000)), path)
    return path


@pytest.fixture(scope='module')
def exported(demo_student_ckpt, tmp_path_factory):
    out = tmp_path_factory.mktemp('export') / 'deploy'
    proc = check(run_tool('tools/deployment/export.py', DEMO,
                          demo_student_ckpt, '--out', out, '--truncation',
                          '0.7'))
    return out, proc


def mmagic_student(ckpt):
    from mmstylekd.models import build_student_from_checkpoint
    cfg = Config.fromfile(osp.join(REPO, DEMO))
    with contextlib.redirect_stdout(io.StringIO()):
        return quiet_eval(build_student_from_checkpoint(cfg.model.generator,
                                                        str(ckpt)))


def test_exported_demo_student_reproduces_mmagic(exported, demo_student_ckpt):
    out, proc = exported
    student = mmagic_student(demo_student_ckpt)
    mean = estimate_mean_latent(PlainStyleGAN2Generator.from_mmagic(student))
    kwargs = dict(randomize_noise=False, truncation=0.7,
                  truncation_latent=mean)
    session = ort.InferenceSession(str(out / 'student.onnx'),
                                   providers=['CPUExecutionProvider'])
    session_w = ort.InferenceSession(str(out / 'student_w.onnx'),
                                     providers=['CPUExecutionProvider'])
    scripted = torch.jit.load(str(out / 'student.ts'))
    errors = {}
    for batch in (1, 5):  # the batch axis is dynamic
        z = torch.randn(batch, student.noise_size)
        w = torch.randn(batch, student.num_latents, student.style_channels)
        with torch.no_grad():
            ref = student(z, **kwargs)
            ref_w = student([w], input_is_latent=True, **kwargs)
            errors[f'torchscript{batch}'] = rel_l2(scripted(z), ref)
        image = session.run(['image'], {'z': z.numpy()})[0]
        assert image.shape == (batch, 3, 32, 32)
        errors[f'onnx{batch}'] = rel_l2(image, ref)
        errors[f'onnx_w{batch}'] = rel_l2(
            session_w.run(['image'], {'w': w.numpy()})[0], ref_w)
    assert max(errors.values()) < 1e-4, errors
    meta = json.loads((out / 'metadata.json').read_text())
    assert meta['checkpoint'] == str(demo_student_ckpt)
    assert meta['truncation'] == 0.7 and meta['opset'] == 17
    assert meta['channels'] == {'4': 32, '8': 32, '16': 16, '32': 8}
    assert meta['macs'] > 0 and meta['out_size'] == 32
    assert max(meta['max_relative_l2_vs_mmagic'].values()) < 1e-4
    assert meta['verification']['tolerance'] == 1e-4
    assert meta['verification']['passed'] is True
    assert 'relative L2 error vs MMagic' in proc.stdout
    assert '(tolerance 0.0001)' in proc.stdout
    # standard ONNX operators only (no mmcv / custom domains)
    model = onnx.load(str(out / 'student.onnx'))
    assert {node.domain for node in model.graph.node} <= {'', 'ai.onnx'}
    assert [i.name for i in model.graph.input] == ['z']


def test_export_with_noise_inputs_matches_given_noise(tmp_path):
    gen = tiny_generator('student-32px')
    meta = export_generator(gen, str(tmp_path), noise_inputs=True)
    assert max(meta['max_relative_l2_vs_mmagic'].values()) < 1e-5
    session = ort.InferenceSession(str(tmp_path / 'student.onnx'),
                                   providers=['CPUExecutionProvider'])
    z = torch.randn(2, gen.noise_size)
    shapes = meta['inputs']['noises']
    noises = [torch.randn(2, *s[1:]) for s in shapes]
    feed = {'z': z.numpy()}
    feed.update({f'noise_{i}': n.numpy() for i, n in enumerate(noises)})
    with torch.no_grad():
        ref = gen(z, injected_noise=noises)
    assert rel_l2(session.run(['image'], feed)[0], ref) < 1e-5
    scripted = torch.jit.load(str(tmp_path / 'student.ts'))
    assert rel_l2(scripted(z, noises), ref) < 1e-5


def test_export_errors_name_the_problem(tmp_path, demo_student_ckpt,
                                        exported, capsys):
    main = load_tool('tools/deployment/export.py')['main']
    out = exported[0]
    before = (out / 'student.onnx').stat().st_mtime_ns
    with pytest.raises(SystemExit, match='already exist.*--overwrite'):
        main([DEMO, str(demo_student_ckpt), '--out', str(out)])
    assert (out / 'student.onnx').stat().st_mtime_ns == before
    missing = tmp_path / 'no_such_student.pth'
    with pytest.raises(SystemExit, match='no_such_student.pth'):
        main([DEMO, str(missing), '--out', str(tmp_path / 'a')])
    # the teacher checkpoint does not fit the 75%-thinner student
    teacher_ckpt = osp.join(REPO, Config.fromfile(
        osp.join(REPO, DEMO)).model.teacher_ckpt)
    with pytest.raises(SystemExit,
                       match='teacher_iter6000.pth does not fit'):
        main([DEMO, teacher_ckpt, '--out', str(tmp_path / 'b')])
    with pytest.raises(SystemExit, match='not a StyleGAN2 or StyleGAN3'):
        main([DEMO, str(missing), '--out', str(tmp_path / 'c'),
              '--cfg-options', 'model.generator.type=StyleGAN2Discriminator'])
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()


def test_export_tool_fails_naming_the_bad_file(demo_student_ckpt, tmp_path,
                                               monkeypatch, capsys):
    """One corrupted weight in student.onnx: export.py exits non-zero
    naming the file and its error, and the earlier export stays."""
    main = load_tool('tools/deployment/export.py')['main']
    out = tmp_path / 'deploy'
    main([DEMO, str(demo_student_ckpt), '--out', str(out)])
    before = folder_bytes(out)
    real = exporters.export_onnx

    def corrupt(plain, path, input_name='z', *args, **kwargs):
        if input_name == 'z':  # student.onnx only
            plain = copy.deepcopy(plain)
            with torch.no_grad():  # flip the sign of the largest weight
                weight = plain.blocks[-1].conv.conv.weight.view(-1)
                weight[weight.abs().argmax()] *= -1
        return real(plain, path, input_name, *args, **kwargs)

    monkeypatch.setattr(exporters, 'export_onnx', corrupt)
    with pytest.raises(SystemExit) as info:
        main([DEMO, str(demo_student_ckpt), '--out', str(out), '--overwrite'])
    message = info.value.code
    assert isinstance(message, str)  # printed, exit status 1
    found = re.search(r'student\.onnx: relative L2 error (\S+) vs MMagic '
                      r'exceeds the tolerance 1\.0e-04', message)
    assert found and float(found.group(1)) > 5e-4, message
    assert 'student_w.onnx' not in message and 'student.ts' not in message
    assert folder_bytes(out) == before
    # --tolerance sets the limit
    main([DEMO, str(demo_student_ckpt), '--out', str(out), '--force',
          '--tolerance', '0.5'])
    assert folder_bytes(out) != before
    with pytest.raises(SystemExit) as info:
        load_tool('tools/deployment/export.py')['parse_args'](['--help'])
    assert info.value.code == 0
    assert re.search(r'--tolerance.*default 0\.0001', capsys.readouterr().out,
                     re.S)


def test_export_tool_exit_status_when_off(demo_student_ckpt, tmp_path):
    """A tolerance below float32 noise fails a correct export: the real
    exit status, the message on stderr, no folder left."""
    out = tmp_path / 'deploy'
    proc = run_tool('tools/deployment/export.py', DEMO, demo_student_ckpt,
                    '--out', out, '--format', 'onnx', '--tolerance', '1e-15')
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert re.search(r'student\.onnx: relative L2 error \d\.\d+e-\d+ vs '
                     r'MMagic exceeds the tolerance 1\.0e-15', proc.stderr)
    assert not out.exists()


def test_readme_onnx_example_writes_a_png(exported, tmp_path):
    """docs/deployment.md's onnxruntime example, as is."""
    text = open(osp.join(REPO, 'docs', 'deployment.md')).read()
    blocks = [b.split('```')[0] for b in text.split('```python\n')[1:]]
    code, = [b for b in blocks if 'ort.InferenceSession' in b]
    onnx_file = exported[0] / 'student.onnx'
    code = code.replace('work_dirs/deploy/student.onnx', str(onnx_file))
    code = code.replace("'samples.png'", repr(str(tmp_path / 's.png')))
    assert len(code.strip().splitlines()) <= 10
    exec(compile(code, 'deploy_example', 'exec'), {})
    from PIL import Image
    png = np.asarray(Image.open(tmp_path / 's.png'))
    session = ort.InferenceSession(str(onnx_file))
    z = np.random.default_rng(0).standard_normal((8, 128), dtype=np.float32)
    images = session.run(['image'], {'z': z})[0]  # 8 images side by side
    expected = np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1)
    expected = ((expected.clip(-1, 1) + 1) * 127.5).round()
    assert png.shape == (32, 8 * 32, 3)
    assert np.abs(png - expected).max() <= 1
