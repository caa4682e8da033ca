"""Bounded arrays: what an update rule computes, recorded with an interval holding every number of it.

An update rule (:mod:`nn.update_rules`, written once on a backend ``m``) run on :class:`Bounded` leaves
computes nothing: each operation (``+ - * /``, unary ``-``, ``m.sqrt``, ``m.maximum``, ``m.minimum``)
records itself in a :class:`Trace` with the interval ``[lo, hi]`` of the numbers it will make.  Numbers
(the hyperparameters) are exact points.  IEEE arithmetic rounds monotonically, so an interval computed
by the same operations on its operands' ends, with Python floats (the same IEEE doubles), holds every
number numpy will make, exactly, with nothing to round outwards.  A bound leaving ``+-LIMIT`` (or a
NaN), a divisor's interval holding 0 and a square root's reaching below 0 raise :class:`Unprovable`:
then the operation could overflow or be invalid.  Anything else a Bounded is asked (another numpy
function, ``bool()``, a comparison, indexing, an operand that is not a Python number) raises
:class:`Unsupported`.  :mod:`nn.inplace_step` uses both to run a step in place only when it cannot fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Bounded", "Trace", "magnitude", "measure", "Unprovable", "Unsupported", "BACKEND", "LIMIT", "OPS"]

LIMIT = 1e300  # every bound within +-LIMIT: far from an overflow


class Unprovable(Exception):
    """A bound shows that the operation could fail (overflow, divide by 0, be invalid)."""


class Unsupported(Exception):
    """The rule did something a :class:`Bounded` does not record."""


def _add(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    return a + c, b + d


def _sub(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    return a - d, b - c


def _mul(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    p = (a * c, a * d, b * c, b * d)
    return min(p), max(p)


def _div(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    if not (c > 0.0 or d < 0.0):
        raise Unprovable("a divisor's interval holds 0")
    q = (a / c, a / d, b / c, b / d)
    return min(q), max(q)


def _maximum(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    return max(a, c), max(b, d)


def _minimum(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    return min(a, c), min(b, d)


def _sqrt(a: float, b: float) -> tuple[float, float]:
    if not a >= 0.0:
        raise Unprovable("a square root's interval reaches below 0")
    return math.sqrt(a), math.sqrt(b)


def _negative(a: float, b: float) -> tuple[float, float]:
    return -b, -a


# name -> (the ufunc, the bounds of its result from its operands' ends)
OPS: dict[str, tuple[Any, Callable[..., tuple[float, float]]]] = {
    "add": (np.add, _add), "subtract": (np.subtract, _sub), "multiply": (np.multiply, _mul),
    "divide": (np.true_divide, _div), "maximum": (np.maximum, _maximum), "minimum": (np.minimum, _minimum),
    "sqrt": (np.sqrt, _sqrt), "negative": (np.negative, _negative),
}


class Trace:
    """The Bounded of one step in the order they were made, and ``sig``: each one's operation and the
    positions of its Bounded operands (None for a number): the same for every step of one rule with the
    same options, whatever the numbers.  :meth:`close` breaks the cycle between the trace and its
    Bounded, so that the arrays they hold are freed at once, not by the garbage collector (a gradient
    kept alive until then makes the next one fault fresh pages in)."""

    __slots__ = ("nodes", "sig")

    def __init__(self) -> None:
        self.nodes: list[Bounded] = []
        self.sig: list[tuple[str, tuple, int]] = []

    def close(self) -> None:
        self.nodes = []

    def leaf(self, a: Any, bounds: tuple[float, float]) -> Bounded:
        """A Bounded for the array ``a``, whose numbers lie within ``bounds``."""
        return Bounded(self, "leaf", (a,), *bounds)

    def numbers(self) -> list[tuple]:
        """Each Bounded's operands with None for the Bounded ones: the numbers the operations take."""
        return [tuple(None if type(a) is Bounded else a for a in x.args) for x in self.nodes]


def measure(a: Any) -> tuple[float, float]:
    """The minimum and the maximum of an array (both NaN when it holds a NaN), from two reductions that
    compare without arithmetic: no floating-point flag is set, whatever the array holds."""
    return float(np.minimum.reduce(a, axis=None)), float(np.maximum.reduce(a, axis=None))


def magnitude(a: Any) -> tuple[float, float]:
    """``(-r, r)`` holding every number of the float64 array ``a``, from one pass: its dot product with
    itself, ``s`` (NaN when ``a`` holds a NaN, inf when it holds an inf or beyond 1e154, then an
    overflow flag that the caller's ``np.errstate`` ignores: a bound that proves nothing).

    A sum of non-negative terms, in any order, with or without fused multiply-adds, rounds to at least
    each term's rounded square, which is at least ``a_i**2 * (1 - 2**-53)`` or, underflowed, at least
    ``a_i**2 - 2**-1074``: ``r = sqrt(s) * (1 + 1e-12) + 1e-150`` covers both with room to spare."""
    r = math.sqrt(float(np.vdot(a, a))) * (1.0 + 1e-12) + 1e-150
    return -r, r


