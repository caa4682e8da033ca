"""Weight penalties added to a loss: L2 (lambda/2 theta^T theta of LMU München ML Basics III), L1 and elastic net.

Each takes the parameters to penalise (a list of Values, or anything with ``.parameters()`` such as
a model) and returns a Value, with the sum over parameters as one ``autograd.sum`` node.

>>> from autograd import Value
>>> w = [Value(1.0), Value(-2.0)]
>>> l2(w, 0.1).data            # 0.1/2 * (1 + 4)
0.25

Which parameters to pass is the caller's choice; penalising only the weights, not the biases, is
common.  The gradient of ``l2(params, lam)`` is ``lam * w``, so adding it to the loss is the same as
``SGD(..., weight_decay=lam)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import autograd
from autograd import Value

__all__ = ["l2", "l1", "elastic_net"]


def l2(params: Iterable[Value] | Any, lam: float) -> Value:
    """lam/2 * sum of w^2 over ``params`` (Roth and Poerner, LMU München ML Basics III: J + lambda/2 theta^T theta)."""
    lam = _strength("l2", "lam", lam)
    ws = _params("l2", params)
    return (lam / 2.0) * autograd.sum([w * w for w in ws])


def l1(params: Iterable[Value] | Any, lam: float) -> Value:
    """lam * sum of |w| over ``params`` (derivative lam * sign(w), 0 at w = 0)."""
    lam = _strength("l1", "lam", lam)
    ws = _params("l1", params)
    return lam * autograd.sum([w.abs() for w in ws])


def elastic_net(params: Iterable[Value] | Any, lam1: float, lam2: float) -> Value:
    """lam1 * sum |w| + lam2/2 * sum w^2: L1 and L2 together (one node for each sum)."""
    lam1 = _strength("elastic_net", "lam1", lam1)
    lam2 = _strength("elastic_net", "lam2", lam2)
    ws = _params("elastic_net", params)
    return lam1 * autograd.sum([w.abs() for w in ws]) + (lam2 / 2.0) * autograd.sum([w * w for w in ws])


def _strength(name: str, what: str, lam: Any) -> float:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
        raise TypeError(f"{name}: {what} must be a real number, got {type(lam).__name__} {lam!r}")
    lam = float(lam)
    if not (math.isfinite(lam) and lam >= 0.0):
        raise ValueError(f"{name}: {what} must be finite and >= 0, got {lam!r}")
    return lam


def _params(name: str, params: Any) -> list[Value]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    try:
        ws = list(params)
    except TypeError:
        raise TypeError(
            f"{name}: expected a list of Values or a model with .parameters(), got {type(params).__name__}"
        ) from None
    for i, w in enumerate(ws):
        if not isinstance(w, Value):
            raise TypeError(
                f"{name}: parameter {i} must be a Value (a plain number has no gradient), "
                f"got {type(w).__name__} {w!r}"
            )
    return ws
