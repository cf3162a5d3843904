"""Tell a cut-off checkpoint file before torch fails deep inside loading."""
import os
import os.path as osp
import re
import zipfile
from typing import Optional


def _problem(path: str) -> Optional[str]:
    """What is wrong with a checkpoint file, or None if it looks whole.

    torch.save writes a zip archive (older torch a pickle, which starts
    with the protocol byte 0x80); a zip archive cut off while being written
    lacks its central directory, which is written last.
    """
    with open(path, 'rb') as file:
        head = file.read(2)
    if head == b'PK':
        return None if zipfile.is_zipfile(path) else (
            'is incomplete (a zip archive without its central directory): '
            'it was probably cut off while being written')
    if head[:1] == b'\x80':
        return None
    return 'is not a torch checkpoint (neither a zip archive nor a pickle)'


def previous_complete_checkpoint(path: str) -> Optional[str]:
    """The newest complete ``iter_*.pth``/``epoch_*.pth`` before ``path``."""
    folder = osp.dirname(osp.abspath(path))
    pattern = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')
    match = pattern.search(osp.basename(path))
    bound = int(match.group(1)) if match else float('inf')
    found = []
    for name in os.listdir(folder):
        number = pattern.fullmatch(name)
        if number and int(number.group(1)) < bound:
            found.append((int(number.group(1)), osp.join(folder, name)))
    for _, candidate in sorted(found, reverse=True):
        if _problem(candidate) is None:
            return candidate
    return None


def check_checkpoint_complete(path: str, named_by: Optional[str] = None,
                              flag: str = '--resume') -> None:
    """Raise a clear error when ``path`` is missing or cut off.

    Args:
        path: a local checkpoint file (URLs are not checked).
        named_by: the file that pointed to it (mmengine's
            ``last_checkpoint``), to name in the message.
        flag: the command-line option to suggest with the previous file.

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: the file was cut off while being written or is no
            torch checkpoint (the message names the previous complete
            checkpoint next to it).
    """
    if '://' in path:
        return
    source = f' (named by {named_by})' if named_by else ''
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint not found: {path}{source}.')
    problem = _problem(path)
    if problem is None:
        return
    previous = previous_complete_checkpoint(path)
    hint = (f' The previous checkpoint {previous} is complete: use it '
            f'instead (`{flag} {previous}`).' if previous else
            ' No complete earlier checkpoint was found next to it.')
    raise RuntimeError(f'Checkpoint {path}{source} {problem}.{hint}')
