"""GAN inversion: library (mmstylekd.evaluation.gan_inversion) and tool."""
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO, build_noisy_generator, check, run_tool
from mmagic.registry import DATASETS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.evaluation.gan_inversion import (invert_images,
                                                load_digit_images,
                                                load_image_folder, synthesise)

SG2 = dict(type='StyleGAN2StudentGenerator', out_size=8, style_channels=16,
           num_mlps=2, channels={4: 16, 8: 8})
SYN3 = dict(type='SynthesisNetwork', channel_base=1024, channel_max=32,
            num_layers=4, num_critical=2, margin_size=2)
SG3 = dict(type='StyleGAN3Generator', out_size=16, style_channels=16,
           img_channels=3, noise_size=16, synthesis_cfg=SYN3,
           mapping_cfg=dict(type='MappingNetwork', num_layers=2))
DEMO = 'configs/demo/stylekd_stylegan2_digits-32x32.py'
DEMO_TEACHER = 'checkpoints/stylegan2_digits-32x32_teacher_iter6000.pth'


def own_image(generator, seed=3):
    """An image the generator makes from a known w (its fixed noise)."""
    z = torch.randn(2, generator.noise_size,
                    generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        w = generator.style_mapping(z)
        w = w[:, 0] if w.dim() == 3 else w
        num_ws = (generator.synthesis.num_ws if hasattr(
            generator, 'synthesis') else generator.num_latents)
        return synthesise(generator, w[:, None].repeat(1, num_ws, 1))


@pytest.mark.parametrize('cfg', [SG2, SG3], ids=['stylegan2', 'stylegan3'])
def test_synthesis_is_the_generators_own_forward(cfg):
    generator = build_noisy_generator(cfg)
    w = torch.randn(2, 16)
    ws = w[:, None].repeat(1, 4 if cfg is SG2 else generator.num_ws, 1)
    with torch.no_grad():
        if cfg is SG2:  # the buffered noise, not a fresh draw
            noise = [getattr(generator, f'injected_noise_{i}')
                     for i in range(generator.num_injected_noises)]
            expected = generator(w, input_is_latent=True,
                                 injected_noise=noise)
        else:
            expected = generator(w, input_is_latent=True)
        assert torch.equal(synthesise(generator, ws), expected)
        assert torch.equal(synthesise(generator, ws), expected)


def test_inverting_the_generators_own_image():
    generator = build_noisy_generator(SG2)
    target = own_image(generator)
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    short = invert_images(generator, target, steps=20, w_avg_samples=500,
                          progress=False)
    long = invert_images(generator, target, steps=200, w_avg_samples=500,
                         progress=False)
    assert short.loss == long.loss == 'mse'
    assert long.latents.shape == (2, 16) and long.images.shape == target.shape
    assert (long.psnr > short.psnr + 15).all()
    assert long.psnr.min() > 35  # found (nearly) the w that made it
    # the reported PSNR is that of the returned reconstructions, on images
    # clamped to [-1, 1] and mapped to [0, 1]
    diff = (long.images.clamp(-1, 1) - target.clamp(-1, 1)) / 2
    mse = (diff**2).flatten(1).mean(1)
    torch.testing.assert_close(long.psnr, -10 * torch.log10(mse))
    for k, v in generator.state_dict().items():  # generator untouched
        assert torch.equal(v, before[k]), k
    assert all(p.requires_grad for p in generator.parameters())


def test_stylegan3_inversion_improves():
    generator = build_noisy_generator(SG3)
    target = own_image(generator)
    short = invert_images(generator, target, steps=2, w_avg_samples=200,
                          progress=False)
    long = invert_images(generator, target, steps=20, w_avg_samples=200,
                         progress=False)
    assert long.latents.shape == (2, 16)
    assert long.psnr.mean() > short.psnr.mean()


def test_w_plus_and_lpips_loss():
    import lpips
    generator = build_noisy_generator(
        dict(SG2, out_size=32, channels={4: 8, 8: 8, 16: 8, 32: 8}))
    target = own_image(generator)
    # LPIPS with a random backbone (no download): exercises the loss path
    lp = lpips.LPIPS(net='alex', pnet_rand=True, verbose=False)
    result = invert_images(generator, target, steps=5, space='w+',
                           lpips_model=lp, w_avg_samples=200,
                           progress=False)
    assert result.loss == 'mse+lpips'
    assert result.latents.shape == (2, generator.num_latents, 16)
    assert torch.isfinite(result.psnr).all()
    mse_only = invert_images(generator, target, steps=5, space='w+',
                             w_avg_samples=200, progress=False)
    assert not torch.allclose(mse_only.latents, result.latents)
    with pytest.raises(ValueError, match='space'):
        invert_images(generator, target, space='z')
    with pytest.raises(ValueError, match=r'\(N, 3, 32, 32\)'):
        invert_images(generator, target[:, :, :16])


def test_image_folder(image_folder, tmp_path):
    (image_folder / 'notes.txt').write_text('not an image')
    images = load_image_folder(str(image_folder), 32)
    assert images.shape == (8, 3, 32, 32)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.2  # the random blobs, not a constant
    with pytest.raises(FileNotFoundError, match='missing_dir'):
        load_image_folder(str(tmp_path / 'missing_dir'), 32)
    empty = tmp_path / 'empty_dir'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='No image files.*empty_dir'):
        load_image_folder(str(empty), 32)
    (empty / 'broken.png').write_text('not a png')
    with pytest.raises(ValueError, match='broken.png'):
        load_image_folder(str(empty), 32)


