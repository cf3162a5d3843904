"""DiversityAwareImportance (DCP-GAN) on MMagic's real StyleGAN2/3."""
import copy
import os.path as osp

import pytest
import torch
from conftest import REPO, build_noisy_generator
from mmagic.registry import MODELS, TASK_UTILS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.models import (copy_generator, init_student_from_teacher,
                              prune_generator)
from mmstylekd.models.pruning import (DiversityAwareImportance,
                                      diversity_importance)

# narrow teachers: our explicit-width generators ...
OURS_SG2 = dict(type='StyleGAN2StudentGenerator', out_size=16,
                style_channels=16, num_mlps=2,
                channels={4: 16, 8: 12, 16: 8})
SYN3 = dict(type='SynthesisNetwork', channel_base=1024, channel_max=64,
            num_layers=4, num_critical=2, margin_size=2)
OURS_SG3 = dict(type='StyleGAN3StudentGenerator', out_size=16,
                style_channels=16, img_channels=3, noise_size=16,
                channels=[12, 10, 8, 6], synthesis_cfg=SYN3,
                mapping_cfg=dict(type='MappingNetwork', num_layers=2))
# ... and MMagic's own
MMAGIC_SG2 = dict(type='StyleGAN2Generator', out_size=16, style_channels=16,
                  num_mlps=2)
MMAGIC_SG3 = dict(type='StyleGAN3Generator', out_size=16, style_channels=16,
                  img_channels=3, noise_size=16, synthesis_cfg=SYN3,
                  mapping_cfg=dict(type='MappingNetwork', num_layers=2))
TINY = 'tests/configs/stylekd_tiny_stylegan2-16x16.py'
CRIT = dict(type='DiversityAwareImportance', num_samples=3, batch_size=2,
            num_directions=3, strength=5.0, pca_samples=200, seed=4)