class Bounded:
    """An array a rule makes: the operation making it, its operands and the interval of its numbers.

    ``root`` and ``sign``: each number has the sign of the number of the Bounded at position ``root``
    times ``sign``, or is 0 (rounding keeps a sign), so a product of two with one root is known >= 0
    (or <= 0): RMSprop's and Adam's
    ``(1 - beta) * g * g``, whose interval alone would reach below 0."""

    __slots__ = ("trace", "i", "op", "args", "lo", "hi", "root", "sign")
    __array_ufunc__ = None  # numpy's operators defer to ours; its functions refuse a Bounded

    def __init__(self, trace: Trace, op: str, args: tuple, lo: float, hi: float, refs: tuple = (),
                 sign: int = 0) -> None:
        if not (-LIMIT <= lo <= hi <= LIMIT):  # (False for a NaN)
            raise Unprovable("a bound is not well inside the finite range")
        self.trace, self.op, self.args, self.lo, self.hi = trace, op, args, lo, hi
        nodes = trace.nodes
        self.i = self.root = len(nodes)  # (positions, not references: a trace's only cycle is its list)
        self.sign = 1
        nodes.append(self)
        # refs: the operands' positions (None for a number); sign: the result known >= 0 (1) or <= 0 (-1)
        trace.sig.append((op, refs, sign))

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("a Bounded used as a numpy array")

    def __bool__(self) -> bool:
        raise Unsupported("the truth of a Bounded")

    def __eq__(self, other: Any) -> Any:
        raise Unsupported("a Bounded compared")

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def __add__(self, o: Any) -> Bounded:
        return binary("add", self, o)

    def __radd__(self, o: Any) -> Bounded:
        return binary("add", o, self)

    def __sub__(self, o: Any) -> Bounded:
        return binary("subtract", self, o)

    def __rsub__(self, o: Any) -> Bounded:
        return binary("subtract", o, self)

    def __mul__(self, o: Any) -> Bounded:
        return binary("multiply", self, o)

    def __rmul__(self, o: Any) -> Bounded:
        return binary("multiply", o, self)

    def __truediv__(self, o: Any) -> Bounded:
        return binary("divide", self, o)

    def __rtruediv__(self, o: Any) -> Bounded:
        return binary("divide", o, self)

    def __neg__(self) -> Bounded:
        return unary("negative", self)


def _number(a: Any) -> float:
    """A Python number as numpy takes it with a float64 array (exactly), else Unsupported."""
    if type(a) is float:
        return a
    if type(a) is int and abs(a) <= 2**53:
        return float(a)
    raise Unsupported(f"an operand of type {type(a).__name__}")


def binary(op: str, a: Any, b: Any) -> Bounded:
    """The Bounded result of ``op`` on ``a`` and ``b`` (Bounded, or Python numbers)."""
    ta, tb = type(a) is Bounded, type(b) is Bounded
    alo, ahi = (a.lo, a.hi) if ta else (_number(a),) * 2
    blo, bhi = (b.lo, b.hi) if tb else (_number(b),) * 2
    lo, hi = OPS[op][1](alo, ahi, blo, bhi)
    if ta and tb:
        sign = 0
        if op == "multiply" and a.root == b.root:  # sign * x_i * x_i >= 0
            sign = 1 if a.sign == b.sign else -1
            lo, hi = (max(lo, 0.0), hi) if sign > 0 else (lo, min(hi, 0.0))
        return Bounded(a.trace, op, (a, b), lo, hi, (a.i, b.i), sign)
    if not (ta or tb):
        raise Unsupported("no Bounded operand")
    x, k = (a, b) if ta else (b, a)
    out = Bounded(x.trace, op, (a, b), lo, hi, (a.i, None) if ta else (None, b.i))
    if (op == "multiply" or op == "divide") and k != 0:  # x_i times, over or into a number: x's sign or -x's
        out.root, out.sign = x.root, x.sign if k > 0 else -x.sign
    return out


def unary(op: str, a: Any) -> Bounded:
    """The Bounded result of ``op`` on the Bounded ``a``."""
    if type(a) is not Bounded:
        raise Unsupported(f"an operand of type {type(a).__name__}")
    out = Bounded(a.trace, op, (a,), *OPS[op][1](a.lo, a.hi), (a.i,))
    if op == "negative":
        out.root, out.sign = a.root, -a.sign
    return out


class _Backend:
    """The backend ``m`` a rule gets while it is proved: the functions of ``m`` the rules use."""

    @staticmethod
    def sqrt(x: Any) -> Bounded:
        return unary("sqrt", x)

    @staticmethod
    def maximum(x: Any, y: Any) -> Bounded:
        return binary("maximum", x, y)

    @staticmethod
    def minimum(x: Any, y: Any) -> Bounded:
        return binary("minimum", x, y)


BACKEND = _Backend()
