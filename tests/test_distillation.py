"""StyleKD distillation: losses, directions, models under MMagic's runner."""
import copy
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

import mmstylekd

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'


# ------------------------------------------------------------- the losses
def test_relation_loss_matches_hand_computation():
    torch.manual_seed(0)
    s_feats = [torch.randn(6, 2, 3, 3), torch.randn(6, 4)]
    t_feats = [torch.randn(6, 2, 3, 3), torch.randn(6, 4)]

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(
            sum(x * x for x in a) * sum(y * y for y in b))

    def softmax(row):
        e = [math.exp(v) for v in row]
        return [v / sum(e) for v in e]

    expected_kl, expected_mse = 0.0, 0.0
    for s, t in zip(s_feats, t_feats):
        s_rows = [r.flatten().tolist() for r in s]
        t_rows = [r.flatten().tolist() for r in t]
        for i in range(3):
            s_rel = [cos(s_rows[i], s_rows[3 + j]) for j in range(3)]
            t_rel = [cos(t_rows[i], t_rows[3 + j]) for j in range(3)]
            p, q = softmax(t_rel), softmax(s_rel)
            expected_kl += sum(
                pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q)) / 3
            expected_mse += sum(
                (a - b)**2 for a, b in zip(s_rel, t_rel)) / 9
    loss = MODELS.build(dict(type='LatentDirectionLoss', loss_weight=1.0))
    assert loss(s_feats, t_feats).item() == pytest.approx(expected_kl,
                                                          rel=1e-5)
    weighted = MODELS.build(
        dict(type='LatentDirectionLoss', loss_weight=30.0))
    assert weighted(s_feats, t_feats).item() == pytest.approx(
        30 * expected_kl, rel=1e-5)
    mse = MODELS.build(dict(type='LatentDirectionLoss', mode='mse'))
    assert mse(s_feats, t_feats).item() == pytest.approx(expected_mse,
                                                         rel=1e-5)
    assert loss(t_feats, t_feats).item() == pytest.approx(0, abs=1e-6)


def test_relation_loss_rejects_odd_batches():
    loss = MODELS.build(dict(type='LatentDirectionLoss'))
    with pytest.raises(ValueError, match='even'):
        loss([torch.randn(3, 4)], [torch.randn(3, 4)])
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(dict(type='LatentDirectionLoss', mode='l3'))


# ------------------------------------------------------------- directions
def hand_directions(weights, k):
    """numpy: normalise columns of A^T, eigenvectors of A A^T, top k."""
    a = np.concatenate(weights).T.astype(np.float64)
    a = a / np.linalg.norm(a, axis=0, keepdims=True)
    vals, vecs = np.linalg.eigh(a @ a.T)
    return vecs[:, np.argsort(vals)[::-1][:k]].T


def test_split_and_global_directions_match_hand_computation():
    torch.manual_seed(0)
    gen = MODELS.build(dict(type='StyleGAN2Generator', out_size=32,
                            style_channels=16, num_mlps=1))
    w = [[gen.convs[i].conv.style_modulation.linear.weight_orig.detach()
          .numpy(), gen.convs[i + 1].conv.style_modulation.linear
          .weight_orig.detach().numpy()] for i in (0, 2, 4)]
    split = mmstylekd.compute_latent_directions(gen, num_blocks=2,
                                                per_block=3)
    assert split.shape == (6, 16)
    expected = np.concatenate([hand_directions(w[0], 3),
                               hand_directions(w[1], 3)])
    # eigenvectors are defined up to sign
    assert np.allclose(np.abs(split.numpy()), np.abs(expected), atol=1e-5)
    glob = mmstylekd.compute_latent_directions(gen, num_blocks=3,
                                               per_block=2, mode='global')
    expected = hand_directions(w[0] + w[1] + w[2], 6)
    assert np.allclose(np.abs(glob.numpy()), np.abs(expected), atol=1e-5)
    rand = mmstylekd.compute_latent_directions(gen, 2, mode='random', seed=1)
    assert torch.allclose(rand.norm(dim=1), torch.ones(10))
    assert torch.equal(
        rand, mmstylekd.compute_latent_directions(gen, 2, mode='random',
                                                  seed=1))
    with pytest.raises(ValueError, match='num_blocks'):
        mmstylekd.compute_latent_directions(gen, num_blocks=4)


