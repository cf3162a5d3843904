"""Save and restore random number generator states with checkpoints."""
import random

import numpy as np
import torch
from mmagic.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make ``--resume`` continue the same random sequence.

    GAN training draws z, style-mixing, injected noise and (for StyleKD)
    latent directions from the global generators; mmengine's checkpoints do
    not store their states, so a resumed run would draw other numbers than an
    uninterrupted one. This hook stores python's, numpy's and torch's (CPU and
    CUDA) states in each checkpoint and restores them when resuming.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['random_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('random_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
