"""How every drawing prints a number: significant digits, so no non-zero value is rounded away.

A fixed number of decimals misleads on gradients: -7.37e-05 at four decimals prints as -0.0001
(26 % off) and 4e-09 as 0.0000.  Counting significant digits instead keeps every number's own
precision; very small and very large magnitudes switch to exponent form so no box grows wide.
draw_dot, the frames, the player's captions, the CLI's graph.svg and the web page all print through
``number_text``.
"""

from __future__ import annotations

import decimal
import math
from typing import Any

__all__ = ["number_text", "DIGITS"]

DIGITS = 4  # significant digits drawings show by default
_SMALLEST_FIXED, _LARGEST_FIXED = -3, 6  # decimal exponents written without exponent form: 0.001 ... 999999


def number_text(x: Any, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits: 0.5000, -1.500, 0.001234, -7.371e-05, 1.235e+20.

    Zero prints as ``0`` (never ``-0``); nan and infinities as Python writes them; an int past float's
    range in exponent form; anything that is not a number (a bool, a str, None) as ``str(x)``.

    >>> number_text(-7.3712e-05), number_text(4.9153e-05, 3), number_text(-0.0), number_text(2.0)
    ('-7.371e-05', '4.92e-05', '0', '2.000')
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"number_text: digits (significant digits) must be an int from 1, got {digits!r}")
    if isinstance(x, bool):  # True is not the number 1.000
        return str(x)
    try:
        x = float(x)
    except OverflowError:  # an int past float's range (10 ** 400): its exponent form, exactly rounded
        return format(decimal.Decimal(int(x)), f".{digits - 1}e")
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    scientific = f"{x:.{digits - 1}e}"
    exponent = int(scientific.rsplit("e", 1)[1])  # of the rounded number: 9.99996 -> 1.000e+01
    if not _SMALLEST_FIXED <= exponent < _LARGEST_FIXED:
        return scientific
    return f"{x:.{max(0, digits - 1 - exponent)}f}"