# -------------------------------------------------------------- distiller
def test_distiller_wiring_is_validated():
    def build(**mapping):
        return MODELS.build(dict(
            type='StyleKDDistiller',
            distill_losses=dict(loss_a=dict(type='L1Loss')),
            loss_forward_mappings=dict(loss_a=mapping)))

    target = dict(from_student=False, output='images_orig')
    with pytest.raises(KeyError, match='loss_b'):
        MODELS.build(dict(type='StyleKDDistiller',
                          distill_losses=dict(loss_a=dict(type='L1Loss')),
                          loss_forward_mappings=dict(loss_b=dict())))
    with pytest.raises(ValueError, match="no argument 'student'"):
        MODELS.build(dict(
            type='StyleKDDistiller',
            distill_losses=dict(loss_a=dict(type='LatentDirectionLoss')),
            loss_forward_mappings=dict(loss_a=dict(
                student=dict(from_student=True, recorder='feats'),
                teacher_feats=dict(from_student=False, recorder='feats')))))
    # MMagic's L1Loss takes **kwargs: a misspelt name leaves `pred` unfed
    with pytest.raises(ValueError, match=r"needs \['pred'\]"):
        build(prediction=dict(from_student=True, output='images'),
              target=target)
    with pytest.raises(ValueError, match=r"needs \['target'\]"):
        build(pred=dict(from_student=True, output='images'))
    with pytest.raises(ValueError, match="unknown output 'logits'"):
        build(pred=dict(from_student=True, output='logits'), target=target)
    with pytest.raises(ValueError, match="output='images'"):
        build(pred=dict(from_student=True, recorder='images'), target=target)
    with pytest.raises(ValueError, match='student recorder'):
        build(pred=dict(from_student=True, recorder='mine'), target=target)
    with pytest.raises(ValueError, match='exactly one'):
        build(pred=dict(from_student=True, output='images', recorder='x'),
              target=target)


# ------------------------------------------------------------------ model
def tiny_cfg(**model):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.model.update(model)
    return cfg


def build_model(**model):
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg(**model).model)


def test_teacher_and_student_see_same_w_noise_and_mixing():
    """A ratio-0 student initialised from the teacher must reproduce the
    teacher on the doubled batch: same z, inject index, noise, offsets."""
    model = build_model(generator=dict(
        type='StyleGAN2StudentGenerator', out_size=16, style_channels=32,
        num_mlps=2, ratio=0.0, teacher_channels={4: 32, 8: 32, 16: 16}))
    model.fresh_start_init(model)
    model.train()
    model.generator.mix_prob = 1.0  # always mix
    outputs = model.synthesise_pair(model.draw_shared_inputs(3))
    student, teacher = outputs[True], outputs[False]
    assert student['images'].shape == (6, 3, 16, 16)
    assert student['images_orig'].shape == (3, 3, 16, 16)
    assert torch.equal(student['images_orig'], student['images'][:3])
    assert torch.equal(student['images_shifted'], student['images'][3:])
    assert torch.allclose(student['images'], teacher['images'], atol=1e-5)
    for s, t in zip(model.distiller.recorded(True, 'feats'),
                    model.distiller.recorded(False, 'feats')):
        assert s.shape[0] == 6 and torch.allclose(s, t, atol=1e-5)
    # W+: every style layer, and mixing makes the layers differ
    assert student['w'].shape == (3, model.generator.num_latents, 32)
    assert not torch.equal(student['w'][:, 0], student['w'][:, -1])
    assert torch.equal(student['w'], teacher['w'])
    # the second half is shifted: not the same images as the first
    assert not torch.allclose(student['images'][:3], student['images'][3:])


def test_noise_is_per_sample_and_the_same_for_teacher_and_student():
    from mmagic.models.editors.stylegan1.stylegan1_modules import \
        NoiseInjection
    model = build_model()
    model.fresh_start_init(model)
    model.train()
    received = {True: [], False: []}
    for side, gen in ((True, model.generator), (False, model.teacher)):
        for module in gen.modules():
            if isinstance(module, NoiseInjection):
                module.register_forward_pre_hook(
                    lambda m, args, kwargs, side=side: received[side].append(
                        kwargs['noise']), with_kwargs=True)
    model.synthesise_pair(model.draw_shared_inputs(3))
    assert len(received[True]) == len(received[False]) == \
        model.generator.num_injected_noises
    for s_noise, t_noise in zip(received[True], received[False]):
        assert s_noise.shape[:2] == (6, 1)  # [w; w + d], one map each
        assert torch.equal(s_noise, t_noise)
        assert torch.equal(s_noise[:3], s_noise[3:])  # shifted = its sample
        assert not torch.equal(s_noise[0], s_noise[1])  # per sample


