"""Backends: the elementary functions the op table's rules are written in.

A backend is a namespace with exactly the names in :data:`NAMES` (the interface, declared once here;
tests/autograd/test_backends.py checks every backend against it).
``step(a, b=0, tie=0)`` is the one non-smooth primitive: 1 where a > b, ``tie`` where a == b,
0 where a < b, always a *constant* (its derivative is zero), which is what makes relu'' = 0 and
the tie-splitting of maximum come out right.  ``select(x, pos, neg)`` is ``pos`` where x > 0 and
``neg`` where x <= 0 without multiplying the unused branch by 0 (0 * inf would be NaN), so
elu(x, alpha=inf) is x for x > 0, as in PyTorch.  NaN in, NaN out: ``step``, ``select`` and
``max`` give NaN when a compared operand is NaN, on every backend (docs/engine.md, "Numeric
conventions").  ``each(f, xs)`` applies ``f`` (written on the backend, like a rule) to each input
of an n-ary rule and returns a tuple, ``f(x)`` for each ``x``: on floats and Values the loop a rule
would write; on arrays (the tape's numpy backend) one call on the inputs stacked, so ``f`` must be
elementwise.

Two backends live here, in pure Python: ``FLOAT`` (eager engine) and ``VALUE`` (derivatives of
derivatives: the rules run on Values and build graphs; the built-in rules run on ``VALUE_BUILTIN``,
its twin whose arithmetic, too, makes built-in nodes).  The tape has two more: numpy arrays for
batches and symbols for generated code (:mod:`autograd.tape.arrays`, :mod:`autograd.tape.symbols`).
A backend function that is an op (``m.sigmoid``; on Values ``m.exp``, ``m.sumprod`` ...) is the
built-in op (``table.BUILTINS``), never a replacement of its name.  Nothing here imports the Value
class: ``VALUE`` calls table ops on whatever it is given.
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace
from typing import Any

from .table import BUILTINS

# The backend interface: the names every backend provides, and nothing else.  ``ELEMENTWISE`` are the
# functions of one number with no special case on any backend (the symbolic ones call them by name).
ELEMENTWISE = ("exp", "expm1", "log", "log1p", "sqrt", "tanh", "sin", "cos", "abs")
NAMES = (*ELEMENTWISE, "pow", "pow_positive", "finite_or", "maximum", "minimum", "step", "select", "sum", "sumprod",
         "max", "each", "sigmoid")


def backend(written: dict[str, Any], rest: Any) -> SimpleNamespace:
    """A backend: the functions ``written`` out, and ``rest(name)`` for every other name of :data:`NAMES`."""
    undeclared = set(written) - set(NAMES)
    if undeclared:
        raise TypeError(f"backend(): {sorted(undeclared)} are not backend names (autograd.backends.NAMES)")
    return SimpleNamespace(**{f: written[f] if f in written else rest(f) for f in NAMES})


def _float_pow(x: float, n: float) -> float:
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        # Python would return a complex number here; a real engine must refuse.
        raise ValueError("a negative base needs an integer exponent")
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError("0 ** negative is undefined")
    result: float = x ** n
    return result


def _float_pow_positive(a: float, b: float) -> float:
    if not a > 0.0:  # its derivative with respect to b is a ** b * log(a)
        raise ValueError("math domain error")
    result: float = a ** b
    return result


def _finite_or(x: float, default: float) -> float:
    return x if math.isfinite(x) else default


def _float_step(a: float, b: float = 0.0, tie: float = 0.0) -> float:
    # a comparison with NaN is neither >, == nor <: the slope of relu/abs/maximum at NaN is NaN
    return 1.0 if a > b else (tie if a == b else (0.0 if a < b else math.nan))


def _float_select(x: float, pos: float, neg: float) -> float:
    return pos if x > 0.0 else (neg if x <= 0.0 else math.nan)


def _each(f: Any, xs: Any) -> tuple:
    return tuple(map(f, xs))


def _float_max(xs: Any) -> float:
    # builtin max skips a NaN that is not first (max([1.0, nan]) is 1.0): NaN in, NaN out
    top: float = max(xs)
    for x in xs:
        if x != x:
            return float(x)
    return top


# exp, expm1, log, log1p, sqrt, tanh, sin, cos: math's function of that name
FLOAT: SimpleNamespace = backend(dict(
    abs=abs,
    pow=_float_pow,
    pow_positive=_float_pow_positive,
    finite_or=_finite_or,
    # NaN propagates, as in numpy and PyTorch (a != a only for NaN): relu(nan) is nan, not 0.
    maximum=lambda a, b: a if a >= b or a != a else b,
    minimum=lambda a, b: a if a <= b or a != a else b,
    step=_float_step,
    select=_float_select,
    sum=sum,  # left to right, like a plain loop (not fsum)
    sumprod=lambda w, x: sum(map(operator.mul, w, x)),
    max=_float_max,
    each=_each,
    sigmoid=lambda x: BUILTINS["sigmoid"].forward(FLOAT, x),  # the built-in rule, not a replacement
), lambda f: getattr(math, f))


def _number(x: Any) -> Any:
    return x.data if hasattr(x, "data") else x


def _op(name: str) -> Any:
    """The backend function that makes a node of the built-in op ``name`` (not of a replacement)."""
    return lambda *xs: BUILTINS[name](*xs)


def _value_pow(x: Any, n: Any) -> Any:
    # x**0 is the constant 1 and x**1 is x: no node, so x**2 differentiates to 2*x, then 2, then 0
    # everywhere (a node x**0 would have the derivative 0 * x**-1, undefined at 0).
    return 1.0 if n == 0.0 else (x if n == 1.0 else BUILTINS["pow_const"](x, n=n))


def _value_pow_positive(a: Any, b: Any) -> Any:
    # a ** b: an input exponent (a Value) makes a pow node, a number a pow_const node, as Value's ** does
    return BUILTINS["pow"](a, b) if hasattr(b, "data") else BUILTINS["pow_const"](a, n=b)


# Rules evaluated on Values build graphs (create_graph=True): each function makes a node of a built-in
# op, so the derivative of a derivative comes from the same table, and a replaced op changes only what
# its own name makes.
# Every name not written here is the built-in op of that name (exp, log, ..., sigmoid, maximum, minimum).
VALUE = backend(dict(
    pow=_value_pow,
    step=lambda a, b=0.0, tie=0.0: _float_step(_number(a), _number(b), tie),
    sum=lambda xs: BUILTINS["sum"](*xs),
    sumprod=lambda w, x: BUILTINS["dot"](*w, *x),
    select=lambda x, pos, neg: _float_select(_number(x), pos, neg),
    max=lambda xs: next((x for x in xs if _number(x) != _number(x)), None) or max(xs, key=_number),
    log1p=lambda x: BUILTINS["log"](BUILTINS["add"](1.0, x)),
    expm1=lambda x: BUILTINS["sub"](BUILTINS["exp"](x), 1.0),
    pow_positive=_value_pow_positive,
    finite_or=lambda x, default: x if math.isfinite(_number(x)) else default,
    each=_each,
), _op)


def times(a: Any, b: Any) -> Any:
    """``a * b`` for the engine's own chain rule: numbers as numbers; with a Value, a node of the built-in
    ``mul``, so a replaced ``mul`` changes what ``*`` makes in user code, not derivative graphs."""
    return BUILTINS["mul"](a, b) if hasattr(a, "data") or hasattr(b, "data") else a * b


def plus(a: Any, b: Any) -> Any:
    """``a + b`` for the engine's own chain rule (see :func:`times`)."""
    return BUILTINS["add"](a, b) if hasattr(a, "data") or hasattr(b, "data") else a + b


