"""Test-only hook: what each rank drew and trained, written per rank.

Imported by ``tests/configs/stylekd_tiny_dist-16x16.py`` (``custom_imports``,
with ``tests/`` on PYTHONPATH) so that multi-process tests can compare the
ranks' random draws, losses and final student weights.
"""
import os.path as osp

import torch
from mmagic.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class RankDrawsHook(Hook):
    """Save {iteration: draws and losses} and the final student per rank.

    Files: ``{work_dir}/rank{r}_{timestamp}.pt`` holding ``draws``
    ({iteration: dict(z, noise, offsets)}), ``losses`` ({iteration:
    {name: float}}) and ``student`` (the generator's state dict).
    """

    def before_run(self, runner) -> None:
        self.draws, self.losses = {}, {}
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        draw = model.draw_shared_inputs

        def recording_draw(num_batches):
            draws = draw(num_batches)
            self.draws[runner.iter] = dict(
                z=draws.z[0].detach().cpu().clone(),
                noise=draws.noise[0].detach().cpu().clone(),
                offsets=draws.offsets.detach().cpu().clone())
            return draws

        model.draw_shared_inputs = recording_draw

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.losses[runner.iter] = {
            k: float(v) for k, v in (outputs or {}).items()
        }

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        student = model.generator
        student = student.module if is_model_wrapper(student) else student
        torch.save(
            dict(draws=self.draws, losses=self.losses,
                 student={k: v.cpu()
                          for k, v in student.state_dict().items()}),
            osp.join(runner.work_dir,
                     f'rank{get_rank()}_{runner.timestamp}.pt'))
