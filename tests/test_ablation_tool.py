"""The demo ablation (mmstylekd.evaluation.ablation_statistics, used by
tools/analysis_tools/run_ablation.py): its rows are the configs they claim
to be, and its statistics (mean, spread, what exceeds the spread) are
computed right."""
import json
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config

from mmstylekd.evaluation import ablation_statistics

DEMO = 'configs/demo/stylekd_stylegan2_digits-32x32.py'


@pytest.fixture(scope='module')
def tool():
    return ablation_statistics


def row_config(tool, key):
    name = next(r[2] for r in tool.ROWS if r[0] == key)
    return Config.fromfile(osp.join(REPO, 'configs/demo/ablation', name))


def test_rows_change_one_thing_each(tool):
    demo = Config.fromfile(osp.join(REPO, DEMO)).model
    rows = {key: row_config(tool, key).model for key, _, _ in tool.ROWS}
    losses = {k: set(m.distiller.distill_losses) for k, m in rows.items()}
    # (c) is the demo without its SVS; (a)/(b) drop only the
    # latent-direction loss
    svs = dict(type='SingularValueScaling', include_torgb=True)
    # the demo: SVS without the to-RGB layers
    assert demo.student_init.refine == dict(type='SingularValueScaling')
    assert rows['c'] == dict(demo, student_init=dict(demo.student_init,
                                                     refine=None))
    assert losses['a'] == losses['b'] == \
        set(demo.distiller.distill_losses) - {'loss_latent_direction'}
    assert not rows['a'].student_init.inherit_mapping
    assert rows['b'].student_init.inherit_mapping
    assert rows['d'].latent_directions.mode == 'random'
    assert rows['e'].student_init.criterion.type == 'ContentAwareImportance'
    assert rows['f'].student_init.criterion.type == \
        'DiversityAwareImportance'
    assert rows['h'].student_init.refine == svs
    assert rows['i'].student_init.refine == svs
    assert rows['i'].student_init.criterion == rows['f'].student_init.criterion
    for key in 'abcdefg':  # SVS only where the row says so
        assert rows[key].student_init.refine is None
    assert rows['h'] == dict(demo, student_init=dict(demo.student_init,
                                                     refine=svs))
    assert rows['g'].generator.num_mlps == 2 and \
        rows['g'].student_init.fit_mapping
    # everything but the ablated part stays the demo's
    for key in 'def':
        assert rows[key].distiller == demo.distiller
        assert rows[key].generator == demo.generator


def test_mean_spread_and_differences_beyond_it(tool):
    def runs(agreements, l1s):
        return [
            dict(l1=l1, psnr=20.0, agreement=a, student_confidence=0.9,
                 swd=None, inversion_psnr=26.0, minutes=5.0)
            for a, l1 in zip(agreements, l1s)
        ]

    rows = [
        dict(key='c', summary=tool.summarise(
            runs([0.85, 0.86, 0.87], [0.126, 0.127, 0.128]))),
        # same digit far below (c), L1 within the spread
        dict(key='a', summary=tool.summarise(
            runs([0.40, 0.41, 0.42], [0.126, 0.128, 0.130]))),
    ]
    summary = rows[0]['summary']
    assert summary['agreement'] == pytest.approx((0.86, 0.01))
    assert summary['swd'] is None  # a run without the figure
    assert tool.cell(summary['agreement'], '{:.1%}') == '86.0% ± 1.0'
    assert tool.cell(summary['l1'], '{:.4f}') == '0.1270 ± 0.0010'
    same_digit, l1 = tool.beyond_spread(rows)
    assert same_digit.startswith('same digit: (a) -45.0 points differ')
    assert l1.startswith('L1: none differ')


def test_row_selection_and_last_validation_record(tool, tmp_path):
    assert tool.selected_rows(None) == tool.ROWS
    assert [r[0] for r in tool.selected_rows(
        ['a', 'ablation_h_svs.py'])] == ['a', 'h']
    with pytest.raises(ValueError, match=r"unknown rows \['z'\]"):
        tool.selected_rows(['a', 'z'])
    assert tool.last_val(str(tmp_path)) == {}  # no run there
    log = tmp_path / '20240101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text('\n'.join(json.dumps(r) for r in [
        {'loss': 1.0, 'step': 1}, {'swd/avg': 9.0, 'step': 2},
        {'loss': 0.5, 'step': 3}, {'swd/avg': 7.0, 'step': 4}]))
    assert tool.last_val(str(tmp_path)) == {'swd/avg': 7.0, 'step': 4}


def test_columns_add_the_early_measurements(tool):
    runs = [dict(l1=0.1, **{'agreement@300': 0.5, 'l1@300': 0.2})]
    keys = [k for k, _, _ in tool.columns(runs)]
    assert keys[:2] == ['agreement@300', 'l1@300']
    assert keys[2:] == [k for k, _, _ in tool.COLUMNS]
