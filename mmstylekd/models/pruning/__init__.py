"""Channel pruning of StyleGAN teachers through torch-pruning."""
from .architectures import (PrunableArchitecture, StyleGAN2Architecture,
                            StyleGAN3Architecture, architecture_of)
from .diversity_importance import DiversityAwareImportance
from .generator_pruner import PruningResult, prune_generator
from .importance import (ChannelImportance, ContentAwareImportance,
                         RandomImportance, StyleAwareImportance,
                         WeightL1Importance)
from .layer_pruners import STYLEGAN2_PRUNERS, STYLEGAN3_PRUNERS, copy_generator
from .ratio import kept_channels

__all__ = [
    'PrunableArchitecture', 'StyleGAN2Architecture', 'StyleGAN3Architecture',
    'architecture_of', 'PruningResult', 'prune_generator',
    'ChannelImportance', 'ContentAwareImportance', 'DiversityAwareImportance',
    'RandomImportance', 'StyleAwareImportance', 'WeightL1Importance',
    'STYLEGAN2_PRUNERS', 'STYLEGAN3_PRUNERS', 'kept_channels',
    'copy_generator'
]
