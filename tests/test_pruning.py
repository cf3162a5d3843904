"""Student builder: torch-pruning on MMagic's real StyleGAN2/3 generators."""
import pytest
import torch
from conftest import build_noisy_generator
from mmagic.registry import MODELS

import mmstylekd  # noqa: F401
from mmstylekd.models import (copy_generator, init_student_from_teacher,
                              kept_channels, prune_generator)
from mmstylekd.models.pruning import ContentAwareImportance, importance

SG2 = dict(type='StyleGAN2Generator', out_size=16, style_channels=16,
           num_mlps=2)
SYN3 = dict(type='SynthesisNetwork', channel_base=1024, channel_max=64,
            num_layers=4, num_critical=2, margin_size=2)
SG3 = dict(type='StyleGAN3Generator', out_size=16, style_channels=16,
           img_channels=3, noise_size=16, synthesis_cfg=SYN3,
           mapping_cfg=dict(type='MappingNetwork', num_layers=2))
CRITERIA = [
    dict(type='WeightL1Importance'),
    dict(type='StyleAwareImportance', num_samples=16),
    dict(type='RandomImportance', seed=3),
    dict(type='ContentAwareImportance', num_samples=2, batch_size=2),
]


def build_teacher(cfg, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(cfg).eval()


def student_cfg(teacher_cfg, **width):
    cfg = dict(teacher_cfg)
    cfg['type'] = ('StyleGAN2StudentGenerator' if 'StyleGAN2' in cfg['type']
                   else 'StyleGAN3StudentGenerator')
    cfg.update(width)
    return cfg


def same_noise(gen, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(1, 1, *getattr(gen, f'injected_noise_{i}').shape[-2:],
                    generator=g) for i in range(gen.num_injected_noises)
    ]


def effective(conv):
    """MMagic's equalised-lr weight as the next forward will use it."""
    for hook in conv._forward_pre_hooks.values():
        return hook.compute_weight(conv)


@pytest.mark.parametrize('ratio,kept', [(0.7, 154), (0.0, 512), (0.5, 256),
                                        (0.75, 128)])
def test_ratio_is_fraction_removed(ratio, kept):
    assert kept_channels(512, ratio) == kept


@pytest.mark.parametrize('ratio', [1.0, 1.5, -0.1, 'a'])
def test_impossible_ratio_is_refused(ratio):
    with pytest.raises(ValueError, match='ratio'):
        kept_channels(512, ratio)
    with pytest.raises(ValueError, match='ratio'):
        MODELS.build(student_cfg(SG2, ratio=ratio))


def test_student_widths_from_config_alone():
    student = MODELS.build(student_cfg(SG2, ratio=0.7))
    assert student.channels == {4: 154, 8: 154, 16: 154}
    assert student.convs[0].conv.weight_orig.shape == (1, 154, 154, 3, 3)
    hetero = MODELS.build(student_cfg(SG2, channels={4: 64, 8: 32, 16: 8}))
    assert hetero.to_rgbs[-1].conv.in_channels == 8
    with pytest.raises(ValueError, match='missing'):
        MODELS.build(student_cfg(SG2, channels={4: 64, 8: 32}))
    sg3 = MODELS.build(student_cfg(SG3, ratio=0.5))
    assert sg3.synthesis.channels == [32, 32, 32, 32]
    assert sg3.synthesis.layer_names[-1].endswith('_3')


@pytest.mark.parametrize('channels,round_to,kept', [
    (512, 16, 144), (512, 8, 152), (256, 16, 64), (128, 8, 32),
    (128, 16, 32), (64, 16, 16), (20, 16, 16), (10, 16, 10), (512, 1, 154),
    (512, None, 154)])
def test_round_to_rounds_kept_widths_down_as_torch_pruning(
        channels, round_to, kept):
    # 0.7 keeps 154, 77, 39, 20, 6, 3; rounded down, never below
    # min(round_to, C)
    assert kept_channels(channels, 0.7, round_to) == kept


@pytest.mark.parametrize('round_to', [0, -8, 2.5, True, '8'])
def test_bad_round_to_is_refused(round_to):
    with pytest.raises(ValueError, match='round_to'):
        kept_channels(512, 0.7, round_to)
    for cfg in (SG2, SG3):
        with pytest.raises(ValueError, match='round_to'):
            MODELS.build(student_cfg(cfg, ratio=0.7, round_to=round_to))
    with pytest.raises(ValueError, match='round_to'):
        prune_generator(copy_generator(build_teacher(SG2)), ratio=0.7,
                        round_to=round_to)


def test_round_to_needs_a_ratio():
    for cfg, channels in ((SG2, {4: 64, 8: 32, 16: 8}), (SG3, [9, 5, 4, 3])):
        with pytest.raises(ValueError, match='round_to rounds'):
            MODELS.build(student_cfg(cfg, channels=channels, round_to=8))


@pytest.mark.parametrize('cfg', [SG2, SG3], ids=['stylegan2', 'stylegan3'])
def test_round_to_students_keep_the_criterions_best_channels(cfg):
    teacher = build_teacher(cfg)
    student = MODELS.build(student_cfg(cfg, ratio=0.7, round_to=8))
    widths = (list(student.channels.values()) if cfg is SG2 else
              student.synthesis.channels)
    assert all(w % 8 == 0 for w in widths), widths
    report = init_student_from_teacher(student, teacher)
    # the same widths as pruning the teacher with round_to, the same
    # channels: the criterion's top-ranked ones
    direct = prune_generator(copy_generator(teacher), ratio=0.7, round_to=8)
    assert report['kept'] == direct.kept
    assert set(direct.widths.values()) == set(widths)
    if cfg is SG2:
        norms = teacher.convs[2].conv.weight_orig[0].abs().flatten(1).sum(1)
        expected = sorted(torch.topk(norms, widths[-1]).indices.tolist())
        assert direct.kept['convs.2'] == expected
    img = student(torch.randn(2, 16))
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()


def test_stylegan2_dependency_groups_follow_channel_flow():
    result = prune_generator(copy_generator(build_teacher(SG2)), ratio=0.0)
    groups = result.groups
    assert sorted(groups['constant_input']) == sorted(
        ['constant_input:prune_out_channels', 'conv1:prune_in_channels'])
    assert sorted(groups['conv1']) == sorted([
        'conv1:prune_out_channels', 'convs.0:prune_in_channels',
        'to_rgb1:prune_in_channels'
    ])
    assert sorted(groups['convs.1']) == sorted([
        'convs.1:prune_out_channels', 'convs.2:prune_in_channels',
        'to_rgbs.0:prune_in_channels'
    ])
    assert not any('style_mapping' in m for ms in groups.values() for m in ms)


@pytest.mark.parametrize('cfg', [SG2, SG3], ids=['stylegan2', 'stylegan3'])
def test_ratio_zero_reproduces_teacher(cfg):
    teacher = build_teacher(cfg)
    student = MODELS.build(student_cfg(cfg, ratio=0.0)).eval()
    init_student_from_teacher(student, teacher)
    z = torch.randn(3, 16)
    kwargs = dict(injected_noise=same_noise(teacher)) \
        if cfg is SG2 else {}
    with torch.no_grad():
        assert torch.equal(teacher(z, **kwargs), student(z, **kwargs))


def test_stylegan2_kept_channels_keep_teacher_weights():
    teacher = build_teacher(SG2)
    student = MODELS.build(student_cfg(SG2, ratio=0.7)).eval()
    report = init_student_from_teacher(student, teacher)
    kept = {k: torch.tensor(v) for k, v in report['kept'].items()}
    for (k, v), (k2, v2) in zip(teacher.style_mapping.state_dict().items(),
                                student.style_mapping.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert torch.equal(student.constant_input.input,
                       teacher.constant_input.input[:, kept['constant_input']])
    layers = [('conv1', 'constant_input', 'conv1')] + [
        (f'convs.{i}', 'conv1' if i == 0 else f'convs.{i - 1}', f'convs.{i}')
        for i in range(len(teacher.convs))
    ]
    for name, src, dst in layers:
        t_layer, s_layer = teacher.get_submodule(name), \
            student.get_submodule(name)
        out_idx, in_idx = kept[dst], kept[src]
        t_w = effective(t_layer.conv)[:, out_idx][:, :, in_idx]
        assert torch.allclose(t_w, effective(s_layer.conv), atol=1e-6), name
        assert torch.equal(s_layer.activate.bias,
                           t_layer.activate.bias[out_idx])
        t_aff, s_aff = t_layer.conv.style_modulation, \
            s_layer.conv.style_modulation
        assert torch.equal(s_aff.linear.weight_orig,
                           t_aff.linear.weight_orig[in_idx])
        assert torch.equal(s_aff.bias, t_aff.bias[in_idx])
    rgb_in = kept[f'convs.{len(teacher.convs) - 1}']
    t_rgb, s_rgb = teacher.to_rgbs[-1].conv, student.to_rgbs[-1].conv
    assert torch.allclose(effective(t_rgb)[:, :, rgb_in], effective(s_rgb),
                          atol=1e-6)


def test_stylegan3_kept_channels_keep_teacher_weights():
    teacher = build_teacher(SG3)
    student = MODELS.build(student_cfg(SG3, ratio=0.5)).eval()
    report = init_student_from_teacher(student, teacher)
    assert torch.equal(student.style_mapping.w_avg,
                       teacher.style_mapping.w_avg)
    kept = [torch.tensor(v) for v in report['kept'].values()]
    t_syn, s_syn = teacher.synthesis, student.synthesis
    assert torch.equal(s_syn.input.freqs, t_syn.input.freqs[kept[0]])
    for idx, (t_name, s_name) in enumerate(
            zip(t_syn.layer_names[:-1], s_syn.layer_names[:-1])):
        t_l, s_l = getattr(t_syn, t_name), getattr(s_syn, s_name)
        out_idx, in_idx = kept[idx + 1], kept[idx]
        assert torch.equal(s_l.weight, t_l.weight[out_idx][:, in_idx])
        assert torch.equal(s_l.bias, t_l.bias[out_idx])
        assert torch.equal(s_l.affine.weight, t_l.affine.weight[in_idx])
    # to-RGB styles are scaled by 1/sqrt(C_in): the kept channels' styles
    # must equal the teacher's
    t_rgb = getattr(t_syn, t_syn.layer_names[-1])
    s_rgb = getattr(s_syn, s_syn.layer_names[-1])
    w = torch.randn(4, 16)
    t_styles = t_rgb.affine(w)[:, kept[-1]] / (t_rgb.in_channels**0.5)
    s_styles = s_rgb.affine(w) / (s_rgb.in_channels**0.5)
    assert torch.allclose(t_styles, s_styles, atol=1e-5)


@pytest.mark.parametrize('criterion', CRITERIA, ids=lambda c: c['type'])
@pytest.mark.parametrize('cfg', [SG2, SG3], ids=['stylegan2', 'stylegan3'])
def test_every_criterion_builds_a_working_student(cfg, criterion):
    teacher = build_teacher(cfg)
    student = MODELS.build(student_cfg(cfg, ratio=0.5)).eval()
    report = init_student_from_teacher(student, teacher, criterion=criterion)
    for name, kept in report['kept'].items():
        assert len(kept) == len(set(kept)) and kept == sorted(kept)
    img = student(torch.randn(2, 16))
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()


def test_weight_l1_keeps_largest_filters():
    teacher = build_teacher(SG2)
    result = prune_generator(copy_generator(teacher), ratio=0.75)
    norms = teacher.convs[2].conv.weight_orig[0].abs().flatten(1).sum(1)
    expected = sorted(torch.topk(norms, 128).indices.tolist())
    assert result.kept['convs.2'] == expected


def test_style_aware_scores_match_hand_computation():
    teacher = build_teacher(SG2)
    crit = dict(type='StyleAwareImportance', num_samples=8, seed=5)
    result = prune_generator(copy_generator(teacher), ratio=0.5,
                             criterion=crit)
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        w = teacher.style_mapping(z)
        weight = teacher.convs[0].conv.weight_orig[0].abs().flatten(1).sum(1)
        style = (teacher.convs[1].conv.style_modulation(w)).abs().mean(0)
    expected = sorted(torch.topk(weight * style, 256).indices.tolist())
    assert result.kept['convs.0'] == expected


def test_random_criterion_is_seeded():
    teacher = build_teacher(SG2)

    def kept(seed):
        return prune_generator(
            copy_generator(teacher), ratio=0.5,
            criterion=dict(type='RandomImportance', seed=seed)).kept

    assert kept(1) == kept(1)
    assert kept(1) != kept(2)


def zero_mask(images):
    return torch.zeros_like(images)


def test_content_aware_uses_the_mask_function():
    teacher = build_teacher(SG2)
    crit = dict(type='ContentAwareImportance', num_samples=2, batch_size=2,
                mask_fn='test_pruning.zero_mask')
    masked = prune_generator(copy_generator(teacher), ratio=0.5,
                             criterion=crit).kept
    # a zero mask gives every channel a zero score: the stable sort keeps
    # the first half
    assert masked['convs.0'] == list(range(256))
    crit.pop('mask_fn')
    unmasked = prune_generator(copy_generator(teacher), ratio=0.5,
                               criterion=crit).kept
    assert unmasked['convs.0'] != list(range(256))


def content_aware_hand_scores(teacher, num_samples, batch_size, noise_prob,
                              seed, scored_batches=None):
    """CAGAN's scores written out: one random stream (z, per-sample noise
    maps, replaced pixels, salt or pepper, batch after batch), the gradient
    of the stored weight of the layer that reads each root's channels.
    Only ``scored_batches`` (default all) are added up; the others are
    drawn all the same."""
    gen = copy_generator(teacher).requires_grad_(True)
    last = len(gen.convs) - 1
    readers = {'constant_input': gen.conv1, 'conv1': gen.convs[0]}
    readers.update({f'convs.{i}': gen.convs[i + 1] for i in range(last)})
    readers[f'convs.{last}'] = gen.to_rgbs[-1]
    weights = [m.conv.weight_orig for m in readers.values()]
    scores = {name: torch.zeros(w.shape[2])
              for name, w in zip(readers, weights)}
    rng = torch.Generator().manual_seed(seed)
    for batch, start in enumerate(range(0, num_samples, batch_size)):
        n = min(batch_size, num_samples - start)
        z = torch.randn(n, gen.noise_size, generator=rng)
        noise = [
            torch.randn(n, 1, *getattr(gen, f'injected_noise_{i}').shape[-2:],
                        generator=rng)
            for i in range(gen.num_injected_noises)
        ]
        replace = torch.rand(n, 1, 16, 16, generator=rng) < noise_prob
        salt = torch.randint(0, 2, (n, 1, 16, 16), generator=rng) * 2. - 1
        if scored_batches is not None and batch not in scored_batches:
            continue
        img = gen([z], injected_noise=noise)
        loss = (torch.where(replace, salt, img.detach()) - img).abs().sum()
        for name, grad in zip(readers, torch.autograd.grad(loss, weights)):
            scores[name] += grad[0].abs().mean(dim=(0, 2, 3))
    return scores


@pytest.fixture
def content_aware_scores(monkeypatch):
    """Scores the content-aware criterion computes, by root name."""
    captured = {}
    compute = ContentAwareImportance.compute

    def spy(self, generator, arch, roots):
        out = compute(self, generator, arch, roots)
        captured.update({name: out[module] for name, module in roots})
        return out

    monkeypatch.setattr(ContentAwareImportance, 'compute', spy)
    return captured


# alone: all 3 batches (the last one short); as rank 1 of 2 (no process
# group, so nothing to all-reduce): the block of batches 1-2 only, on the
# samples that one process draws for them
@pytest.mark.parametrize('rank,world_size,scored', [(0, 1, None),
                                                    (1, 2, {1, 2})],
                         ids=['alone', 'rank1-of-2'])
def test_content_aware_scores_match_hand_computation(
        rank, world_size, scored, content_aware_scores, monkeypatch):
    monkeypatch.setattr(importance, 'get_dist_info',
                        lambda: (rank, world_size))
    teacher = build_noisy_generator(SG2)
    crit = dict(type='ContentAwareImportance', num_samples=5, batch_size=2,
                noise_prob=0.3, seed=2)
    prune_generator(copy_generator(teacher), ratio=0.5, criterion=crit)
    expected = content_aware_hand_scores(
        teacher, **{k: v for k, v in crit.items() if k != 'type'},
        scored_batches=scored)
    assert content_aware_scores.keys() == expected.keys()
    for name, score in expected.items():
        assert score.max() > 0, name
        torch.testing.assert_close(content_aware_scores[name], score,
                                   rtol=1e-5, atol=1e-12, msg=name)


@pytest.mark.parametrize('num_batches,world_size', [(4, 2), (3, 2), (7, 3),
                                                    (2, 3), (0, 2)])
def test_batches_are_shared_out_in_blocks(num_batches, world_size,
                                          monkeypatch):
    blocks = []
    for rank in range(world_size):
        monkeypatch.setattr(importance, 'get_dist_info',
                            lambda rank=rank: (rank, world_size))
        sizes, mine = importance.batches_of_this_process(
            num_batches * 3 - (num_batches > 0), 3)
        assert len(sizes) == num_batches and sum(sizes) == max(
            0, num_batches * 3 - 1)
        blocks.append(list(mine))
    # every batch scored once, in contiguous blocks of nearly equal sizes
    assert sum(blocks, []) == list(range(num_batches))
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_heterogeneous_widths_and_too_wide_student():
    teacher = build_teacher(SG2)
    student = MODELS.build(student_cfg(SG2, channels={4: 100, 8: 60, 16: 9}))
    report = init_student_from_teacher(student, teacher)
    assert {k: len(v) for k, v in report['kept'].items()} == {
        'constant_input': 100, 'conv1': 100, 'convs.0': 60, 'convs.1': 60,
        'convs.2': 9, 'convs.3': 9}
    too_wide = MODELS.build(student_cfg(SG2, channels={4: 600, 8: 60,
                                                       16: 9}))
    with pytest.raises(ValueError, match='600'):
        init_student_from_teacher(too_wide, teacher)


def test_mapping_reinit_option():
    teacher = build_teacher(SG2)
    torch.manual_seed(7)
    student = MODELS.build(student_cfg(SG2, ratio=0.5))
    before = {k: v.clone() for k, v in student.style_mapping.state_dict()
              .items()}
    init_student_from_teacher(student, teacher, inherit_mapping=False)
    for k, v in student.style_mapping.state_dict().items():
        assert torch.equal(v, before[k])
    assert all(p.requires_grad for p in student.parameters())


def test_smaller_mapping_network_is_fitted_to_the_teacher():
    teacher = build_teacher(SG2)
    small = MODELS.build(student_cfg(SG2, ratio=0.5, num_mlps=1))
    with pytest.raises(ValueError, match='fit_mapping'):
        init_student_from_teacher(small, teacher)
    report = init_student_from_teacher(
        small, teacher, fit_mapping=dict(iters=150, batch_size=32,
                                         progress=False))
    fit = report['mapping_fit']
    assert fit['l1_after'] < 0.5 * fit['l1_before']


def test_random_synthesis_ablation_keeps_random_weights():
    teacher = build_teacher(SG2)
    torch.manual_seed(3)
    student = MODELS.build(student_cfg(SG2, ratio=0.5))
    before = student.convs[0].conv.weight_orig.clone()
    report = init_student_from_teacher(student, teacher,
                                       inherit_synthesis=False)
    assert report['kept'] is None
    assert torch.equal(student.convs[0].conv.weight_orig, before)
    assert torch.equal(student.style_mapping[1].linear.weight_orig,
                       teacher.style_mapping[1].linear.weight_orig)
