"""Configs and metadata as plain data, for ``weights_only`` checkpoints."""
import torch


def plain(obj):
    """Config/meta values as plain dicts, lists and scalars.

    A checkpoint holding them then loads with
    ``torch.load(weights_only=True)``.

    Args:
        obj: a dict, list, tuple or scalar, nested in any way; numpy scalars
            included.

    Returns:
        The same structure with dicts, lists (tuples become lists) and
        Python numbers (numpy scalars become Python numbers). Tensors are
        kept.
    """
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, 'item') and not isinstance(obj, torch.Tensor):
        return obj.item()  # numpy scalars
    return obj
