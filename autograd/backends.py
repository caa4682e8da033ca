"""Backends: the elementary functions the op table's rules are written in.

A backend is a namespace with ``exp, expm1, log, log1p, sqrt, tanh, sin, cos, abs, pow,
pow_positive, finite_or, maximum, minimum, step, select, sum, sumprod, max, each`` and ``sigmoid``.
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
derivatives: the rules run on Values and build graphs).  The tape has two more: numpy arrays for
batches and symbols for generated code (:mod:`autograd.tape.arrays`, :mod:`autograd.tape.symbols`).
Nothing here imports the Value class: ``VALUE`` calls Value methods and table ops on whatever it
is given.
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace
from typing import Any

from .table import OPS


def _float_pow(x: float, n: float) -> float:
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        # Python would return a complex number here; a real engine must refuse.
        raise ValueError("a negative base needs an integer exponent")
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


FLOAT = SimpleNamespace(
    exp=math.exp,
    log=math.log,
    log1p=math.log1p,
    sqrt=math.sqrt,
    tanh=math.tanh,
    sin=math.sin,
    cos=math.cos,
    abs=abs,
    expm1=math.expm1,
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
)
FLOAT.sigmoid = lambda x: OPS["sigmoid"].forward(FLOAT, x)


def _number(x: Any) -> Any:
    return x.data if hasattr(x, "data") else x


# Rules evaluated on Values build graphs (create_graph=True): each function is a Value method or a
# table op, so the derivative of a derivative comes from the same table.
VALUE = SimpleNamespace(
    exp=lambda x: x.exp(),
    log=lambda x: x.log(),
    sqrt=lambda x: x.sqrt(),
    tanh=lambda x: x.tanh(),
    sin=lambda x: x.sin(),
    cos=lambda x: x.cos(),
    abs=lambda x: x.abs(),
    sigmoid=lambda x: x.sigmoid(),
    # x**0 is the constant 1 and x**1 is x: no node, so x**2 differentiates to 2*x, then 2, then 0
    # everywhere (a node x**0 would have the derivative 0 * x**-1, undefined at 0).
    pow=lambda x, n: 1.0 if n == 0.0 else (x if n == 1.0 else x ** n),
    step=lambda a, b=0.0, tie=0.0: _float_step(_number(a), _number(b), tie),
    maximum=lambda a, b: OPS["maximum"](a, b),
    minimum=lambda a, b: OPS["minimum"](a, b),
    sum=lambda xs: OPS["sum"](*xs),
    sumprod=lambda w, x: OPS["dot"](*w, *x),
    select=lambda x, pos, neg: _float_select(_number(x), pos, neg),
    max=lambda xs: next((x for x in xs if _number(x) != _number(x)), None) or max(xs, key=_number),
    log1p=lambda x: (1.0 + x).log(),
    expm1=lambda x: x.exp() - 1.0,
    pow_positive=lambda a, b: a ** b,
    finite_or=lambda x, default: x if math.isfinite(_number(x)) else default,
    each=_each,
)
