"""Write teacher | student sample grids during training."""
from typing import Optional

import numpy as np
import torch
from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from torchvision.utils import make_grid

from ...evaluation.teacher_student_pairs import generate_pairs, to_uint8
from ...utils.model_wrappers import unwrap_model


def teacher_student_grid(teacher_imgs: torch.Tensor,
                         student_imgs: torch.Tensor,
                         nrow: int = 8,
                         gap: int = 4) -> np.ndarray:
    """One image: the teacher's grid, a white gap, the student's grid.

    Args:
        teacher_imgs, student_imgs: (N, C, H, W) in [-1, 1], same z.

    Returns:
        ndarray: (H', W', C) uint8, sample i at the same place in both halves.
    """
    grids = [
        make_grid(imgs.clamp(-1, 1), nrow=nrow, padding=2, pad_value=1.0)
        for imgs in (teacher_imgs, student_imgs)
    ]
    spacer = torch.ones(grids[0].shape[0], grids[0].shape[1], gap)
    both = torch.cat([grids[0], spacer, grids[1]], dim=2)
    return to_uint8(both[None])[0].numpy()


@HOOKS.register_module()
class TeacherStudentSampleHook(Hook):
    """Every ``interval`` iterations (and at the end), save a grid of the
    teacher's and the EMA student's images for the same fixed z and noise.

    Grids go to the visualizer (``vis_data/vis_image/{name}_{iter}.png``
    with MMagic's default ``VisBackend``); only rank 0 draws them.

    Args:
        interval (int): iterations between grids.
        num_samples (int): samples per grid.
        nrow (int): samples per row.
        seed (int): seed of the fixed z and noise.
        name (str): image name.
    """
    priority = 'LOW'

    def __init__(self,
                 interval: int = 1000,
                 num_samples: int = 32,
                 nrow: int = 8,
                 seed: int = 2022,
                 name: str = 'teacher_vs_student'):
        self.interval = interval
        self.num_samples = num_samples
        self.nrow = nrow
        self.seed = seed
        self.name = name

    def _write(self, runner, step: int) -> Optional[np.ndarray]:
        model = unwrap_model(runner.model)
        if not hasattr(model, 'teacher') or not is_main_process():
            return None
        student = model.generator_ema.module if model.with_ema_gen \
            else model.generator
        student = unwrap_model(student)
        imgs_t, imgs_s = generate_pairs(model.teacher, student,
                                        self.num_samples, seed=self.seed)
        grid = teacher_student_grid(imgs_t, imgs_s, self.nrow)
        runner.visualizer.add_image(self.name, grid, step=step)
        return grid

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._write(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if runner.iter % self.interval:
            self._write(runner, runner.iter)
