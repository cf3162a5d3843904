"""A registered metric: how close the student's images are to the teacher's."""
import logging
from typing import Optional, Sequence

import numpy as np
import torch.nn as nn
from mmagic.evaluation.metrics.base_gen_metric import GenerativeMetric
from mmagic.registry import METRICS
from mmengine.dist import get_rank
from mmengine.logging import print_log

from ..utils.model_wrappers import unwrap_model
from .teacher_student_pairs import generate_pairs, per_image_figures


@METRICS.register_module()
class TeacherStudentConsistency(GenerativeMetric):
    """L1, PSNR and LPIPS between a StyleKD model's teacher and student.

    Both generators get the same z and the same injected noise (seeded, so
    every evaluation sees the same samples). Usable in ``val_evaluator`` or
    ``test_evaluator`` next to MMagic's metrics; the model must have a
    ``teacher`` (``StyleKDStyleGAN2``/``StyleKDStyleGAN3``).

    Args:
        fake_nums (int): number of sample pairs.
        seed (int): seed of z and noise.
        lpips_net (str, optional): LPIPS backbone; the figure is reported
            only when its weights load (else a warning, no ``lpips`` key).
            None skips LPIPS.
        sample_model (str): ``'ema'`` or ``'orig'`` student.
        prefix (str): metric name prefix.
    """
    default_prefix = 'teacher_student'

    def __init__(self,
                 fake_nums: int = 256,
                 seed: int = 0,
                 lpips_net: Optional[str] = 'vgg',
                 sample_model: str = 'ema',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(
            fake_nums,
            real_nums=0,
            sample_model=sample_model,
            collect_device=collect_device,
            prefix=prefix)
        self.seed = seed
        self.lpips_net = lpips_net
        self._lpips = None
        self._lpips_tried = False
        self._batches = 0

    def prepare(self, module: nn.Module, dataloader) -> None:
        super().prepare(module, dataloader)
        module = unwrap_model(module)
        if not hasattr(module, 'teacher'):
            raise TypeError('TeacherStudentConsistency needs a model with a '
                            f'teacher; {type(module).__name__} has none.')
        self.teacher = module.teacher
        student = module.generator_ema if self.sample_model == 'ema' \
            else module.generator
        self.student = getattr(student, 'module', student)
        self._batches = 0
        if self.lpips_net and not self._lpips_tried:
            self._lpips_tried = True
            from ..models.losses import build_lpips
            try:
                self._lpips = build_lpips(self.lpips_net).to(
                    next(self.teacher.parameters()).device)
            except FileNotFoundError as err:
                print_log(f'TeacherStudentConsistency reports no LPIPS: '
                          f'{err}', logger='current', level=logging.WARNING)

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        """Generate pairs for this batch; keep one result per sample."""
        num = min(len(data_samples),
                  self.fake_nums_per_device - len(self.fake_results))
        if num <= 0:
            return
        seed = self.seed + 100003 * get_rank() + self._batches
        self._batches += 1
        imgs_t, imgs_s = generate_pairs(self.teacher, self.student, num,
                                        seed=seed, batch_size=num)
        figures = per_image_figures(imgs_t, imgs_s, self._lpips)
        for i in range(num):
            self.fake_results.append({
                k: None if v is None else float(v[i])
                for k, v in figures.items()
            })

    def compute_metrics(self, results: list) -> dict:
        """Means over all samples."""
        metrics = {}
        for key in ('l1', 'psnr', 'lpips'):
            values = [r[key] for r in results]
            if values and all(v is not None for v in values):
                metrics[key] = float(np.mean(values))
        return metrics
