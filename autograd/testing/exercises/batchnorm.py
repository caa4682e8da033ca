"""Checks of exercises 7.6 and 7.7: batch normalisation of one unit's values over a mini-batch (ETH
Zürich, Introduction to Machine Learning, neural networks continued, after Ioffe and Szegedy), forward
and, by hand, backward, against the engine."""

from __future__ import annotations

import math
import random
from typing import Any

from ...value import Value
from .core import answer_dict, call, close, exercise, expect, fmt, number, number_list, show, why

__all__ = ["check_batchnorm_forward", "check_batchnorm_backward", "BATCHNORM_KEYS"]

BATCHNORM_KEYS = ("dx", "dgamma", "dbeta")


def _cases(rng: random.Random | None) -> list[tuple[list[float], float, float, float]]:
    """(x over a mini-batch, gamma, beta, eps)."""
    if rng is None:
        return [([1.0, 2.0, 3.0, 6.0], 2.0, 0.5, 1e-5), ([0.5, -1.5], 1.0, 0.0, 1e-5),
                ([4.0, 4.5, 3.0, 5.5, 1.0], 0.5, -1.0, 0.1)]
    return [([round(rng.uniform(-3, 3), 3) for _ in range(rng.randint(2, 8))], round(rng.uniform(0.2, 3), 3),
             round(rng.uniform(-2, 2), 3), rng.choice([1e-5, 1e-3, 0.1])) for _ in range(4)]


def _normalised(x: list[Value], gamma: Value, beta: Value, eps: float) -> list[Value]:
    """The lecture's four lines: mini-batch mean, mini-batch variance (divided by m), normalise, scale and shift."""
    m = len(x)
    mu = sum(x, Value(0.0)) / m
    var = sum(((xi - mu) ** 2 for xi in x), Value(0.0)) / m
    return [gamma * ((xi - mu) / (var + eps) ** 0.5) + beta for xi in x]


def _stats(x: list[float]) -> tuple[float, float]:
    mu = sum(x) / len(x)
    return mu, sum((v - mu) ** 2 for v in x) / len(x)


@exercise("batchnorm_forward")
def check_batchnorm_forward(fn: Any, rng: random.Random | None = None) -> str:
    """fn(x, gamma, beta, eps) returns [γ·(xᵢ − μ)/√(σ² + ε) + β for each xᵢ], μ and σ² the mean and
    variance (divided by m) of the m values x."""
    cases = _cases(rng)
    for x, gamma, beta, eps in cases:
        shown = f"batchnorm_forward(x={show(x)}, gamma={fmt(gamma)}, beta={fmt(beta)}, eps={fmt(eps)})"
        got = number_list("batchnorm_forward", shown, call("batchnorm_forward", fn, list(x), gamma, beta, eps,
                                                           shown=shown), len(x))
        want = [v.data for v in _normalised([Value(v) for v in x], Value(gamma), Value(beta), eps)]
        mu, var = _stats(x)
        unbiased = var * len(x) / (len(x) - 1)
        for i, (g, w) in enumerate(zip(got, want)):
            hint = why(g, w)
            if close(g, gamma * (x[i] - mu) / math.sqrt(unbiased + eps) + beta):
                hint = " (the lecture's mini-batch variance divides by m, not m − 1)"
            elif close(g, gamma * (x[i] - mu) / (math.sqrt(var) + eps) + beta, 1e-12) and not close(g, w, 1e-12):
                hint = " (ε goes inside the square root: √(σ² + ε))"
            elif close(g, beta * (x[i] - mu) / math.sqrt(var + eps) + gamma):
                hint = " (γ scales, β shifts: γ·x̂ + β)"
            expect("batchnorm_forward", f"{shown}[{i}]", g, w, 1e-10, hint=hint)
    return f"γ·(x − μ)/√(σ² + ε) + β on {len(cases)} mini-batches"


@exercise("batchnorm_backward")
def check_batchnorm_backward(fn: Any, rng: random.Random | None = None) -> str:
    """fn(x, gamma, eps, dy) returns (dx, dgamma, dbeta), the gradients of a loss L with ∂L/∂yᵢ = dy[i]
    through yᵢ = γ·x̂ᵢ + β (x a mini-batch of one unit's values), by hand: μ and σ² depend on every xᵢ."""
    draw = rng or random.Random(7)
    cases = _cases(rng)
    for x, gamma, beta, eps in cases:
        dy = [round(draw.uniform(-1, 1), 3) for _ in x]
        if rng is None and x == [1.0, 2.0, 3.0, 6.0]:
            dy = [0.5, -1.0, 0.25, 1.0]
        shown = f"batchnorm_backward(x={show(x)}, gamma={fmt(gamma)}, eps={fmt(eps)}, dy={show(dy)})"
        got = answer_dict("batchnorm_backward", call("batchnorm_backward", fn, list(x), gamma, eps, list(dy),
                                                     shown=shown, own=True), BATCHNORM_KEYS)
        xs, g, b = [Value(v) for v in x], Value(gamma), Value(beta)
        sum((d * y for d, y in zip(dy, _normalised(xs, g, b, eps))), Value(0.0)).backward()
        mu, var = _stats(x)
        xhat = [(v - mu) / math.sqrt(var + eps) for v in x]
        dgamma, dbeta = sum(d * h for d, h in zip(dy, xhat)), sum(dy)
        for key, want in (("dgamma", g.grad), ("dbeta", b.grad)):
            got_key = number("batchnorm_backward", key, got[key])
            swapped = " (dγ = Σ dyᵢ·x̂ᵢ and dβ = Σ dyᵢ: are they swapped?)" if \
                close(got_key, dbeta if key == "dgamma" else dgamma) else ""
            expect("batchnorm_backward", f"{shown}: {key}", got_key, want, 1e-9, hint=swapped or why(got_key, want))
        dx = number_list("batchnorm_backward", f"{shown}: dx", got["dx"], len(x))
        formula = "dx = γ/√(σ² + ε)·(dy − mean(dy) − x̂·mean(dy·x̂))"
        for i, (gi, v) in enumerate(zip(dx, xs)):
            s, mean_dy = math.sqrt(var + eps), sum(dy) / len(dy)
            hint = f" (μ and σ² depend on every xᵢ too: {formula})" if close(gi, gamma * dy[i] / s) else \
                f" (the term through σ², −x̂·mean(dy·x̂), is missing: {formula})" if \
                close(gi, gamma / s * (dy[i] - mean_dy)) else why(gi, v.grad)
            expect("batchnorm_backward", f"{shown}: dx[{i}]", gi, v.grad, 1e-8, hint=hint)
    return f"dx, dγ, dβ equal backward()'s on {len(cases)} mini-batches"