def test_teacher_is_frozen_and_stays_in_eval_mode():
    model = build_model()
    model.train()
    assert not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    assert model.generator.training


def test_ema_starts_from_the_initialised_student():
    model = build_model()
    model.fresh_start_init(model)
    for (k, v), (k2, v2) in zip(model.generator.state_dict().items(),
                                model.generator_ema.module.state_dict()
                                .items()):
        assert k == k2 and torch.equal(v, v2)
    conv = model.generator.convs[0].conv.weight_orig
    assert conv.shape[1] == 16  # 32 -> 16 channels, ratio 0.5


def scalars(work_dir):
    path = [p for p in sorted(
        __import__('glob').glob(f'{work_dir}/*/vis_data/scalars.json'))][-1]
    return [json.loads(line) for line in open(path)]


def test_train_logs_every_loss_and_trains_student_only(tmp_path):
    work = tmp_path / 'work'
    check(run_tool('tools/train.py', TINY, '--work-dir', work))
    records = scalars(work)
    assert len(records) == 3
    for key in ('loss_l1', 'loss_rgb_l1', 'loss_w_mse', 'loss_relation',
                'loss_gen', 'loss_disc_fake', 'loss_disc_real'):
        assert all(key in r and math.isfinite(r[key]) for r in records), key
    ckpt = torch.load(work / 'iter_3.pth', map_location='cpu')
    state = ckpt['state_dict']
    # the frozen teacher is rebuilt from teacher_ckpt, not checkpointed
    assert not any(k.startswith('teacher.') for k in state)
    assert state['generator.convs.0.conv.weight_orig'].shape[1] == 16


def test_resume_continues_with_identical_losses(tmp_path):
    def losses(work):
        return [r['loss_relation'] for r in scalars(work)
                if r.get('step', 0) > 10]

    straight = tmp_path / 'straight'
    check(run_tool('tools/train.py', TINY, '--work-dir', straight,
                   '--cfg-options', 'train_cfg.max_iters=20'))
    split = tmp_path / 'split'
    check(run_tool('tools/train.py', TINY, '--work-dir', split,
                   '--cfg-options', 'train_cfg.max_iters=10'))
    check(run_tool('tools/train.py', TINY, '--work-dir', split, '--resume',
                   '--cfg-options', 'train_cfg.max_iters=20'))
    assert len(losses(straight)) == 10
    assert losses(split) == losses(straight)


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    cfg = tiny_cfg()
    cfg.model.distiller.distill_losses.loss_l1.loss_weight = float('nan')
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError,
                       match=r'at iteration 0, generator step: loss_l1 '
                       r'\(1 of 1 process\(es\)\)'):
        runner.train()


def test_distillation_only_mode(tmp_path):
    cfg = tiny_cfg(discriminator=None, use_gan_loss=False)
    cfg.optim_wrapper.pop('discriminator')
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_iters = 2
    runner = Runner.from_cfg(cfg)
    before = copy.deepcopy(runner.model.generator.convs[0].conv.weight_orig)
    runner.train()
    after = runner.model.generator.convs[0].conv.weight_orig
    assert not torch.equal(before, after)
    assert runner.model.discriminator is None


SG3_TEACHER = dict(
    type='StyleGAN3Generator', out_size=16, style_channels=16,
    img_channels=3, noise_size=16,
    synthesis_cfg=dict(type='SynthesisNetwork', channel_base=512,
                       channel_max=16, num_layers=4, num_critical=2,
                       margin_size=2),
    mapping_cfg=dict(type='MappingNetwork', num_layers=2))


def test_stylegan3_distillation_trains(tmp_path):
    cfg = tiny_cfg()
    student = dict(SG3_TEACHER, type='StyleGAN3StudentGenerator', ratio=0.5)
    cfg.model = dict(
        cfg.model, type='StyleKDStyleGAN3', teacher=SG3_TEACHER,
        generator=student, feature_layers=[1, 2],
        latent_directions=dict(num_blocks=2, per_block=2, mode='split'))
    cfg.model.distiller.distill_losses.pop('loss_rgb_l1')
    cfg.model.distiller.loss_forward_mappings.pop('loss_rgb_l1')
    cfg.model.loss_config = dict(r1_interval=4, g_reg_interval=100)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_iters = 1
    runner = Runner.from_cfg(cfg)
    magnitude = {k: v.clone() for k, v in runner.model.teacher.state_dict()
                 .items() if 'magnitude_ema' in k}
    runner.train()
    for k, v in runner.model.teacher.state_dict().items():
        if 'magnitude_ema' in k:  # teacher's running averages never move
            assert torch.equal(v, magnitude[k])
    log = runner.message_hub.get_scalar('train/loss_relation').current()
    assert math.isfinite(log)


