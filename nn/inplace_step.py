"""An optimiser's array step proven unable to fail, then run with each result written in place.

:meth:`nn.optimizer.Optimizer.step_arrays` is all or nothing: a step whose result is not finite raises
and changes nothing.  Written into the arrays it reads, a step that overflowed half-way would leave them
half-updated, so it runs in place only once it cannot fail.  The proof: the update rule (the same
function, written once on a backend ``m``) runs on :class:`Bounded` arrays, which compute nothing but
record each operation and an interval ``[lo, hi]`` holding every number it will make.  IEEE arithmetic
rounds monotonically, so the bounds computed by the same operations on the interval's ends (with
Python floats: the same IEEE doubles) hold every number numpy makes, exactly; the step cannot fail
when every bound is finite (well inside: ``LIMIT``), no divisor's interval holds 0 and no square
root's goes below 0.  Then the recorded operations run again on the arrays with ufuncs' ``out=``,
each result into a buffer whose contents are dead: the same IEEE operations in the same order, the
same numbers as the rule on numpy arrays.  The gradient is never written.

The leaves' bounds: the gradient's from one ``minimum`` and one ``maximum`` pass (a NaN in it makes
them NaN: not provable); an array a step returned in place comes back with the bounds that step
proved for it, any other is measured.  Anything a :class:`Bounded` does not support (another numpy
function, ``bool()`` of an array, indexing) makes the step not provable: the caller then takes the
careful way, which computes the same numbers in fresh arrays and checks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Bounded", "InPlaceSteps", "LIMIT", "MIN_SIZE"]

LIMIT = 1e300  # every bound within +-LIMIT: far from an overflow
# Below this many numbers (256 KB of float64, where numpy itself starts eliding temporaries) the Python
# cost of the proof is more than the fresh arrays' cost it saves: such steps take the careful way.
MIN_SIZE = 32768


class Unprovable(Exception):
    """A bound shows the step may fail (with bounds carried over, measuring them may still prove it)."""


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
        raise Unprovable("a square root's interval goes below 0")
    return math.sqrt(a), math.sqrt(b)


def _negative(a: float, b: float) -> tuple[float, float]:
    return -b, -a


# name -> (ufunc, the bounds of its result from those of its operands)
_OPS: dict[str, tuple[Any, Callable[..., tuple[float, float]]]] = {
    "add": (np.add, _add), "subtract": (np.subtract, _sub), "multiply": (np.multiply, _mul),
    "divide": (np.true_divide, _div), "maximum": (np.maximum, _maximum), "minimum": (np.minimum, _minimum),
    "sqrt": (np.sqrt, _sqrt), "negative": (np.negative, _negative),
}


def _bounds(x: Any) -> tuple[float, float]:
    """A Bounded's interval, or a number's point (a Python float or a small int, as numpy takes them)."""
    if type(x) is Bounded:
        return x.lo, x.hi
    if type(x) is float or (type(x) is int and abs(x) <= 2**53):
        return float(x), float(x)
    raise Unsupported(f"an operand of type {type(x).__name__}")


class Bounded:
    """An array of a step being proved: the operation that makes it and the interval of its numbers.

    ``root`` and ``sign``: each number has the sign of ``root``'s times ``sign``, or is 0 (rounding keeps
    a sign), so a product of two with one root is known >= 0 (or <= 0): RMSprop's and Adam's
    ``(1 - beta) * g * g``, whose interval alone would reach below 0."""

    __slots__ = ("trace", "op", "args", "lo", "hi", "root", "sign")
    __array_ufunc__ = None  # numpy's operators defer to ours; its functions refuse a Bounded

    def __init__(self, trace: list, op: str, args: tuple, lo: float, hi: float) -> None:
        if not (-LIMIT <= lo <= hi <= LIMIT):  # (False for a NaN)
            raise Unprovable("a bound is not well inside the finite range")
        self.trace, self.op, self.args, self.lo, self.hi = trace, op, args, lo, hi
        self.root, self.sign = self, 1
        trace.append(self)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("a Bounded used as a numpy array")

    def __bool__(self) -> bool:
        raise Unsupported("the truth of a Bounded")

    def __eq__(self, other: Any) -> Any:
        raise Unsupported("a Bounded compared")

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def __add__(self, o: Any) -> Bounded:
        return _apply("add", self, o)

    def __radd__(self, o: Any) -> Bounded:
        return _apply("add", o, self)

    def __sub__(self, o: Any) -> Bounded:
        return _apply("subtract", self, o)

    def __rsub__(self, o: Any) -> Bounded:
        return _apply("subtract", o, self)

    def __mul__(self, o: Any) -> Bounded:
        return _apply("multiply", self, o)

    def __rmul__(self, o: Any) -> Bounded:
        return _apply("multiply", o, self)

    def __truediv__(self, o: Any) -> Bounded:
        return _apply("divide", self, o)

    def __rtruediv__(self, o: Any) -> Bounded:
        return _apply("divide", o, self)

    def __neg__(self) -> Bounded:
        return _apply("negative", self)


def _apply(op: str, *args: Any) -> Bounded:
    """The Bounded result of ``op`` on ``args`` (Bounded or numbers), recorded in their trace."""
    x, k = (args[0], args[-1]) if type(args[0]) is Bounded else (args[-1], args[0])  # (k: x itself if unary)
    lo, hi = _OPS[op][1](*[e for a in args for e in _bounds(a)])
    if op == "multiply" and type(k) is Bounded and x.root is k.root:  # sign * x_i * x_i >= 0
        lo, hi = (max(lo, 0.0), hi) if x.sign == k.sign else (lo, min(hi, 0.0))
    out = Bounded(x.trace, op, args, lo, hi)
    if op == "negative":
        out.root, out.sign = x.root, -x.sign
    elif op in ("multiply", "divide") and type(k) is not Bounded and k != 0:  # x_i times or over a number
        out.root, out.sign = x.root, x.sign if k > 0 else -x.sign
    return out


def _leaf(trace: list, a: Any, bounds: tuple[float, float] | None) -> Bounded:
    if bounds is None:
        bounds = float(np.minimum.reduce(a, axis=None)), float(np.maximum.reduce(a, axis=None))
    return Bounded(trace, "leaf", (a,), *bounds)


# the backend a rule gets as ``m`` while it is proved
BACKEND = type("BoundedBackend", (), {
    "sqrt": staticmethod(lambda x: _apply("sqrt", x)),
    "maximum": staticmethod(lambda x, y: _apply("maximum", x, y)),
    "minimum": staticmethod(lambda x, y: _apply("minimum", x, y)),
})()


class InPlaceSteps:
    """One optimiser's proved steps: the bounds of the arrays its last step returned in place (valid while
    the caller leaves them unchanged, as ``in_place=True`` promises) and its scratch arrays."""

    def __init__(self) -> None:
        self.known: list[tuple[Any, float, float]] = []  # (array, lo, hi)
        self.scratch: list[Any] = []

    def forget(self) -> None:
        self.known = []

    def step(self, rule: Callable, w: Any, g: Any, state: Sequence, h: Any,
             in_place: bool) -> tuple[Any, tuple] | None:
        """``rule``'s ``(new_w, new_state)`` on numpy arrays, or None when the step may fail (or is too
        small to gain): then nothing was written.  ``in_place``: the results may be written into ``w``
        and the state arrays (never into ``g``)."""
        arrays = (w, g, *state)
        if not all(type(a) is np.ndarray and a.dtype == np.float64 and a.shape == g.shape for a in arrays) \
                or g.size < MIN_SIZE:
            return None
        made = None
        # bounds carried over many steps widen: not provable with them, measure them and try again
        for known in ([self.known, []] if in_place and self.known else [[]]):
            try:
                made = self._prove(rule, w, g, state, h, known)
                break
            except Unprovable:
                pass
        if made is None:
            self.forget()
            return None
        trace, outs = made
        writable = [w, *state] if in_place and not _overlapping(arrays) else []
        results = self._run(trace, outs, writable, g)
        self.known = [(a, x.lo, x.hi) for a, x in zip(results, outs)] if in_place else []
        return results[0], tuple(results[1:])

    def _prove(self, rule: Callable, w: Any, g: Any, state: Sequence, h: Any,
               known: list) -> tuple[list, list] | None:
        trace: list[Bounded] = []
        given = {id(a): (lo, hi) for a, lo, hi in known}
        leaves = [_leaf(trace, a, given.get(id(a))) for a in (w, *state)]
        bw, *bstate = leaves
        bg = _leaf(trace, g, None)
        try:
            new_w, new_state = rule(BACKEND, bw, bg, tuple(bstate), h)
            outs = [new_w, *new_state]
        except Unprovable:
            raise
        except Exception:  # Unsupported, or anything else the rule does on a Bounded: the careful way decides
            return None
        if len(outs) != len(leaves) or any(type(x) is not Bounded or x.trace is not trace for x in outs) \
                or len({id(x) for x in outs}) != len(outs) \
                or any(x.op == "leaf" and x is not leaf for x, leaf in zip(outs, leaves)):
            return None  # (a rule returning the same array twice, or another's, aliases: not in place)
        return trace, outs

    def _run(self, trace: list, outs: list, writable: list, like: Any) -> list:
        """Evaluate the recorded operations the ``outs`` need, each into a buffer whose contents are dead
        (the ``writable`` arrays once read for the last time, scratch arrays like ``like``); returns the
        ``outs``' arrays.  An output goes into its own ``writable`` array when that is dead by then."""
        needed = {id(x) for x in outs}
        for x in reversed(trace):
            if id(x) in needed:
                needed.update(id(a) for a in x.args if type(a) is Bounded)
        last: dict[int, float] = {}
        for i, x in enumerate(trace):
            for a in x.args:
                if type(a) is Bounded:
                    last[id(a)] = i
        for x in outs:
            last[id(x)] = math.inf
        home = {id(x): a for x, a in zip(outs, writable)}
        mine = {id(a) for a in writable}  # the buffers that may be written
        buf: dict[int, Any] = {}
        free: list[Any] = []
        scratch = [a for a in self.scratch if a.shape == like.shape]
        plan = []
        for i, x in enumerate(trace):
            if id(x) not in needed:
                continue
            if x.op == "leaf":
                buf[id(x)] = x.args[0]
                continue
            dying = [buf[id(a)] for a in x.args if type(a) is Bounded and last[id(a)] == i]
            free.extend(b for b in dying if id(b) in mine and not any(b is f for f in free))
            # its own array when dead, else one of its operands' (as ``a *= m``), else any dead one, else scratch
            wanted = [home.get(id(x)), *dying, *free]
            pick = next((b for b in wanted if b is not None and any(b is f for f in free)), None)
            if pick is None:
                pick = scratch.pop() if scratch else np.empty_like(like)
                mine.add(id(pick))
            else:
                free[:] = [f for f in free if f is not pick]
            buf[id(x)] = pick
            plan.append((x, pick))
        with np.errstate(all="ignore"):  # proved: nothing but an underflow can happen
            for x, out in plan:
                _OPS[x.op][0](*[buf[id(a)] if type(a) is Bounded else a for a in x.args], out=out)
        results = [buf[id(x)] for x in outs]
        kept = {id(r) for r in results}
        self.scratch = [b for b in {id(b): b for b in [*free, *scratch]}.values()
                        if id(b) not in kept and not any(b is a for a in writable)]
        return results


def _overlapping(arrays: Sequence) -> bool:
    """Whether any two of ``arrays`` may share memory (then none is written in place)."""
    return any(np.may_share_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])
