"""Output files that are either complete or absent.

The tools that write checkpoints, configs and exported models (prune.py, the
model converters, export.py) write next to the target and rename, so that an
interrupted run never leaves a half-written file in place of a good one.
"""
import os
import os.path as osp
import tempfile
from typing import Callable


def atomic_write(path: str, write: Callable[[str], None],
                 force: bool = False) -> None:
    """Write ``path`` through a temporary file and ``os.replace``.

    Args:
        path (str): the output file; its folder is created when missing.
        write: called with the temporary file's path.
        force (bool): replace an existing ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    if osp.exists(path) and not force:
        raise FileExistsError(
            f'{path} exists; pass --overwrite to replace it.')
    out_dir = osp.dirname(osp.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.tmp')
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the permissions
        # that a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
