"""mmstylekd.utils: load reports, model wrappers, plain data."""
import numpy as np
import torch
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel

from mmstylekd.utils import (StateDictFit, plain, strip_wrapper_segment,
                             unwrap_model)


def test_state_dict_fit_names_every_kind_of_difference():
    own = nn.Linear(4, 3).state_dict()
    assert StateDictFit.compare(own, dict(own)).fits
    given = dict(weight=torch.zeros(3, 5), extra=torch.zeros(1))
    fit = StateDictFit.compare(own, given)
    assert not fit.fits
    assert fit.missing == ['bias']
    assert fit.unexpected == ['extra']
    assert fit.shape_mismatches == [
        'weight: checkpoint (3, 5) vs model (3, 4)']
    assert fit.describe() == (
        "missing keys: ['bias']; unexpected keys: ['extra']; "
        "shape mismatches: ['weight: checkpoint (3, 5) vs model (3, 4)']")
    assert fit.describe(missing='lacks', unexpected=None) == (
        "lacks: ['bias']; "
        "shape mismatches: ['weight: checkpoint (3, 5) vs model (3, 4)']")


def test_state_dict_fit_optional_keys_names_and_limit():
    own = {f'k{i}': torch.zeros(1) for i in range(8)}
    fit = StateDictFit.compare(own, {'k0': torch.zeros(2)},
                               given_name='source', own_name='MMagic',
                               optional=lambda k: k == 'k7',
                               key_name=lambda k: f'{k}!')
    assert fit.missing == [f'k{i}!' for i in range(1, 7)]
    assert fit.shape_mismatches == ['k0!: source (2,) vs MMagic (1,)']
    assert "'k5!'] and 1 more;" in fit.describe()


def test_unwrap_model_and_strip_wrapper_segment():
    net = nn.Linear(2, 2)
    assert unwrap_model(net) is net
    wrapped = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    nn.Module.__init__(wrapped)
    wrapped.module = net  # a wrapper without a process group
    assert unwrap_model(wrapped) is net
    state = {'generator.module.a': 1, 'generator.b': 2, 'module.c': 3,
             'discriminator.module.d': 4}
    strip_wrapper_segment(state, 'generator.')
    assert state == {'generator.a': 1, 'generator.b': 2, 'module.c': 3,
                     'discriminator.module.d': 4}


def test_plain_turns_numpy_scalars_and_tuples_into_plain_data(tmp_path):
    tensor = torch.ones(1)
    meta = plain(dict(ratio=np.float32(0.5), widths=(np.int64(8), 16),
                      nested=[dict(t=tensor)], name='x'))
    assert meta['nested'][0]['t'] is tensor  # tensors are kept
    del meta['nested']
    assert meta == dict(ratio=0.5, widths=[8, 16], name='x')
    assert type(meta['ratio']) is float and type(meta['widths'][0]) is int
    torch.save(meta, tmp_path / 'meta.pth')
    loaded = torch.load(tmp_path / 'meta.pth', weights_only=True)
    assert loaded['widths'] == [8, 16]
