"""Read checkpoints given by URL as plain data only (``weights_only=True``).

mmengine 0.10.7 downloads ``http(s)://`` checkpoints (``load_from``,
``--resume``, ``model.teacher_ckpt``, the tools' checkpoint arguments) with
``torch.hub.load_state_dict_from_url``, whose default is
``weights_only=False``: a pickled callable in the downloaded file would run.
The ``torchvision://``, ``modelzoo://``, ``open-mmlab://``, ``openmmlab://``
and ``mmcls://`` schemes resolve a name to a URL and call the same
``load_from_http`` directly.

:func:`register_url_checkpoint_loaders` (called on ``import mmstylekd``)
replaces the loaders of all these schemes in mmengine's ``CheckpointLoader``
with ones that download exactly as before (into ``torch.hub.get_dir()/
checkpoints`` under the URL's file name, rank 0 first, the others after a
barrier) and then read the file with ``torch.load(weights_only=True)``, so
only tensors, plain containers and the types registered in
:mod:`.checkpoint_safety` load. Names resolve with mmengine's own helpers.
"""
import logging
import os
import os.path as osp
import pickle
import re
from typing import Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner import checkpoint as _mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

#: Parts of torch's weights-only refusal that name what the file asked for.
_REFUSED_WHAT = (
    re.compile(r'GLOBAL (\S+) was not an allowed global'),
    re.compile(r'whose module (\S+) is blocked'),
    re.compile(r'(Refusing getattr\(.*?\)) while'),
    re.compile(r'(Unsupported (?:operand|class) [^\n.]*)'),
)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A downloaded checkpoint holds objects that are not plain data."""


def cached_checkpoint_path(url: str, model_dir: Optional[str] = None) -> str:
    """Where ``torch.hub`` caches the file of ``url``.

    Returns:
        str: ``model_dir`` (default ``torch.hub.get_dir()/checkpoints``)
        joined with the file name of the URL's path.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    return osp.join(model_dir, osp.basename(urlparse(url).path))


def _refusal(url: str, cached: str, err: Exception) -> str:
    what = ''
    for pattern in _REFUSED_WHAT:
        found = pattern.search(str(err))
        if found:
            what = found.group(1)
            if what.startswith('Unsupported operand'):
                what += '; perhaps it is no torch checkpoint at all'
            what = f' (first refused: {what})'
            break
    return (f'Refusing to load the checkpoint {url} (downloaded to '
            f'{cached}): the file holds objects that are not plain data'
            f'{what}. Unpickling them could run code, so only tensors, '
            'numbers, strings and plain containers are read from '
            'checkpoints. Use a checkpoint from a source you trust, saved '
            'as plain data (e.g. torch.save of a state_dict); delete the '
            'cached file once the URL serves another one.')


def _download_and_read(url: str, model_dir: Optional[str], map_location,
                       progress: bool):
    """Download ``url`` into the hub cache (unless there) and read it."""
    try:
        return torch.hub.load_state_dict_from_url(
            url,
            model_dir=model_dir,
            map_location=map_location,
            progress=progress,
            weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's message advises weights_only=False: not passed on
        raise UnsafeCheckpointError(
            _refusal(url, cached_checkpoint_path(url, model_dir),
                     err)) from None


def load_from_http(filename: str,
                   map_location=None,
                   model_dir: Optional[str] = None,
                   progress: Optional[bool] = None):
    """mmengine's ``load_from_http``, reading with ``weights_only=True``.

    Rank 0 downloads first (with a progress bar when stdin is a terminal);
    the other ranks read the cached file after a barrier.

    Raises:
        UnsafeCheckpointError: the file holds objects that are not plain
            data; the message names the URL and the cached file.
    """
    if progress is None:
        progress = os.isatty(0)
    rank, world_size = get_dist_info()
    if rank == 0:
        try:
            return _download_and_read(filename, model_dir, map_location,
                                      progress)
        finally:
            if world_size > 1:  # also on failure: nobody is left waiting
                torch.distributed.barrier()
    torch.distributed.barrier()  # rank 0 has downloaded the file
    return _download_and_read(filename, model_dir, map_location, False)


def load_from_torchvision(filename: str, map_location=None):
    """``torchvision://NAME`` (or deprecated ``modelzoo://NAME``)."""
    model_urls = _mmengine_checkpoint.get_torchvision_models()
    if filename.startswith('modelzoo://'):
        print_log(
            'The URL scheme of "modelzoo://" is deprecated, please '
            'use "torchvision://" instead',
            logger='current',
            level=logging.WARNING)
        model_name = filename[len('modelzoo://'):]
    else:
        model_name = filename[len('torchvision://'):]
    return load_from_http(model_urls[model_name], map_location=map_location)


def load_from_openmmlab(filename: str, map_location=None):
    """``open-mmlab://NAME`` or ``openmmlab://NAME``."""
    model_urls = _mmengine_checkpoint.get_external_models()
    prefix = 'open-mmlab://' if filename.startswith('open-mmlab://') \
        else 'openmmlab://'
    model_name = filename[len(prefix):]
    deprecated_urls = _mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated_urls:
        print_log(
            f'{prefix}{model_name} is deprecated in favor '
            f'of {prefix}{deprecated_urls[model_name]}',
            logger='current',
            level=logging.WARNING)
        model_name = deprecated_urls[model_name]
    model_url = model_urls[model_name]
    if model_url.startswith(('http://', 'https://')):
        return load_from_http(model_url, map_location=map_location)
    filename = osp.join(_mmengine_checkpoint._get_mmengine_home(), model_url)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=True)


def load_from_mmcls(filename: str, map_location=None):
    """``mmcls://NAME``: the backbone of an mmcls classifier."""
    model_urls = _mmengine_checkpoint.get_mmcls_models()
    model_name = filename[len('mmcls://'):]
    checkpoint = load_from_http(
        model_urls[model_name], map_location=map_location)
    return _mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


#: mmengine's URL schemes whose loaders download through ``load_from_http``.
URL_SCHEME_LOADERS = {
    ('http://', 'https://'): load_from_http,
    ('modelzoo://', 'torchvision://'): load_from_torchvision,
    ('open-mmlab://', 'openmmlab://'): load_from_openmmlab,
    ('mmcls://', ): load_from_mmcls,
}


def register_url_checkpoint_loaders() -> None:
    """Make mmengine read every URL checkpoint with ``weights_only=True``.

    Idempotent; called on ``import mmstylekd``.
    """
    for prefixes, loader in URL_SCHEME_LOADERS.items():
        CheckpointLoader.register_scheme(list(prefixes), loader, force=True)