# ------------------------------------------------------------------ LPIPS
@pytest.fixture(scope='module')
def local_vgg_home(tmp_path_factory):
    """A TORCH_HOME holding a locally built VGG16 under torchvision's name,
    so LPIPS's real loading path runs offline."""
    import torchvision
    home = tmp_path_factory.mktemp('torch_home')
    ckpt_dir = home / 'hub' / 'checkpoints'
    ckpt_dir.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.vgg16().state_dict(),
               ckpt_dir / 'vgg16-397923af.pth')
    return home


def test_lpips_offline_error_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        MODELS.build(dict(type='LPIPSLoss'))
    assert 'vgg16-397923af.pth' in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_lpips_loads_a_local_backbone(local_vgg_home, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(local_vgg_home))
    loss = MODELS.build(dict(type='LPIPSLoss', loss_weight=3.0))
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    assert loss(a, a).item() == pytest.approx(0, abs=1e-6)
    b = torch.rand(2, 3, 32, 32) * 2 - 1
    assert loss(a, b).item() > 0
    big = F.interpolate(a, size=512)
    assert torch.isfinite(loss(big, big + 0.1))


def shrink_paper_config(name, tmp_path):
    """The paper config with its models and data shrunk to 16 px."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/stylekd', name))
    model = cfg.model
    model.teacher_ckpt = None
    for gen in (model.teacher, model.generator):
        gen.out_size = 16
        gen.style_channels = 16
        if 'synthesis_cfg' in gen:
            gen.noise_size = 16
            gen.synthesis_cfg.update(channel_base=512, channel_max=32,
                                     num_layers=4, num_critical=2,
                                     margin_size=2)
            gen.mapping_cfg = dict(type='MappingNetwork', num_layers=2)
        else:
            gen.num_mlps = 2
    model.discriminator.in_size = 16
    model.student_init.criterion.update(num_samples=2, batch_size=2)
    model.latent_directions.num_blocks = 2
    model.feature_layers = [8, 16] if 'stylegan2' in name else [1, 2]
    model.loss_config.update(r1_interval=2, g_reg_interval=2)
    cfg.train_dataloader = dict(
        batch_size=2, num_workers=0, persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(type='DigitsDataset', pipeline=[
            dict(type='Resize', keys='gt', scale=(16, 16)),
            dict(type='PackInputs')]))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.train_cfg = dict(by_epoch=False, max_iters=2)
    cfg.custom_hooks = [dict(type='RandomStateHook')]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.checkpoint.save_best = None
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.work_dir = str(tmp_path)
    return cfg


@pytest.mark.parametrize('name', [
    'stylekd_stylegan2_c2_ffhq-256x256.py',
    'stylekd_stylegan3-t_ffhq-256x256.py'
])
def test_paper_configs_train_with_every_loss(name, tmp_path, local_vgg_home,
                                             monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(local_vgg_home))
    runner = Runner.from_cfg(shrink_paper_config(name, tmp_path))
    batch = runner.cfg.train_dataloader.batch_size
    seen = {}
    for loss_name, loss in runner.model.distiller.distill_losses.items():
        def spy(*args, _name=loss_name, _forward=loss.forward, **kwargs):
            seen[_name] = [
                tuple(v.shape) if torch.is_tensor(v) else
                [tuple(x.shape) for x in v] for v in kwargs.values()
            ]
            return _forward(*args, **kwargs)

        loss.forward = spy
    runner.train()
    # the output losses compare the B unshifted images only (official)
    assert seen['loss_l1'] == seen['loss_lpips'] == [(batch, 3, 16, 16)] * 2
    # the relation loss sees the doubled batch [w; w + d]
    assert all(shape[0] == 2 * batch
               for shape in seen['loss_latent_direction'][0])
    hub = runner.message_hub
    for key in ('loss_l1', 'loss_lpips', 'loss_latent_direction',
                'loss_gen', 'loss_disc_fake'):
        value = hub.get_scalar(f'train/{key}').current()
        assert math.isfinite(value), key
    state = torch.load(tmp_path / 'iter_2.pth')['state_dict']
    # neither the frozen teacher nor LPIPS's VGG are checkpointed
    assert not [k for k in state if k.startswith(('teacher.', 'distiller.'))]
    assert any(k.startswith('generator.') for k in state)