def test_digits_are_served_like_the_demo_training_data():
    images = load_digit_images(5, 32)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/digits_32x32.py'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    for i in range(5):
        expected = dataset[i]['data_samples'].gt_img.float() / 127.5 - 1
        torch.testing.assert_close(images[i], expected)
    with pytest.raises(ValueError, match='1797'):
        load_digit_images(5000, 32)


def load_tool(path='tools/analysis_tools/inversion.py'):
    path = osp.join(REPO, path)
    spec = importlib.util.spec_from_file_location(osp.basename(path)[:-3],
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def demo_student(tmp_path_factory):
    """A pruned-init demo student from the committed teacher."""
    out = tmp_path_factory.mktemp('student') / 'student.pth'
    with pytest.MonkeyPatch.context() as patch:  # tools/prune.py, in-process
        patch.chdir(REPO)
        patch.setattr(sys, 'argv', ['prune.py', DEMO, '--out', str(out)])
        load_tool('tools/prune.py').main()
    return out


def test_tool_end_to_end_on_the_demo(demo_student, tmp_path):
    proc = check(run_tool('tools/analysis_tools/inversion.py', DEMO,
                          demo_student, '--digits', '4', '--steps', '3',
                          '--json', env=dict(TORCH_HOME=str(tmp_path))))
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures['num_images'] == 4 and figures['steps'] == 3
    assert figures['loss'] == 'mse'  # no VGG weights in this TORCH_HOME
    assert 'plain MSE: LPIPS unavailable' in proc.stdout
    for name in ('teacher', 'student'):
        assert 5 < figures[f'{name}_psnr'] < 60
        assert f'{name}: inversion PSNR' in proc.stdout


@pytest.mark.parametrize('problem', ['student', 'teacher', 'dir', 'empty'])
def test_tool_errors_name_the_problem(problem, demo_student, tmp_path,
                                      monkeypatch):
    empty = tmp_path / 'empty_dir'
    empty.mkdir()
    args = [DEMO, str(demo_student), '--digits', '2', '--steps', '1',
            '--no-lpips']
    expected = {
        'student': 'missing_student.pth',
        'teacher': 'missing_teacher.pth',
        'dir': 'missing_dir',
        'empty': 'empty_dir'
    }[problem]
    if problem == 'student':
        args[1] = str(tmp_path / expected)
    elif problem == 'teacher':
        args += ['--teacher-checkpoint', str(tmp_path / expected)]
    else:
        folder = empty if problem == 'empty' else tmp_path / expected
        args[2:4] = ['--images', str(folder)]
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, 'argv', ['inversion.py'] + args)
    with pytest.raises(SystemExit) as err:
        load_tool().main()
    assert str(err.value).startswith('error:')
    assert expected in str(err.value)
