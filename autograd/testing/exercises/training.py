"""Checks of exercises 5 (training recipes): one small formula each, on the lecture's numbers
(visible) and on others (hidden)."""

from __future__ import annotations

import math
import random
from typing import Any

from ...value import Value
from .core import ExerciseFailed, call, close, exercise, expect, fmt, matrix, number, number_list, parts, show, why

__all__ = ["check_momentum_step", "check_inverse_time", "check_l2_gradient", "check_dropout_scale",
           "check_init_variance"]


@exercise("momentum_step")
def check_momentum_step(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, a, g, lr, m) returns (new w, new a) with a ← m·a + lr·g and w ← w − a (sequences of numbers)."""
    draw = rng or random.Random(5)
    n = 3 if rng is None else draw.randint(1, 5)
    w = [0.5, -1.0, 2.0] if rng is None else [round(draw.uniform(-2, 2), 3) for _ in range(n)]
    a = [0.0] * n
    rates = [0.1, 0.1, 0.05, 0.02] if rng is None else [round(draw.uniform(0.01, 0.3), 3) for _ in range(4)]
    m = 0.9 if rng is None else round(draw.uniform(0.5, 0.99), 2)
    for step, lr in enumerate(rates):
        g = [round(draw.uniform(-1, 1), 3) for _ in w]
        answer = call("momentum_step", fn, list(w), list(a), list(g), lr, m, own=True)
        got = parts(answer, 2)
        if got is None:
            raise ExerciseFailed(f"momentum_step: should return (new_w, new_a), got {show(answer)}")
        new_a = [m * ai + lr * gi for ai, gi in zip(a, g)]
        new_w = [wi - ai for wi, ai in zip(w, new_a)]
        where = f"step {step + 1} (w={show(w)}, a={show(a)}, g={show(g)}, lr={fmt(lr)}, m={fmt(m)})"
        got_w = number_list("momentum_step", "new_w", got[0], n)
        got_a = number_list("momentum_step", "new_a", got[1], n)
        for i in range(n):
            expect("momentum_step", f"{where}: a[{i}]", got_a[i], new_a[i], 1e-9,  # a named mistake first
                   hint=why(got_a[i], new_a[i]) or " (the lecture's form puts lr inside a: a ← m·a + lr·g)")
            expect("momentum_step", f"{where}: w[{i}]", got_w[i], new_w[i], 1e-9)
        w, a = new_w, new_a
    return f"4 steps of a ← m·a + lr·g, w ← w − a with a changing learning rate (m = {fmt(m)})"


@exercise("inverse_time")
def check_inverse_time(fn: Any, rng: random.Random | None = None) -> str:
    """fn(t) = min(0.1, 100/t) for t = 1, 2, 3, ...; constant 0.1 up to t = 1000, then decaying."""
    steps = [1, 2, 10, 999, 1000, 1001, 2000, 10 ** 5] if rng is None else \
        sorted({rng.randint(1, 10 ** 6) for _ in range(10)} | {rng.randint(1001, 5000)})
    for t in steps:
        got = number("inverse_time", f"inverse_time({t})", call("inverse_time", fn, t))
        expect("inverse_time", f"inverse_time({t})", got, min(0.1, 100 / t))
    return f"min(0.1, 100/t) at {len(steps)} steps from t = {steps[0]} to {steps[-1]}"


@exercise("l2_gradient")
def check_l2_gradient(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, lam) is the gradient of the penalty lam/2 · Σ w² with respect to each w (a sequence of numbers)."""
    for k in range(5):
        draw = rng or random.Random(300 + k)
        w = [round(draw.uniform(-2, 2), 3) for _ in range(1 + (k if rng is None else draw.randint(0, 5)))]
        lam = [0.1, 0.01, 1.0, 0.5, 3e-3][k] if rng is None else round(draw.uniform(0.001, 2), 4)
        vs = [Value(x) for x in w]
        (lam / 2 * sum((v * v for v in vs), Value(0.0))).backward()
        shown = f"l2_gradient({show(w)}, {fmt(lam)})"
        got = number_list("l2_gradient", shown, call("l2_gradient", fn, list(w), lam, own=True), len(w))
        for i, (g, v) in enumerate(zip(got, vs)):
            expect("l2_gradient", f"l2_gradient(w={show(w)}, lam={fmt(lam)})[{i}]", g, v.grad, 1e-9)
    return "lam·w, the gradient backward() gives for lam/2 Σ w², on 5 weight vectors"


@exercise("dropout_scale")
def check_dropout_scale(fn: Any, rng: random.Random | None = None) -> str:
    """fn(W, p) scales trained weights for test time when units were dropped with probability p."""
    if rng is None:
        cases = [([[0.4, -1.2], [2.0, 0.5]], p) for p in [0.5, 0.2, 0.8]]
    else:
        shapes = [(rng.randint(1, 4), rng.randint(1, 4)) for _ in range(4)]
        cases = [([[round(rng.uniform(-2, 2), 3) for _ in range(c)] for _ in range(r)],
                  round(rng.uniform(0.05, 0.9), 2)) for r, c in shapes]
    for W, p in cases:
        got = matrix("dropout_scale", f"dropout_scale(W, p={fmt(p)})", call("dropout_scale", fn,
                     [list(r) for r in W], p), (len(W), len(W[0])))
        for i, (row, grow) in enumerate(zip(W, got)):
            for j, (w, g) in enumerate(zip(row, grow)):
                hint = " (p is the probability of dropping a unit; the keep probability is 1 − p)" \
                    if close(g, w * p) and not close(p, 0.5) else ""
                expect("dropout_scale", f"dropout_scale(W, p={fmt(p)})[{i}][{j}] with W[{i}][{j}] = {fmt(w)}", g,
                       w * (1 - p), 1e-9, hint=hint)
    return f"weights times the keep probability 1 − p, for p = {', '.join(fmt(p) for _, p in cases)}"


@exercise("init_variance")
def check_init_variance(fn: Any, rng: random.Random | None = None) -> str:
    """fn(kind, n_in, n_out) is the weight variance: 'he' → 2/n_in, 'glorot' → 2/(n_in + n_out)."""
    shapes = [(2, 1), (100, 50), (784, 10), (3, 300)] if rng is None else \
        [(rng.randint(1, 2000), rng.randint(1, 2000)) for _ in range(6)]
    for n_in, n_out in shapes:
        for kind, want in [("he", 2 / n_in), ("glorot", 2 / (n_in + n_out))]:
            what = f"init_variance({kind!r}, n_in={n_in}, n_out={n_out})"
            got = number("init_variance", what, call("init_variance", fn, kind, n_in, n_out))
            hint = " (that is the standard deviation; return the variance)" if close(got, math.sqrt(want)) else ""
            expect("init_variance", what, got, want, 1e-9, hint=hint)
    return f"He 2/n_in and Glorot 2/(n_in + n_out) for {len(shapes)} layer shapes"
