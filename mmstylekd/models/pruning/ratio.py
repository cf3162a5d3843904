"""Width arithmetic shared by the StyleGAN2 and StyleGAN3 students."""
from typing import Optional


def kept_channels(channels: int, ratio: float,
                  round_to: Optional[int] = None) -> int:
    """Channels a layer keeps when the fraction ``ratio`` is removed.

    The paper's semantics: ratio 0.7 keeps ``C - int(0.7 * C)`` (512 -> 154).
    With ``round_to`` the kept width is rounded down to a multiple of it,
    as torch-pruning's pruners do with their ``round_to`` option
    (``MetaPruner._round_to``: 154 -> 144 for 16, 152 for 8), but a layer
    keeps at least ``min(round_to, C)`` channels (torch-pruning would
    remove the layer's every channel).

    Args:
        channels (int): the teacher layer's width C.
        ratio (float): fraction of channels removed, in [0, 1).
        round_to (int, optional): kept widths are multiples of it
            (None or 1: no rounding).

    Returns:
        int: the student width, at least 1.
    """
    if not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ValueError(f'Pruning ratio must be in [0, 1) (the fraction of '
                         f'channels removed), got {ratio!r}.')
    kept = channels - int(ratio * channels)
    if kept < 1:
        raise ValueError(f'Pruning ratio {ratio} removes every one of the '
                         f'{channels} channels of a layer.')
    round_to = check_round_to(round_to)
    if round_to > 1:
        kept = max(kept - kept % round_to, min(round_to, channels))
    return kept


def check_round_to(round_to: Optional[int]) -> int:
    """``round_to`` as an int >= 1 (None: 1); anything else stops."""
    if round_to is None:
        return 1
    if isinstance(round_to, bool) or not isinstance(round_to, int) \
            or round_to < 1:
        raise ValueError(f'round_to must be a positive integer (kept widths '
                         f'are multiples of it), got {round_to!r}.')
    return round_to
