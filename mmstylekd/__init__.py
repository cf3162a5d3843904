"""mmstylekd: StyleKD ("Mind the Gap in Distilling StyleGANs") for MMagic.

Importing the package registers every component in MMagic's registries.
"""
from .engine import (allow_mmengine_checkpoint_globals,
                     register_url_checkpoint_loaders)
from .version import __version__

# checkpoints load as plain data only, from files and from URLs
allow_mmengine_checkpoint_globals()
register_url_checkpoint_loaders()

from . import datasets, engine, evaluation, models  # noqa: E402,F401,E501
from .models import compute_latent_directions  # noqa: E402

__all__ = ['__version__', 'compute_latent_directions']
