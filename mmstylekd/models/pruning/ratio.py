"""Width arithmetic shared by the StyleGAN2 and StyleGAN3 students."""


def kept_channels(channels: int, ratio: float) -> int:
    """Channels a layer keeps when the fraction ``ratio`` is removed.

    The paper's semantics: ratio 0.7 keeps ``C - int(0.7 * C)`` (512 -> 154).

    Args:
        channels (int): the teacher layer's width C.
        ratio (float): fraction of channels removed, in [0, 1).

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
    return kept
