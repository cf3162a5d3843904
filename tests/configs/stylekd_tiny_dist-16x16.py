"""The tiny StyleKD config, recording each rank's draws (test only)."""
_base_ = ['./stylekd_tiny_train-16x16.py']
custom_imports = dict(
    imports=['mmstylekd', 'rank_draws_hook'], allow_failed_imports=False)
custom_hooks = [dict(type='RandomStateHook'), dict(type='RankDrawsHook')]