def half_width_student(teacher_cfg):
    """Student config with half of every teacher width."""
    cfg = dict(teacher_cfg)
    cfg['type'] = ('StyleGAN2StudentGenerator' if 'StyleGAN2' in cfg['type']
                   else 'StyleGAN3StudentGenerator')
    widths = cfg.pop('channels', None)
    if widths is None:  # MMagic's layout: the ratio applies to it
        cfg['ratio'] = 0.5
    elif isinstance(widths, dict):
        cfg.update(teacher_channels=widths, ratio=0.5)
    else:
        cfg['channels'] = [c - c // 2 for c in widths]
    return cfg


def readers(gen):
    """{root name: the layer whose input channels read the root's output}
    (written out by hand from the architecture)."""
    if hasattr(gen, 'synthesis'):
        names = gen.synthesis.layer_names
        out = {'synthesis.input': getattr(gen.synthesis, names[0])}
        out.update({f'synthesis.{a}': getattr(gen.synthesis, b)
                    for a, b in zip(names[:-1], names[1:])})
        return out
    out = {'constant_input': gen.conv1, 'conv1': gen.convs[0]}
    last = len(gen.convs) - 1
    out.update({f'convs.{i}': gen.convs[i + 1] for i in range(last)})
    out[f'convs.{last}'] = gen.to_rgbs[-1]
    return out


def reader_weight(layer):
    """(C_out, C_in, k, k) weight as stored (equalised-lr: unscaled)."""
    if hasattr(layer, 'conv'):  # StyleGAN2 modulated conv / to-RGB
        return layer.conv.weight_orig
    return layer.weight


def hand_scores(teacher, num_samples, batch_size, num_directions, strength,
                pca_samples, seed):
    """DCP-GAN's score written out with explicit loops: a fresh forward
    per direction (as the official code), PCA by eigen-decomposition of the
    covariance, and autograd on the stored weights of the next layer."""
    gen_model = copy.deepcopy(teacher).eval().requires_grad_(True)
    sg3 = hasattr(gen_model, 'synthesis')

    def mapping(z):
        w = gen_model.style_mapping(z)
        return w[:, 0] if sg3 else w

    with torch.no_grad():
        z = torch.randn(pca_samples, gen_model.noise_size,
                        generator=torch.Generator().manual_seed(seed))
        w = mapping(z).double()
    evals, evecs = torch.linalg.eigh(torch.cov(w.T))
    order = evals.argsort(descending=True)
    dirs = evecs[:, order].T
    for row in dirs:  # sign rule: largest-magnitude entry positive
        if row[row.abs().argmax()] < 0:
            row.neg_()
    dirs = dirs.float()
    probs = (evals[order] / evals.sum()).float()

    layers = readers(gen_model)
    scores = {name: 0.0 for name in layers}
    rng = torch.Generator().manual_seed(seed + 1)
    for start in range(0, num_samples, batch_size):
        n = min(batch_size, num_samples - start)
        z = torch.randn(n, gen_model.noise_size, generator=rng)
        picks = torch.multinomial(probs, num_directions, replacement=True,
                                  generator=rng)
        kwargs = {}
        if not sg3:
            kwargs['injected_noise'] = [  # one map per sample and layer
                torch.randn(n, 1, *getattr(
                    gen_model, f'injected_noise_{i}').shape[-2:],
                    generator=rng)
                for i in range(gen_model.num_injected_noises)
            ]
        with torch.no_grad():
            w = mapping(z)
        per_dir = {name: [] for name in layers}
        for idx in picks.tolist():
            w2 = w + strength * dirs[idx]
            if sg3:
                img = gen_model(w, input_is_latent=True)
                with torch.no_grad():
                    img2 = gen_model(w2, input_is_latent=True)
            else:
                img = gen_model([w], input_is_latent=True, **kwargs)
                with torch.no_grad():
                    img2 = gen_model([w2], input_is_latent=True, **kwargs)
            loss = (img2 - img).abs().sum()
            weights = [reader_weight(m) for m in layers.values()]
            grads = torch.autograd.grad(loss, weights)
            for name, grad in zip(layers, grads):
                grad = grad[0] if grad.dim() == 5 else grad
                per_dir[name].append(grad.abs().mean(dim=(0, 2, 3)))
        for name, values in per_dir.items():
            g = torch.stack(values)
            scores[name] = scores[name] + ((g - g.mean(0))**2).sum(0)
    return scores


@pytest.fixture
def captured_scores(monkeypatch):
    """Scores the criterion computes inside prune_generator, by root name."""
    captured = {}
    compute = DiversityAwareImportance.compute

    def spy(self, generator, arch, roots):
        out = compute(self, generator, arch, roots)
        captured.update({name: out[module] for name, module in roots})
        return out

    monkeypatch.setattr(DiversityAwareImportance, 'compute', spy)
    return captured


# StyleGAN2: two batches, the second one short; StyleGAN3 (slow mmcv
# reference ops on CPU): one batch
@pytest.mark.parametrize('cfg,num_samples', [(OURS_SG2, 3), (OURS_SG3, 2)],
                         ids=['stylegan2', 'stylegan3'])
def test_scores_match_hand_computation(cfg, num_samples, captured_scores):
    teacher = build_noisy_generator(cfg)
    crit = dict(CRIT, num_samples=num_samples)
    result = prune_generator(copy_generator(teacher), ratio=0.5,
                             criterion=crit)
    params = {k: v for k, v in crit.items() if k != 'type'}
    expected = hand_scores(teacher, **params)
    assert captured_scores.keys() == expected.keys()
    for name, score in expected.items():
        assert score.min() >= 0 and score.max() > 0, name
        torch.testing.assert_close(
            captured_scores[name], score, rtol=1e-4, atol=1e-12, msg=name)
        keep = len(result.kept[name])
        top = sorted(torch.topk(score, keep).indices.tolist())
        assert result.kept[name] == top, name


@pytest.mark.parametrize('cfg', [OURS_SG2, OURS_SG3],
                         ids=['stylegan2', 'stylegan3'])
def test_only_the_latent_differs_between_the_two_images(cfg,
                                                        captured_scores):
    # zero strength: original and perturbed images must be identical (same
    # injected noise), so every gradient and every score is zero
    teacher = build_noisy_generator(cfg)
    prune_generator(copy_generator(teacher), ratio=0.5,
                    criterion=dict(CRIT, num_samples=2, strength=0.0))
    assert captured_scores
    for name, score in captured_scores.items():
        assert torch.count_nonzero(score) == 0, name


def test_principal_directions_of_known_spread():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(2000, 3, generator=gen) * torch.tensor([0.5, 5.0, 2.0])
    w = w + torch.tensor([3.0, -7.0, 1.0])  # an offset: PCA centres
    dirs, ratios = diversity_importance.principal_directions(w)
    assert dirs.shape == (3, 3) and ratios.shape == (3, )
    torch.testing.assert_close(dirs @ dirs.T, torch.eye(3), atol=1e-5,
                               rtol=0)
    assert dirs[0].abs().argmax() == 1 and dirs[0, 1] > 0.99
    assert dirs[1].abs().argmax() == 2 and dirs[2].abs().argmax() == 0
    assert ratios.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert ratios[0] > ratios[1] > ratios[2]
    assert ratios[0].item() == pytest.approx(25 / 29.25, abs=0.03)
    # -w: the same directions, with the same signs (the sign rule)
    flipped, _ = diversity_importance.principal_directions(-w)
    torch.testing.assert_close(flipped, dirs, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    'cfg', [MMAGIC_SG2, OURS_SG2, MMAGIC_SG3, OURS_SG3],
    ids=['mmagic-sg2', 'ours-sg2', 'mmagic-sg3', 'ours-sg3'])
def test_builds_a_working_student(cfg):
    teacher = build_noisy_generator(cfg)
    student = MODELS.build(half_width_student(cfg)).eval()
    report = init_student_from_teacher(
        student, teacher,
        criterion=dict(CRIT, num_samples=2, num_directions=2))
    weight_l1 = prune_generator(copy_generator(teacher), ratio=0.5).kept
    assert report['criterion']['type'] == 'DiversityAwareImportance'
    for kept in report['kept'].values():
        assert len(kept) == len(set(kept)) and kept == sorted(kept)
    assert report['kept'] != weight_l1  # the criterion decided
    with torch.no_grad():
        img = student(torch.randn(2, 16))
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()


def test_bad_arguments_and_missing_consumers():
    with pytest.raises(ValueError, match='num_directions'):
        TASK_UTILS.build(dict(type='DiversityAwareImportance',
                              num_directions=0))
    importance = TASK_UTILS.build(dict(CRIT))
    teacher = build_noisy_generator(OURS_SG2)
    from mmstylekd.models import architecture_of
    arch = architecture_of(teacher)
    with pytest.raises(RuntimeError, match='consumers'):
        importance.compute(teacher, arch, arch.roots(teacher))


def test_selected_from_config(captured_scores):
    cfg = Config.fromfile(osp.join(REPO, TINY))
    cfg.merge_from_dict({
        'model.student_init.criterion.type': 'DiversityAwareImportance',
        'model.student_init.criterion.num_samples': 2,
        'model.student_init.criterion.num_directions': 2,
        'model.student_init.criterion.pca_samples': 100
    })
    teacher = build_noisy_generator(OURS_SG2)
    student = MODELS.build(half_width_student(OURS_SG2))
    report = init_student_from_teacher(student, teacher,
                                       **cfg.model.student_init)
    assert report['criterion']['type'] == 'DiversityAwareImportance'
    assert captured_scores  # the criterion computed the scores