class OnBuiltins:
    """A Value (or number) as a built-in rule sees it on :data:`VALUE_BUILTIN`: its arithmetic makes
    nodes of the built-in ops, so the derivative graph of tanh (one minus out times out) is built from
    the built-in ``sub`` and ``mul`` even after ``mul`` is replaced (a Value's own ``*`` reads the
    table by name, as user code should).  ``value`` is what it wraps."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    @property
    def data(self) -> Any:  # what step, select, max and finite_or compare
        return _number(self.value)

    def _op(self, name: str, a: Any, b: Any) -> OnBuiltins:
        return OnBuiltins(BUILTINS[name](plain(a), plain(b)))

    def __add__(self, o: Any) -> OnBuiltins: return self._op("add", self, o)
    def __radd__(self, o: Any) -> OnBuiltins: return self._op("add", o, self)
    def __sub__(self, o: Any) -> OnBuiltins: return self._op("sub", self, o)
    def __rsub__(self, o: Any) -> OnBuiltins: return self._op("sub", o, self)
    def __mul__(self, o: Any) -> OnBuiltins: return self._op("mul", self, o)
    def __rmul__(self, o: Any) -> OnBuiltins: return self._op("mul", o, self)
    def __truediv__(self, o: Any) -> OnBuiltins: return self._op("div", self, o)
    def __rtruediv__(self, o: Any) -> OnBuiltins: return self._op("div", o, self)
    def __neg__(self) -> OnBuiltins: return OnBuiltins(BUILTINS["neg"](self.value))
    def __pow__(self, n: Any) -> OnBuiltins: return OnBuiltins(_value_pow_positive(self.value, plain(n)))
    def __rpow__(self, a: Any) -> OnBuiltins: return OnBuiltins(BUILTINS["pow"](a, self.value))


def plain(x: Any) -> Any:
    """What an :class:`OnBuiltins` wraps; anything else as it is."""
    return x.value if type(x) is OnBuiltins else x


def _on_builtins(f: Any) -> Any:
    return lambda *xs: OnBuiltins(f(*map(plain, xs)))


def _each_on_builtins(f: Any, xs: Any) -> tuple:
    return tuple(map(f, xs))


# The Value backend for the built-in rules: the same functions, on and to OnBuiltins (see there).
VALUE_BUILTIN = backend(dict(
    pow=lambda x, n: x if n == 1.0 else (1.0 if n == 0.0 else OnBuiltins(_value_pow(plain(x), n))),
    sum=lambda xs: OnBuiltins(VALUE.sum([plain(x) for x in xs])),
    sumprod=lambda w, x: OnBuiltins(VALUE.sumprod([plain(a) for a in w], [plain(b) for b in x])),
    step=VALUE.step,
    select=VALUE.select,
    max=VALUE.max,
    finite_or=VALUE.finite_or,
    each=_each_on_builtins,
), lambda f: _on_builtins(getattr(VALUE, f)))
