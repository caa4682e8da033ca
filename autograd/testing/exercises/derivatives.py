"""Checks of exercises 1 (derivatives by hand, as ops made with defop)."""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from ...functional import grad
from ...ops import Op
from ...value import Value
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck
from .core import ExerciseFailed, call, clip, exercise, expect, fmt, number, points

__all__ = ["check_tanh", "check_sigmoid", "check_softplus"]

ON_VALUES = " — write the derivative with m's functions (m.exp, not math.exp) so it can be differentiated again"


def _unary_op(exercise: str, op: Any, f: Callable, df: Callable, d2f: Callable, fname: str,
              rng: random.Random | None) -> str:
    if not isinstance(op, Op):
        raise ExerciseFailed(f"{exercise}: expected the op made with defop (such as my_tanh), got "
                             f"{type(op).__name__} {clip(repr(op), 60)}")

    def value_and_first(x: float) -> None:
        y = call(exercise, op, Value(x), shown=f"{fname}({fmt(x)})")
        expect(exercise, f"{fname}({fmt(x)})", number(exercise, f"{fname}({fmt(x)})", y), f(x))
        d1 = call(exercise, grad(lambda v: op(v)), x, shown=f"the backward pass through {fname} at x = {fmt(x)}")
        expect(exercise, f"d/dx {fname}(x) at x = {fmt(x)}", number(exercise, "d/dx", d1), df(x))

    def second(x: float) -> None:
        try:
            d2 = call(exercise, grad(grad(lambda v: op(v))), x,
                      shown=f"the second derivative of {fname} at x = {fmt(x)}")
        except ExerciseFailed as e:
            raise ExerciseFailed(f"{e}{ON_VALUES if 'TypeError' in str(e) else ''}") from None
        d2 = number(exercise, "d²/dx²", d2)
        expect(exercise, f"d²/dx² {fname}(x) at x = {fmt(x)}", d2, d2f(x), 1e-6, hint=ON_VALUES if d2 == 0 else "")
        for checker in (gradcheck, gradgradcheck):
            try:
                checker(lambda v: op(v), [x])
            except GradcheckError as e:
                raise ExerciseFailed(f"{exercise}: {checker.__name__} at x = {fmt(x)}: {clip(str(e))}") from None

    fixed = [0.0, 0.5, -1.5, 2.0]
    points(fixed, -4.0, 4.0, value_and_first, rng=rng)  # every first derivative before any second one
    n = points(fixed, -4.0, 4.0, second, rng=rng)
    return f"{fname}, its first and second derivatives match at {n} points (gradcheck and gradgradcheck pass)"


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@exercise("tanh")
def check_tanh(op: Any, rng: random.Random | None = None) -> str:
    """The op made with defop computes tanh, and its partials give tanh' (and, differentiated, tanh'')."""
    return _unary_op("tanh", op, math.tanh, lambda x: 1 - math.tanh(x) ** 2,
                     lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), "my_tanh", rng)


@exercise("sigmoid")
def check_sigmoid(op: Any, rng: random.Random | None = None) -> str:
    """The op made with defop computes σ, and its partials give σ' = σ(1 − σ) (and σ'')."""
    return _unary_op("sigmoid", op, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
                     lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x)), "my_sigmoid", rng)


@exercise("softplus")
def check_softplus(op: Any, rng: random.Random | None = None) -> str:
    """The op made with defop computes log(1 + eˣ), and its partials give σ(x) (and σ')."""
    return _unary_op("softplus", op, lambda x: math.log1p(math.exp(x)), _sigmoid,
                     lambda x: _sigmoid(x) * (1 - _sigmoid(x)), "my_softplus", rng)
