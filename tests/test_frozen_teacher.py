"""The StyleKD model's frozen teacher and its shared draws, on the tiny
config: picklable, frozen, in eval mode, same checkpoint keys."""
import copy
import os.path as osp
import pickle

import pytest
import torch
from conftest import REPO
from mmagic.registry import MODELS
from mmengine.config import Config

import mmstylekd  # noqa: F401

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'


@pytest.fixture(scope='module')
def model():
    return MODELS.build(Config.fromfile(osp.join(REPO, TINY)).model)


def check_teacher_frozen(model):
    model.train()
    assert model.training and model.generator.training
    assert not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())
    # never switched, so MMagic never logs a style-mode switch for it
    assert model.teacher.default_style_mode == model.teacher.eval_style_mode
    assert not any(p.requires_grad for p in model.teacher.parameters())
    assert any(p.requires_grad for p in model.generator.parameters())
    model.eval()
    assert not model.generator.training and not model.teacher.training


def test_train_leaves_the_teacher_frozen_in_eval_mode(model):
    check_teacher_frozen(model)
    assert model.teacher.train(False) is model.teacher  # still a module


@pytest.mark.parametrize('copied', ['pickle', 'deepcopy'])
def test_model_pickles_and_its_copy_keeps_the_teacher_frozen(model, copied):
    other = pickle.loads(pickle.dumps(model)) if copied == 'pickle' else \
        copy.deepcopy(model)
    check_teacher_frozen(other)
    ours, theirs = model.state_dict(), other.state_dict()
    assert list(ours) == list(theirs)  # the layout hooks came along
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key


def test_checkpoint_keys(model):
    keys = list(model.state_dict())
    assert 'teacher_identity.path' in keys
    assert 'teacher_identity.sha256' in keys
    assert any(k.startswith('generator.') for k in keys)
    assert any(k.startswith('generator_ema.') for k in keys)
    # frozen teacher and derived directions are not written
    assert not any(k.startswith(('teacher.', 'shared_draws.')) for k in keys)


def test_shared_draws_follow_the_student(model):
    model.train()
    model.generator.mix_prob = 1.0
    torch.manual_seed(0)
    draws = model.draw_shared_inputs(3)
    assert len(draws.z) == 2 and draws.z[0].shape == (3, 32)
    assert 1 <= draws.inject_index < model.generator.num_latents
    assert len(draws.noise) == model.generator.num_injected_noises
    assert draws.offsets.shape == (3, 32)
    # |d| = |N(0, 1)| * offset_weight along a unit teacher direction
    dirs = model.shared_draws.latent_directions
    unit = dirs / dirs.norm(dim=1, keepdim=True)
    cos = (draws.offsets / draws.offsets.norm(dim=1, keepdim=True)) @ unit.T
    assert torch.allclose(cos.abs().max(dim=1).values, torch.ones(3),
                          atol=1e-5)
    model.generator.mix_prob = 0.0
    assert len(model.draw_shared_inputs(3).z) == 1
