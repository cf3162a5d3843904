"""mmstylekd: StyleKD ("Mind the Gap in Distilling StyleGANs") for MMagic.

Importing the package registers every component in MMagic's registries.
"""
import warnings

# Third-party deprecation notices that say nothing about a run: setuptools'
# pkg_resources (via mmengine), torch's pytree rename (via diffusers, which
# MMagic's models import below), numpy's np.bool8 alias and mmcv's "Since
# aten" note on its gradfix ops. Installed here, before those imports, so
# that every process importing mmstylekd first (the tools, and dataloader
# workers forked from them) is quiet; other warnings still show.
warnings.filterwarnings(
    'ignore', message='.*(pkg_resources|_register_pytree_node|np.bool8|'
    'Since aten)')

from .engine import (allow_mmengine_checkpoint_globals,  # noqa: E402
                     register_url_checkpoint_loaders)
from .version import __version__  # noqa: E402

# checkpoints load as plain data only, from files and from URLs
allow_mmengine_checkpoint_globals()
register_url_checkpoint_loaders()

from . import datasets, engine, evaluation, models  # noqa: E402,F401,E501
from .models import compute_latent_directions  # noqa: E402

__all__ = ['__version__', 'compute_latent_directions']
