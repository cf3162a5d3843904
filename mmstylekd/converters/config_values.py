"""What a converter may write into a config: checked values, as literals.

A generated config is Python that mmengine runs (``Config.fromfile``), and
what the converters put in it comes from files of unknown origin (an NVlabs
pickle's attributes, a rosinality checkpoint's ``args``, file names). So a
value read from a source is checked for what it must be (an int is an int,
not ``'16'`` or ``True``; a float is finite; a name is one of a fixed set)
before it becomes part of a config, and the config is written as data only:

- :func:`literal`: Python source of plain ``int``/``float``/``bool``/
  ``str``/``None``/``list``/``tuple``/``dict`` values, anything else refused;
  strings are ``repr`` with ``{`` and ``}`` escaped, because mmengine
  substitutes ``{{ fileDirname }}``, ``{{$ENV:default}}`` and
  ``{{_base_.x}}`` in the file's text before parsing it;
- :func:`comment_lines`: ``#`` lines of free text (paths, notes) with line
  breaks, control characters and ``{{`` removed.
"""
import keyword
import math
import re
import textwrap
import unicodedata
from typing import Any, Iterable, List

import numpy as np

#: how much of an offending value a message shows
REPR_LIMIT = 80
#: one line of a config (the literal wraps containers beyond it)
LINE_WIDTH = 79


def short_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _refuse(field: str, value: Any, expected: str) -> ValueError:
    return ValueError(f'{field} is {short_repr(value)} '
                      f'({type(value).__name__}): expected {expected}.')


def _python_scalar(value: Any) -> Any:
    # NVlabs keeps sizes and gains as numpy scalars
    return value.item() if isinstance(value, np.generic) else value


def as_int(value: Any, field: str) -> int:
    """``value`` when it is an integer (Python or numpy; not a bool).

    Args:
        value: what the source holds.
        field (str): where it comes from (file and attribute), for the
            message.

    Returns:
        int: the value as a Python int.

    Raises:
        ValueError: naming ``field`` and the value.
    """
    value = _python_scalar(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(field, value, 'an integer')
    return int(value)


def as_real(value: Any, field: str, optional: bool = False):
    """``value`` when it is a finite number (an int stays an int).

    Args:
        value: what the source holds.
        field (str): where it comes from, for the message.
        optional (bool): also accept None.

    Returns:
        int | float | None: the value as a Python number.

    Raises:
        ValueError: not a number (a string, a bool, ...), or inf / nan.
    """
    value = _python_scalar(value)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(field, value,
                      'a number' + (' or None' if optional else ''))
    if not math.isfinite(value):
        raise _refuse(field, value, 'a finite number')
    return int(value) if isinstance(value, int) else float(value)


def as_bool(value: Any, field: str) -> bool:
    """``value`` when it is a bool (Python or numpy).

    Raises:
        ValueError: naming ``field`` and the value.
    """
    value = _python_scalar(value)
    if not isinstance(value, bool):
        raise _refuse(field, value, 'True or False')
    return value


def as_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    """``value`` when it is one of the strings ``choices``.

    Raises:
        ValueError: naming ``field``, the value and the choices.
    """
    choices = sorted(choices)
    if not isinstance(value, str) or value not in choices:
        raise _refuse(field, value, f'one of {choices}')
    return str(value)


# ------------------------------------------------------------------ writing
def _str_literal(text: str) -> str:
    # repr never puts a brace inside an escape sequence, so every brace it
    # writes is a character of the string and can be escaped on its own
    return str.__repr__(text).replace('{', r'\x7b').replace('}', r'\x7d')


def _is_keyword_name(key: Any) -> bool:
    # non-ASCII identifiers are NFKC-normalised by the parser: a key
    # written as dict(ｋey=...) would load as 'key'
    return isinstance(key, str) and key.isascii() and key.isidentifier() \
        and not keyword.iskeyword(key)


def _join(opening: str, items: list, closing: str, indent: int) -> str:
    """``items`` on one line when it fits, else one per line."""
    inline = opening + ', '.join(items) + closing
    if len(inline) + indent <= LINE_WIDTH or len(items) < 2:
        return inline
    pad = ' ' * (indent + 4)
    return (opening + '\n' + ''.join(f'{pad}{item},\n' for item in items) +
            ' ' * indent + closing)


def _dict_literal(value: dict, field: str, indent: int) -> str:
    if value and all(_is_keyword_name(k) for k in value):
        # dict(key=...), as configs are written
        pad = ' ' * (indent + 4)
        items = ''.join(
            f'{pad}{k}={literal(v, f"{field}.{k}", indent + 4)},\n'
            for k, v in value.items())
        return 'dict(\n' + items + ' ' * indent + ')'
    items = []
    for k, v in value.items():
        if isinstance(k, (dict, list, tuple)):
            raise _refuse(f'{field} key', k, 'a plain scalar key')
        items.append(f'{literal(k, f"{field} key", indent + 4)}: '
                     f'{literal(v, f"{field}[{k!r}]", indent + 4)}')
    return _join('{', items, '}', indent)


def literal(value: Any, field: str, indent: int = 0) -> str:
    """Python source of a plain config value; nothing else is written.

    Args:
        value: ``None``, ``bool``, ``int``, finite ``float``, ``str``, or a
            ``list``/``tuple``/``dict`` of those (dict keys: scalars).
        field (str): the value's name in the config, for the message.
        indent (int): column of the value (for wrapping and ``dict(...)``).

    Returns:
        str: an expression that evaluates to ``value``.

    Raises:
        ValueError: anything else (numpy or torch values, objects, inf/nan),
            naming ``field``.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    # the base types' repr: a subclass could override __repr__
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(as_real(value, field))
    if isinstance(value, str):
        return _str_literal(value)
    if isinstance(value, dict):
        return _dict_literal(value, field, indent)
    if isinstance(value, (list, tuple)):
        items = [
            literal(v, f'{field}[{i}]', indent + 4)
            for i, v in enumerate(value)
        ]
        if isinstance(value, list):
            return _join('[', items, ']', indent)
        return _join('(', items, ',)' if len(items) == 1 else ')', indent)
    raise _refuse(field, value,
                  'a plain int, float, bool, str, None, list, tuple or dict')


#: characters that end a line somewhere (Python, editors, str.splitlines)
#: or do not belong in text: control, format, surrogate, private, unassigned
_DROPPED = ('Cc', 'Cf', 'Cs', 'Co', 'Cn', 'Zl', 'Zp')


def comment_lines(text: Any, width: int = LINE_WIDTH) -> List[str]:
    """``# ...`` lines of free text, whatever ``text`` holds.

    Line breaks and other control characters are removed (a comment cannot
    end early: what follows is wrapped onto new ``#`` lines only at spaces),
    and ``{{`` is broken up (mmengine substitutes ``{{ ... }}`` in the file's
    text, comments included).

    Args:
        text: the text (converted with ``str``).
        width (int): wrap at this column where the text has spaces.

    Returns:
        list[str]: the comment lines, without newlines.
    """
    kept = ''.join(c for c in str(text)
                   if unicodedata.category(c) not in _DROPPED)
    kept = re.sub(r'\{(?=\{)', '{ ', kept)
    wrapped = textwrap.wrap(kept, width - 2, break_long_words=False,
                            break_on_hyphens=False)
    return ['# ' + line for line in wrapped or ['']]
