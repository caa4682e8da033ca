"""Checks of exercises 3: the lectures' worked examples, computed by hand (the engine's
differentiation is switched off while the student's function runs).  Each function takes the
example's numbers as arguments; the visible check passes the lecture's, the hidden one others,
including hidden units that are off (so a dropped relu' factor shows)."""

from __future__ import annotations

import copy
import random
from typing import Any, Callable

from ...functions import dot
from ...value import Value
from .core import answer_dict, call, close, exercise, expect, fmt, matrix, number, number_list, points, show

__all__ = ["check_one_hidden_unit", "check_imperial_example", "check_and_example",
           "IMPERIAL_KEYS", "AND_KEYS", "imperial_reference", "and_reference"]

IMPERIAL_KEYS = ("f_a", "f_b", "f_c", "loss", "delta_c", "delta_b", "w_3b")
AND_KEYS = ("f", "loss", "grad_W2", "grad_W1", "W2", "W1", "f_new")


def _compare(exercise: str, got: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for key, want in expected.items():
        if isinstance(want, list) and want and isinstance(want[0], list):
            rows = matrix(exercise, key, got[key], (len(want), len(want[0])))
            flat = [(f"{key}[{i}][{j}]", g, w) for i, (gr, wr) in enumerate(zip(rows, want)) for j, (g, w) in
                    enumerate(zip(gr, wr))]
        elif isinstance(want, list):
            flat = [(f"{key}[{i}]", g, w) for i, (g, w) in enumerate(zip(number_list(exercise, key, got[key],
                                                                                       len(want)), want))]
        else:
            flat = [(key, number(exercise, key, got[key]), want)]
        for what, g, w in flat:
            expect(exercise, f"{where}: {what}", g, w, 1e-9)


def _worked_example(exercise: str, fn: Any, cases: list[dict[str, Any]], reference: Callable[..., dict[str, Any]],
                    keys: tuple[str, ...], lecture: bool) -> None:
    """fn on each case's numbers (copies: the student's code may change its lists), by hand, against the engine's."""
    for case in cases:
        answer = call(exercise, fn, *copy.deepcopy(list(case.values())), own=True)
        got = answer_dict(exercise, answer, keys)
        where = "the lecture's network" if lecture else \
            f"{exercise}(" + ", ".join(f"{k}={show(v)}" for k, v in case.items()) + ")"
        _compare(exercise, got, reference(**case), where)


# --- 3.1 one hidden unit --------------------------------------------------------------------------
@exercise("one_hidden_unit")
def check_one_hidden_unit(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, w1, x) returns (df/dw, df/dw1) for f = w·σ(w1·x), by the chain rule, without backward()."""
    def at(t: float) -> None:
        w, w1, x = (0.8 - 0.3 * t, 0.5 + 0.2 * t, t) if rng is None else \
            (round(rng.uniform(-2, 2), 3), round(rng.uniform(-2, 2), 3), t)
        got = call("one_hidden_unit", fn, w, w1, x, own=True)
        pair = number_list("one_hidden_unit", "(df/dw, df/dw1)", got, 2)
        vw, vw1 = Value(w), Value(w1)
        (vw * (vw1 * x).sigmoid()).backward()
        where = f"at w = {fmt(w)}, w1 = {fmt(w1)}, x = {fmt(x)}"
        swapped = close(pair[0], vw1.grad) and close(pair[1], vw.grad) and not close(vw.grad, vw1.grad)
        expect("one_hidden_unit", f"df/dw {where}", pair[0], vw.grad,
               hint=" (the two are swapped: return (df/dw, df/dw1), in that order)" if swapped else "")
        expect("one_hidden_unit", f"df/dw1 {where}", pair[1], vw1.grad,
               hint=" (the chain rule has three factors here: w, σ'(w1·x) and x)")

    n = points([1.5, -2.0], -3.0, 3.0, at, n=20, rng=rng)
    return f"both derivatives equal backward()'s at {n} points"


# --- 3.2 the Imperial College 3-2-1 ReLU network ----------------------------------------------------
IMPERIAL: dict[str, Any] = dict(x=[4.0, -8.0, 4.0], y=2.0, lr=0.1, w_a=[0.25, 0.75, 0.75], b_a=1.0,
                                w_b=[0.5, 0.125, 0.25], b_b=1.0, w_c=[0.5, 0.125], b_c=0.5)


def imperial_reference(x: list[float], y: float, lr: float, w_a: list[float], b_a: float, w_b: list[float],
                       b_b: float, w_c: list[float], b_c: float) -> dict[str, float]:
    """The example's numbers as the engine computes them (Values and backward)."""
    va, vb, vc = [Value(w) for w in w_a], [Value(w) for w in w_b], [Value(w) for w in w_c]
    s_a, s_b = dot(va, x, Value(b_a)), dot(vb, x, Value(b_b))
    f_a, f_b = s_a.relu(), s_b.relu()
    s_c = dot(vc, [f_a, f_b], Value(b_c))
    f_c = s_c.relu()
    loss = 0.5 * (f_c - y) ** 2
    loss.backward()
    return {"f_a": f_a.data, "f_b": f_b.data, "f_c": f_c.data, "loss": loss.data, "delta_c": s_c.grad,
            "delta_b": s_b.grad, "w_3b": w_b[2] - lr * vb[2].grad}


def _imperial_cases(rng: random.Random) -> list[dict[str, Any]]:
    """Drawn networks: unit b off with c on, c off, and both on (so every relu' factor matters)."""
    wanted: list[Callable[[dict[str, float]], bool]] = [
        lambda r: r["f_b"] == 0 and r["f_c"] > 0 and r["f_a"] > 0, lambda r: r["f_c"] == 0 and r["f_b"] > 0,
        lambda r: r["f_b"] > 0 and r["f_c"] > 0]
    cases = []
    for want in wanted:
        for _ in range(10_000):
            case: dict[str, Any] = dict(x=[float(rng.randint(-8, 8)) for _ in range(3)], y=float(rng.randint(-2, 3)),
                        lr=rng.choice([0.05, 0.1, 0.2]), w_a=[rng.randint(-8, 8) / 8 for _ in range(3)],
                        b_a=rng.randint(-4, 4) / 4, w_b=[rng.randint(-8, 8) / 8 for _ in range(3)],
                        b_b=rng.randint(-4, 4) / 4, w_c=[rng.randint(-8, 8) / 8 for _ in range(2)],
                        b_c=rng.randint(-4, 4) / 4)
            if want(imperial_reference(**case)):
                cases.append(case)
                break
    return cases


@exercise("imperial_example")
def check_imperial_example(fn: Any, rng: random.Random | None = None) -> str:
    """fn(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c) returns the 3-2-1 ReLU example's values, deltas and
    updated w_3b (a dict with keys f_a, f_b, f_c, loss, delta_c, delta_b, w_3b), by hand."""
    cases = [IMPERIAL] if rng is None else _imperial_cases(rng)
    _worked_example("imperial_example", fn, cases, imperial_reference, IMPERIAL_KEYS, lecture=rng is None)
    if rng is None:
        return "f_c = 0.875, loss = 0.6328, δ_c = −1.125, δ_b = −0.140625, w_3b → 0.30625, as the engine computes"
    return f"values, deltas and w_3b of {len(cases)} other networks (units off and on), as the engine computes"


# --- 3.3 the ETH AND example ----------------------------------------------------------------------
AND: dict[str, Any] = dict(W1=[[-0.9, 0.9], [0.0, 0.9]], W2=[-0.9, 0.9], x=[1.0, 1.0], y=1.0, lr=0.2)


def and_reference(W1: list[list[float]], W2: list[float], x: list[float], y: float, lr: float) -> dict[str, Any]:
    """The AND example's numbers as the engine computes them."""
    V1 = [[Value(w) for w in row] for row in W1]
    V2 = [Value(w) for w in W2]

    def forward() -> Value:
        return dot(V2, [dot(row, x).relu() for row in V1])

    f = forward()
    loss = (y - f) ** 2
    loss.backward()
    out: dict[str, Any] = {"f": f.data, "loss": loss.data, "grad_W2": [w.grad for w in V2],
                           "grad_W1": [[w.grad for w in row] for row in V1]}
    for w in [*V1[0], *V1[1], *V2]:
        w.data -= lr * w.grad
    out.update(W2=[w.data for w in V2], W1=[[w.data for w in row] for row in V1], f_new=forward().data)
    return out


def _and_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases = []
    for off in (0, 1, None):  # hidden unit 0 off, unit 1 off, both on
        for _ in range(10_000):
            case: dict[str, Any] = dict(W1=[[rng.randint(-10, 10) / 10 for _ in range(2)] for _ in range(2)],
                        W2=[rng.randint(-10, 10) / 10 for _ in range(2)],
                        x=[float(rng.randint(-2, 2)) for _ in range(2)], y=float(rng.randint(-1, 2)),
                        lr=rng.choice([0.1, 0.2, 0.05]))
            z = [sum(w * xi for w, xi in zip(row, case["x"])) for row in case["W1"]]
            if all((zi <= 0) == (i == off) for i, zi in enumerate(z)) and all(w != 0 for w in case["W2"]):
                cases.append(case)
                break
    return cases


@exercise("and_example")
def check_and_example(fn: Any, rng: random.Random | None = None) -> str:
    """fn(W1, W2, x, y, lr) returns the ETH tutorial's AND example by hand: a dict with keys f, loss,
    grad_W2, grad_W1, W2, W1 (updated) and f_new (the updated network's output)."""
    cases = [AND] if rng is None else _and_cases(rng)
    _worked_example("and_example", fn, cases, and_reference, AND_KEYS, lecture=rng is None)
    if rng is None:
        return "f = 0.81, loss = 0.0361, W2 → [−0.9, 0.9684], W1 → [[−0.9, 0.9], [0.0684, 0.9684]], new f = 1.004"
    return f"the example on {len(cases)} other networks (hidden units off and on), as the engine computes"
