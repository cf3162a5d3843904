"""The digits demo: dataset, committed teacher, metric, sample-grid hook."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import DATASETS, METRICS, MODELS
from mmengine.config import Config

import mmstylekd  # noqa: F401
from mmstylekd.evaluation import classify_digits, digit_agreement
from mmstylekd.models import build_teacher

DEMO = 'configs/demo/stylekd_stylegan2_digits-32x32.py'


def test_digits_dataset_through_mmagic_pipeline():
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')  # as the runner does for our configs
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/digits_32x32.py'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 1797
    item = dataset[0]
    img = item['data_samples'].gt_img
    assert tuple(img.shape) == (3, 32, 32)
    assert img.max() > 200 and img.min() < 10
    only = DATASETS.build(dict(cfg.train_dataloader.dataset, digits=[3]))
    assert 150 < len(only) < 200
    assert all(only.get_data_info(i)['label'] == 3 for i in range(5))


def demo_teacher():
    cfg = Config.fromfile(osp.join(REPO, DEMO))
    return build_teacher(cfg.model.teacher,
                         osp.join(REPO, cfg.model.teacher_ckpt))


def test_committed_teacher_draws_varied_digits():
    teacher = demo_teacher()
    torch.manual_seed(0)
    with torch.no_grad():
        imgs = teacher(torch.randn(200, teacher.noise_size))
    labels, confidence = classify_digits(imgs)
    assert confidence.mean() > 0.85  # looks like digits to a classifier
    assert len(set(labels.tolist())) == 10  # all ten, not one mode
    assert np.bincount(labels, minlength=10).max() < 60


def test_digit_agreement_of_identical_and_shuffled_images():
    teacher = demo_teacher()
    with torch.no_grad():
        imgs = teacher(torch.randn(64, teacher.noise_size))
    assert digit_agreement(imgs, imgs)['agreement'] == 1.0
    shuffled = digit_agreement(imgs, imgs.flip(0))['agreement']
    assert shuffled < 0.5


def test_consistency_metric_on_identical_and_pruned_students():
    cfg = Config.fromfile(osp.join(REPO, 'tests/configs/'
                                   'stylekd_tiny_train-16x16.py'))
    torch.manual_seed(0)
    cfg.model.generator.ratio = 0.0
    same = MODELS.build(cfg.model)
    same.fresh_start_init(same)  # what the first training step does
    metric = METRICS.build(dict(type='TeacherStudentConsistency',
                                fake_nums=6, lpips_net=None))
    metric.prepare(same, None)
    for _ in range(2):
        metric.process({}, [None] * 4)
    assert len(metric.fake_results) == 6
    figures = metric.compute_metrics(metric.fake_results)
    assert figures['l1'] == pytest.approx(0, abs=1e-5)
    assert figures['psnr'] > 60 and 'lpips' not in figures
    cfg.model.generator.ratio = 0.5
    pruned = MODELS.build(cfg.model)
    pruned.fresh_start_init(pruned)
    metric.fake_results = []
    metric.prepare(pruned, None)
    metric.process({}, [None] * 6)
    assert metric.compute_metrics(metric.fake_results)['l1'] > 0.01


def test_demo_config_trains_writes_grids_and_evaluates(tmp_path):
    work = tmp_path / 'work'
    check(run_tool(
        'tools/train.py', DEMO, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'train_dataloader.batch_size=4', 'val_dataloader.batch_size=8',
        'val_evaluator.metrics.0.fake_nums=8',
        'val_evaluator.metrics.1.fake_nums=64',
        'default_hooks.checkpoint.interval=4',
        'custom_hooks.0.interval=2', 'custom_hooks.0.num_samples=8'))
    grids = sorted(glob.glob(str(work / '*/vis_data/vis_image/'
                                 'teacher_vs_student_*.png')))
    assert [osp.basename(g) for g in grids] == [
        'teacher_vs_student_2.png', 'teacher_vs_student_4.png']
    import cv2
    grid = cv2.imread(grids[-1])
    assert grid.shape[1] > 2 * grid.shape[0]  # teacher | student side by side
    logs = glob.glob(str(work / '*/vis_data/scalars.json'))
    records = [json.loads(line) for line in open(logs[0])]
    val = [r for r in records if 'teacher_student/l1' in r]
    assert val and val[-1]['teacher_student/psnr'] > 0
    proc = check(run_tool('tools/analysis_tools/consistency.py', DEMO,
                          work / 'iter_4.pth', '--num-samples', '16',
                          '--digit-agreement', '--json'))
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 0 <= figures['agreement'] <= 1
