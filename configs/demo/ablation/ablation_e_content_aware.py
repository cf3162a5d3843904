"""Ablation (e) = (c) with CAGAN's content-aware pruning (salt-and-pepper
noise, L1, next-layer gradients; 64 samples instead of CAGAN's 400 to fit
the CPU budget) instead of weight L1."""
_base_ = ['./ablation_c_latent_direction.py']

model = dict(
    student_init=dict(
        criterion=dict(
            _delete_=True,
            type='ContentAwareImportance',
            num_samples=64,
            batch_size=8)))
