"""Random draws that depend only on (seed, rank, iteration)."""
import logging
import random

import numpy as np
import torch
from mmagic.registry import HOOKS
from mmengine.dist import broadcast_object_list, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Exact ``--resume`` with any number of processes.

    GAN training draws z, style mixing, injected noise and (for StyleKD)
    latent directions from the global random generators. Before every
    training iteration this hook reseeds Python's, numpy's and torch's (CPU
    and CUDA) generators from ``(seed, rank, iteration)``, so

    - each process draws its own numbers (the ranks never duplicate each
      other's samples, whatever ``randomness.diff_rank_seed`` says);
    - what an iteration draws does not depend on what ran before it
      (validation, visualisation hooks), so a resumed run draws exactly
      what an uninterrupted one draws: the checkpoint only needs the base
      seed, which this hook stores in it with the number of processes.

    Resuming with another number of processes works and is logged: every
    rank still draws its own numbers, but the effective batch changes.

    Data-pipeline randomness is not reseeded: it lives in the dataloader
    workers, which mmengine seeds per rank and worker and, on resume,
    replays by skipping the batches already trained on.

    Args:
        seed (int, optional): base seed; default the runner's seed (rank
            0's, so that every rank derives its streams from the same one).
    """
    priority = 'VERY_HIGH'  # before any hook that draws in before_train_iter

    def __init__(self, seed=None):
        self.seed = seed

    def before_run(self, runner) -> None:
        if self.seed is None:
            seed = [runner.seed]
            broadcast_object_list(seed, src=0)
            self.seed = int(seed[0])

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        streams = np.random.SeedSequence(
            [self.seed, get_rank(), runner.iter]).generate_state(4)
        random.seed(int(streams[0]))
        np.random.seed(int(streams[1]))
        torch.manual_seed(int(streams[2]) << 32 | int(streams[3]))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = dict(
            seed=self.seed, world_size=get_world_size())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('random_state') or {}
        if not getattr(runner, '_resume', False) or 'seed' not in state:
            return
        self.seed = int(state['seed'])
        saved, now = state.get('world_size'), get_world_size()
        if saved is not None and saved != now:
            print_log(
                f'Resuming a run of {saved} process(es) with {now}: each '
                'rank still draws its own z, noise and directions (seeded '
                'by seed, rank and iteration), so no sample is duplicated, '
                f'but the effective batch changes ({saved} x to {now} x the '
                'per-process batch) and the run differs from an '
                'uninterrupted one from here on.',
                logger='current',
                level=logging.WARNING)
