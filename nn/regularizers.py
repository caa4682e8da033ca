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
from collections.abc import Callable, Iterable
from typing import Any

import autograd
from autograd import Value

__all__ = ["l2", "l1", "elastic_net", "Penalty", "array_form"]

Term = Callable[[Value], Value]


def l2(params: Iterable[Value] | Any, lam: float) -> Value:
    """lam/2 * sum of w^2 over ``params`` (Roth and Poerner, LMU München ML Basics III: J + lambda/2 theta^T theta)."""
    lam = _strength("l2", "lam", lam)
    return Penalty("l2", ((lam / 2.0, _square),), _params("l2", params)).value()


def l1(params: Iterable[Value] | Any, lam: float) -> Value:
    """lam * sum of |w| over ``params`` (derivative lam * sign(w), 0 at w = 0)."""
    lam = _strength("l1", "lam", lam)
    return Penalty("l1", ((lam, _absolute),), _params("l1", params)).value()


def elastic_net(params: Iterable[Value] | Any, lam1: float, lam2: float) -> Value:
    """lam1 * sum |w| + lam2/2 * sum w^2: L1 and L2 together (one node for each sum)."""
    lam1 = _strength("elastic_net", "lam1", lam1)
    lam2 = _strength("elastic_net", "lam2", lam2)
    return Penalty("elastic_net", ((lam1, _absolute), (lam2 / 2.0, _square)), _params("elastic_net", params)).value()


def _square(w: Value) -> Value:
    return w * w


def _absolute(w: Value) -> Value:
    return w.abs()


class Penalty:
    """A weight penalty ``sum over terms of coef * sum_w term(w)``: what l1, l2 and elastic_net compute.

    :meth:`value` builds it on the Values (the graph eager training differentiates);
    :meth:`value_and_grad` evaluates it on an array holding the parameters' values, for training
    that keeps parameters in a flat array.  Both read each term's derivative from the op table: the
    array form replays the term's traced tape over the array, one weight per sample.
    """

    def __init__(self, name: str, terms: tuple[tuple[float, Term], ...], params: list[Value]) -> None:
        self.name, self.terms, self.params = name, terms, params

    def value(self) -> Value:
        """The penalty as a Value (one ``sum`` node per term); recorded for :func:`array_form`."""
        out = None
        for coef, term in self.terms:
            part = coef * autograd.sum([term(w) for w in self.params])
            out = part if out is None else out + part
        assert out is not None
        if _RECORDING:
            _RECORDING[-1].append((out, self))
        return out

    def value_and_grad(self, w: Any, finite: bool = False) -> tuple[float, Any]:
        """(penalty, d penalty / d w) for ``w``, a float array of the parameters' values in order
        (``finite=True``: the caller has checked that every one is finite, as for ``Tape.replay``)."""
        import numpy as np

        column = np.asarray(w, dtype=float).reshape(1, -1)
        total, grad = 0.0, None
        for coef, term in self.terms:
            tape = _TAPES.get(term)
            if tape is None:
                tape = _TAPES[term] = autograd.trace(term, 0.0)
            values, dw, _ = tape.replay(column, np.empty(0), input_grads=True, finite=finite)  # the weight: its input
            total += coef * float(values.sum())
            grad = coef * dw[0] if grad is None else grad + coef * dw[0]
        return total, grad

    def __repr__(self) -> str:
        return f"<Penalty {self.name} of {len(self.params)} parameters>"


_TAPES: dict[Term, Any] = {}  # each term traced once, replayed over any number of weights
_RECORDING: list[list[tuple[Value, Penalty]]] = []


def array_form(regularizer: Callable[[list[Value]], Any], params: list[Value]) -> Penalty | None:
    """The :class:`Penalty` behind ``regularizer(params)`` when it returns exactly one l1, l2 or
    elastic_net penalty (such as ``lambda ps: nn.l2(ps, 1e-4)``); None for anything else, which
    compiled training then traces as it is."""
    _RECORDING.append([])
    try:
        out = regularizer(params)
    finally:
        seen = _RECORDING.pop()
    return seen[0][1] if len(seen) == 1 and seen[0][0] is out else None


def _strength(name: str, what: str, lam: Any) -> float:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
        raise TypeError(f"{name}: {what} must be a real number, got {type(lam).__name__} {lam!r}")
    value: float = float(lam)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name}: {what} must be finite and >= 0, got {value!r}")
    return value


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
