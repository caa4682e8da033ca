"""Backends: the elementary functions the op table's rules are written in.

A backend is a namespace with ``exp, log, log1p, sqrt, tanh, sin, cos, abs, pow, maximum, minimum,
step, sum, sumprod, max`` and ``sigmoid``.  ``step(a, b=0, tie=0)`` is the one non-smooth
primitive: 1 where a > b, ``tie`` where a == b, 0 where a < b, always a *constant* (its derivative
is zero), which is what makes relu'' = 0 and the tie-splitting of maximum come out right.

Three backends live here: ``FLOAT`` (eager engine), ``VALUE`` (derivatives of derivatives; filled
in by :mod:`autograd.value`), and :func:`numpy_backend` (batch evaluation, numpy imported on use).
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace

from . import ops


def _float_pow(x: float, n: float) -> float:
    if x < 0.0 and n != math.floor(n):
        # Python would return a complex number here; a real engine must refuse.
        raise ValueError("a negative base needs an integer exponent")
    return x ** n


def _float_step(a: float, b: float = 0.0, tie: float = 0.0) -> float:
    return 1.0 if a > b else (tie if a == b else 0.0)


FLOAT = SimpleNamespace(
    exp=math.exp,
    log=math.log,
    log1p=math.log1p,
    sqrt=math.sqrt,
    tanh=math.tanh,
    sin=math.sin,
    cos=math.cos,
    abs=abs,
    pow=_float_pow,
    maximum=lambda a, b: a if a >= b else b,
    minimum=lambda a, b: a if a <= b else b,
    step=_float_step,
    sum=sum,  # left to right, like a plain loop (not fsum)
    sumprod=lambda w, x: sum(map(operator.mul, w, x)),
    max=max,
)
FLOAT.sigmoid = lambda x: ops.SIGMOID.forward(FLOAT, x)

# Filled in by autograd.value (it needs the Value class): rules evaluated on Values build graphs.
VALUE = SimpleNamespace()

_NUMPY = None


def numpy_backend() -> SimpleNamespace:
    """The backend over numpy arrays (created on first use, so numpy is imported only then)."""
    global _NUMPY
    if _NUMPY is None:
        import numpy as np

        def step(a, b=0.0, tie=0.0):
            return np.where(a > b, 1.0, np.where(a == b, tie, 0.0))

        nb = SimpleNamespace(
            exp=np.exp,
            log=np.log,
            log1p=np.log1p,
            sqrt=np.sqrt,
            tanh=np.tanh,
            sin=np.sin,
            cos=np.cos,
            abs=np.abs,
            pow=np.power,
            maximum=np.maximum,
            minimum=np.minimum,
            step=step,
            sum=lambda xs: np.sum(np.asarray(xs, dtype=float), axis=0),
            sumprod=lambda w, x: np.sum(np.multiply(np.asarray(w, float), np.asarray(x, float)), axis=0),
            max=lambda xs: np.max(np.asarray(xs, dtype=float), axis=0),
        )
        nb.sigmoid = lambda x: ops.SIGMOID.forward(nb, x)
        _NUMPY = nb
    return _NUMPY
