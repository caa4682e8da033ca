"""Argument checks shared by nn, with one wording: ``"{caller}: {arg} must be ..., got {value!r}"``.

Every validator takes the name of the function the user called first, so a shared helper never
names the wrong function (``evaluate: no loss named 'nope'; ...`` rather than ``fit: ...``), and
returns the value converted (``float``, ``int``, ``list[int]``), numpy scalars included.  Values are
shown through :func:`show`, which bounds their length: an error is always one short line.

A wrong *type* is a TypeError (the message adds the type's name); a number out of range is a
ValueError.  Whole numbers are the exception: ``1.5`` or ``"3"`` for an epoch count is a ValueError,
as it has always been in fit.

>>> real("SGD", "lr", 0.1)
0.1
>>> positive_int("MLP", "nin", __import__("numpy").int64(3))
3
>>> non_negative("SGD", "lr", -1.0)
Traceback (most recent call last):
...
ValueError: SGD: lr must be finite and >= 0, got -1.0
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

__all__ = [
    "UnknownNameError",
    "show",
    "fail",
    "real",
    "non_negative",
    "positive",
    "interval",
    "unit_interval",
    "integer",
    "positive_int",
    "sizes",
    "function",
    "choice",
    "lookup",
    "unknown",
    "normal_name",
    "fixed",
]

T = TypeVar("T")

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxlevel = 2


class UnknownNameError(ValueError, KeyError):
    """A name that is not in a registry: a ValueError for fit and friends, a KeyError for lookups
    such as ``nn.losses.get`` (``dict``-style), with the plain message of a ValueError."""

    __str__ = ValueError.__str__


def show(value: Any) -> str:
    """``repr(value)`` cut to about 60 characters on one line (containers to their first items)."""
    text = _REPR.repr(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:76] + " ..."


def fail(caller: str, arg: str, must: str, value: Any, error: type[Exception] = ValueError) -> Exception:
    """The exception ``"{caller}: {arg} must be {must}, got {value}"`` (TypeErrors name the type too)."""
    got = f"{type(value).__name__} {show(value)}" if issubclass(error, TypeError) else show(value)
    return error(f"{caller}: {arg} must be {must}, got {got}")


def _float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an int or Fraction beyond the float range
        return math.inf if value > 0 else -math.inf


def real(caller: str, arg: str, value: Any, *, finite: bool = True) -> float:
    """A real number (not a bool) as a float; finite unless ``finite=False``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(getattr(value, "data", None), numbers.Real) and hasattr(value, "grad"):  # an autograd Value
            raise TypeError(f"{caller}: {arg} must be a plain number, got {show(value)} (use .data for its number)")
        raise fail(caller, arg, "a real number", value, TypeError)
    x = _float(value)
    if finite and not math.isfinite(x):
        raise fail(caller, arg, "finite", x)
    return x


def non_negative(caller: str, arg: str, value: Any) -> float:
    """A finite real number >= 0."""
    x = real(caller, arg, value, finite=False)
    if not (math.isfinite(x) and x >= 0.0):
        raise fail(caller, arg, "finite and >= 0", x)
    return x


def positive(caller: str, arg: str, value: Any) -> float:
    """A finite real number > 0."""
    x = real(caller, arg, value, finite=False)
    if not (math.isfinite(x) and x > 0.0):
        raise fail(caller, arg, "finite and > 0", x)
    return x


def interval(caller: str, arg: str, value: Any, low: float, high: float, *,
             low_open: bool = False, high_open: bool = False, what: str = "") -> float:
    """A real number in the interval from ``low`` to ``high`` (each end closed unless ``*_open``)."""
    x = real(caller, arg, value, finite=False)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (above and below):
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise fail(caller, arg, f"{what} in {span}" if what else f"in {span}", x)
    return x


def unit_interval(caller: str, arg: str, value: Any) -> float:
    """A real number in (0, 1] (a fraction that cannot be zero, e.g. a decay factor)."""
    return interval(caller, arg, value, 0.0, 1.0, low_open=True)


def integer(caller: str, arg: str, value: Any, minimum: int | None = None) -> int:
    """A whole number (Python or numpy integer, not a bool) >= ``minimum``, as an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
        minimum is not None and value < minimum
    ):
        raise fail(caller, arg, "an integer" if minimum is None else f"an integer >= {minimum}", value)
    return int(value)


def positive_int(caller: str, arg: str, value: Any) -> int:
    """A whole number >= 1 (Python or numpy integer), as an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise fail(caller, arg, "a positive integer", value)
    return int(value)


def sizes(caller: str, arg: str, value: Any) -> list[int]:
    """A non-empty sequence of positive whole numbers: a list, a tuple or a 1-D integer array."""
    if isinstance(value, (str, bytes, numbers.Number)) or not isinstance(value, Iterable):
        raise fail(caller, arg, "a non-empty list of layer sizes", value)
    if getattr(value, "ndim", 1) != 1:
        raise fail(caller, arg, "a non-empty list of layer sizes (1-D)", value)
    items = list(value)
    if not items:
        raise fail(caller, arg, "a non-empty list of layer sizes", value)
    return [positive_int(caller, f"each of {arg}", n) for n in items]


def function(caller: str, arg: str, value: Any, what: str = "a function") -> Callable[..., Any]:
    """A callable (``what`` says which signature, e.g. "a function t -> lr")."""
    if not callable(value):
        raise fail(caller, arg, what, value, TypeError)
    return cast(Callable[..., Any], value)


def fixed(caller: str, arg: str, value: Any, instead: str) -> AttributeError:
    """The error for assigning what the constructor fixes (a read-only property), saying what to do instead:
    ``"{caller}: {arg} cannot be assigned after construction, got {value}; {instead}"``."""
    return AttributeError(f"{caller}: {arg} cannot be assigned after construction, got {show(value)}; {instead}")


def normal_name(name: str) -> str:
    """The key a name is looked up under: ``"Cross-Entropy "`` -> ``"cross_entropy"``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def choice(caller: str, kind: str, name: Any, known: Iterable[str]) -> str:
    """``name`` itself when it is one of ``known`` (after :func:`normal_name`), else UnknownNameError."""
    names = list(known)
    key = normal_name(name) if isinstance(name, str) else None
    if key not in names:
        raise _unknown(caller, kind, name, names)
    return key


def lookup(caller: str, kind: str, name: Any, table: Mapping[str, T], aliases: Mapping[str, str] | None = None) -> T:
    """``table[name]`` (``name`` normalised, then resolved through ``aliases``); else UnknownNameError
    ``"{caller}: no {kind} named 'nope'; known: ..."`` listing names and aliases."""
    aliases = aliases or {}
    if isinstance(name, str):
        key = normal_name(name)
        key = aliases.get(key, key)
        if key in table:
            return table[key]
    raise _unknown(caller, kind, name, [*table, *aliases])


def unknown(kind: str, name: Any, known: Iterable[str]) -> str:
    """``"no loss named 'nope'; known: a, b, c"`` (the message without a caller, e.g. for argparse)."""
    listed = ", ".join(sorted(known))
    if not isinstance(name, str):
        return f"{kind} must be a name (one of {listed}), got {type(name).__name__} {show(name)}"
    return f"no {kind} named {show(name)}; known: {listed}"


def _unknown(caller: str, kind: str, name: Any, known: list[str]) -> UnknownNameError:
    return UnknownNameError(f"{caller}: {unknown(kind, name, known)}")
