"""Checks of exercises 6 (the loss's gradient, softmax with cross-entropy, backpropagation in matrix
form, a weight-space symmetry): the student's numbers against the engine's, computed by hand (the
engine's differentiation is switched off while the student's function runs)."""

from __future__ import annotations

import math
import random
from typing import Any

from ...functions import dot, log_softmax
from ...value import Value
from .core import (
    ExerciseFailed,
    answer_dict,
    call,
    close,
    exercise,
    expect,
    fmt,
    matrix,
    number_list,
    parts,
    points,
    show,
    why,
)

__all__ = ["check_loss_gradient", "check_softmax_cross_entropy", "check_matrix_backprop", "check_permute_hidden",
           "BACKPROP_KEYS"]

BACKPROP_KEYS = ("grad_W1", "grad_b1", "grad_W2", "grad_b2")


def _sigmoid(s: float) -> float:
    return 1 / (1 + math.exp(-s))


# --- 6.1 the loss's gradient of the one-hidden-unit example ----------------------------------------------
@exercise("loss_gradient")
def check_loss_gradient(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, w1, x, y) returns (dL/dw, dL/dw1) for L = (f − y)², f = w·σ(w1·x): S·v and S·w·σ′(w1·x)·x
    with S = ℓ′(f) = 2(f − y), by hand."""
    def at(t: float) -> None:
        w, w1, x, y = (0.8 - 0.3 * t, 0.5 + 0.2 * t, t, 1.0) if rng is None else \
            (round(rng.uniform(-2, 2), 3), round(rng.uniform(-2, 2), 3), t, round(rng.uniform(-2, 2), 3))
        pair = number_list("loss_gradient", "(dL/dw, dL/dw1)", call("loss_gradient", fn, w, w1, x, y, own=True), 2)
        vw, vw1 = Value(w), Value(w1)
        f = vw * (vw1 * x).sigmoid()
        ((f - y) ** 2).backward()
        v = _sigmoid(w1 * x)
        S = 2 * (f.data - y)
        where = f"at w = {fmt(w)}, w1 = {fmt(w1)}, x = {fmt(x)}, y = {fmt(y)}"
        for name, got, want, df in [("dL/dw", pair[0], vw.grad, v), ("dL/dw1", pair[1], vw1.grad, w * v * (1 - v) * x)]:
            hint = why(got, want)
            if close(got, df) and not close(S, 1.0):
                hint = f" (that is d f/d{name[4:]}; the loss's gradient multiplies it by S = ℓ′(f) = 2(f − y))"
            elif close(got, want / 2, 1e-6):
                hint = " (ℓ = (f − y)², so S = ℓ′(f) = 2(f − y))"
            expect("loss_gradient", f"{name} {where}", got, want, hint=hint)

    n = points([1.5, -2.0], -3.0, 3.0, at, n=20, rng=rng)
    return f"S·v and S·w·σ′(w1·x)·x with S = 2(f − y) equal backward()'s at {n} points"


# --- 6.2 softmax with cross-entropy ---------------------------------------------------------------------
def _softmax_cases(rng: random.Random | None) -> list[tuple[list[float], int]]:
    if rng is None:
        return [([2.0, 1.0, 0.1], 0), ([0.0, 0.0], 1), ([1.0, -1.0, 3.0, 0.5], 2), ([1000.0, 999.0, 998.0], 1)]
    cases = []
    for k in range(6):
        z = [round(rng.uniform(-5, 5), 3) for _ in range(rng.randint(2, 6))]
        if k == 5:  # logits whose exp overflows: only a shifted softmax survives
            z = [v + rng.choice([-1, 1]) * rng.randint(750, 1000) for v in z]
        cases.append((z, rng.randrange(len(z))))
    return cases


@exercise("softmax_cross_entropy")
def check_softmax_cross_entropy(fn: Any, rng: random.Random | None = None) -> str:
    """fn(z, y) returns ∂L/∂z for L = −log softmax(z)_y, z a list of logits and y the class index:
    softmax(z) − onehot(y), a list of len(z) numbers."""
    cases = _softmax_cases(rng)
    for z, y in cases:
        shown = f"softmax_cross_entropy(z={show(z)}, y={y})"
        try:
            answer = call("softmax_cross_entropy", fn, list(z), y, shown=shown, own=True)
        except ExerciseFailed as failed:
            if "OverflowError" in str(failed):
                raise ExerciseFailed(f"softmax_cross_entropy: {shown} overflowed in exp; subtract max(z) from every "
                                     "logit first (softmax does not change)") from None
            raise
        got = number_list("softmax_cross_entropy", shown, answer, len(z))
        zs = [Value(v) for v in z]
        (-log_softmax(zs)[y]).backward()
        p = [g.grad + (i == y) for i, g in enumerate(zs)]
        for i, (g, v) in enumerate(zip(got, zs)):
            hint = why(g, v.grad)
            if math.isnan(g) or math.isinf(g):
                hint = " (exp overflowed: subtract max(z) from every logit first)"
            elif close(g, p[i]) and i == y:
                hint = " (that is softmax(z); the gradient is softmax(z) − onehot(y))"
            expect("softmax_cross_entropy", f"{shown}[{i}]", g, v.grad, 1e-9, hint=hint)
    return f"softmax(z) − onehot(y) equals backward()'s on {len(cases)} logit vectors, one whose exp overflows"


# --- 6.3 backpropagation in matrix form ------------------------------------------------------------------
AND_NETWORK: dict[str, Any] = dict(W1=[[-0.9, 0.9], [0.0, 0.9]], b1=[0.0, 0.0], W2=[[-0.9, 0.9]], b2=[0.0],
                                   x=[1.0, 1.0], y=[1.0])


def _engine_backprop(W1: list[list[float]], b1: list[float], W2: list[list[float]], b2: list[float], x: list[float],
                     y: list[float]) -> tuple[dict[str, Any], list[float]]:
    """The gradients of Σ (f − y)² as backward() gives them, and the hidden pre-activations z."""
    V1, c1 = [[Value(w) for w in row] for row in W1], [Value(b) for b in b1]
    V2, c2 = [[Value(w) for w in row] for row in W2], [Value(b) for b in b2]
    z = [dot(row, x, b) for row, b in zip(V1, c1)]
    h = [zi.relu() for zi in z]
    f = [dot(row, h, b) for row, b in zip(V2, c2)]
    sum(((fk - yk) ** 2 for fk, yk in zip(f, y)), Value(0.0)).backward()
    grads = {"grad_W1": [[w.grad for w in row] for row in V1], "grad_b1": [b.grad for b in c1],
             "grad_W2": [[w.grad for w in row] for row in V2], "grad_b2": [b.grad for b in c2]}
    return grads, [zi.data for zi in z]


def _backprop_cases(rng: random.Random) -> list[dict[str, Any]]:
    """Drawn networks of other shapes, each with a hidden unit off and one on, the first also one at z = 0."""
    cases: list[dict[str, Any]] = []
    while len(cases) < 3:
        n_in, n_h, n_out = rng.randint(1, 4), rng.randint(2, 4), rng.randint(1, 3)
        case: dict[str, Any] = dict(W1=[[rng.randint(-8, 8) / 8 for _ in range(n_in)] for _ in range(n_h)],
                    b1=[rng.randint(-4, 4) / 4 for _ in range(n_h)],
                    W2=[[rng.randint(-8, 8) / 8 for _ in range(n_h)] for _ in range(n_out)],
                    b2=[rng.randint(-4, 4) / 4 for _ in range(n_out)],
                    x=[float(rng.randint(-3, 3)) for _ in range(n_in)],
                    y=[float(rng.randint(-2, 2)) for _ in range(n_out)])
        _, z = _engine_backprop(**case)
        at_kink = any(zi == 0 for zi in z) or len(cases) > 0
        if any(zi < 0 for zi in z) and any(zi > 0 for zi in z) and at_kink and (n_in != n_h or len(cases) == 2):
            cases.append(case)
    return cases


def _transposed(rows: list[list[float]]) -> list[list[float]]:
    return [list(col) for col in zip(*rows)]


def _same(got: Any, want: list[list[float]]) -> bool:
    try:
        rows = matrix("", "", got, (len(want), len(want[0])))
    except ExerciseFailed:
        return False
    return all(close(g, w) for gr, wr in zip(rows, want) for g, w in zip(gr, wr))


def _check_not_transposed(where: str, key: str, got: Any, want: list[list[float]]) -> None:
    """A weight gradient handed in transposed: the numerator layout's ∂ℓ/∂W, not the gradient."""
    flipped = _transposed(want)
    if flipped != want and _same(got, flipped) and not _same(got, want):
        shape = f" (shape {len(want[0])} × {len(want)}, not {len(want)} × {len(want[0])})" if flipped and \
            len(want) != len(want[0]) else ""
        raise ExerciseFailed(f"matrix_backprop: {where}: {key} is the transpose of the gradient{shape}: that is the "
                             "numerator layout's ∂ℓ/∂W; ∇W = δ vᵀ has W's shape")


@exercise("matrix_backprop")
def check_matrix_backprop(fn: Any, rng: random.Random | None = None) -> str:
    """fn(W1, b1, W2, b2, x, y) returns the gradients of ℓ = Σₖ (fₖ − yₖ)² for f = W2·relu(W1 x + b1) + b2
    by the matrix-form recursion (numpy arrays in, a dict with keys grad_W1, grad_b1, grad_W2, grad_b2
    out, each of its parameter's shape)."""
    import numpy as np

    cases = [AND_NETWORK] if rng is None else _backprop_cases(rng)
    for case in cases:
        args = [np.array(v, dtype=float) for v in case.values()]
        where = "the tutorial's AND network" if rng is None else \
            "matrix_backprop(" + ", ".join(f"{k}={show(v)}" for k, v in case.items()) + ")"
        got = answer_dict("matrix_backprop", call("matrix_backprop", fn, *args, own=True), BACKPROP_KEYS)
        want, z = _engine_backprop(**case)  # only now: no frame of the check holds the answer while fn runs
        for key in BACKPROP_KEYS:
            shape = (len(want[key]), len(want[key][0])) if key.startswith("grad_W") else None
            if shape:
                _check_not_transposed(where, key, got[key], want[key])
            rows = matrix("matrix_backprop", key, got[key], shape) if shape else \
                [number_list("matrix_backprop", key, got[key], len(want[key]))]
            for i, (grow, wrow) in enumerate(zip(rows, want[key] if shape else [want[key]])):
                for j, (g, w) in enumerate(zip(grow, wrow)):
                    what = f"{key}[{i}][{j}]" if shape else f"{key}[{j}]"
                    unit = i if key in ("grad_W1",) else j if key == "grad_b1" else None
                    hint = why(g, w)
                    if unit is not None and z[unit] == 0 and w == 0 and g != 0:
                        hint = " (z = 0 there: ReLU′(0) is 0, as in the tutorial and chalkgrad; use z > 0)"
                    elif unit is not None and z[unit] < 0 and w == 0 and g != 0:
                        hint = " (that hidden unit is off: the hidden error needs ⊙ relu′(z), δ¹ = relu′(z) ⊙ W2ᵀδ²)"
                    expect("matrix_backprop", f"{where}: {what}", g, w, 1e-9, hint=hint)
    if rng is None:
        return "∇W2 = [[0, −0.342]], ∇W1 = [[0, 0], [−0.342, −0.342]] (the tutorial's, transposed), as backward() gives"
    return f"all four gradients of {len(cases)} other networks (other shapes, units off), as backward() gives"


# --- 6.4 a weight-space symmetry --------------------------------------------------------------------------
def _outputs(W1: list[list[float]], b1: list[float], W2: list[list[float]], x: list[float]) -> list[float]:
    h = [math.tanh(sum(w * xi for w, xi in zip(row, x)) + b) for row, b in zip(W1, b1)]
    return [sum(w * hj for w, hj in zip(row, h)) for row in W2]


Network = tuple[list[list[float]], list[float], list[list[float]], list[int]]  # W1, b1, W2, perm


def _symmetry_cases(rng: random.Random | None) -> list[Network]:
    if rng is None:
        W1 = [[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]]
        return [(W1, [0.1, -0.2, 0.3], [[1.0, -2.0, 0.5], [0.25, 0.75, -1.5]], [2, 0, 1]),
                (W1, [0.1, -0.2, 0.3], [[1.0, -2.0, 0.5], [0.25, 0.75, -1.5]], [1, 0, 2])]
    cases = []
    for _ in range(4):
        n_in, n_h, n_out = rng.randint(1, 4), rng.randint(3, 6), rng.randint(1, 3)
        perm = list(range(n_h))
        while perm == sorted(perm) or all(perm[perm[j]] == j for j in range(n_h)):  # not its own inverse
            rng.shuffle(perm)
        cases.append(([[round(rng.uniform(-2, 2), 2) for _ in range(n_in)] for _ in range(n_h)],
                      [round(rng.uniform(-1, 1), 2) for _ in range(n_h)],
                      [[round(rng.uniform(-2, 2), 2) for _ in range(n_h)] for _ in range(n_out)], perm))
    return cases


@exercise("permute_hidden")
def check_permute_hidden(fn: Any, rng: random.Random | None = None) -> str:
    """fn(W1, b1, W2, perm) returns (W1, b1, W2) of the network f(x) = W2·tanh(W1 x + b1) with its hidden
    units reordered, new unit j being old unit perm[j]: other parameters, the same function."""
    draw = rng or random.Random(6)
    cases = _symmetry_cases(rng)
    for W1, b1, W2, perm in cases:
        shown = f"permute_hidden(W1={show(W1)}, b1={show(b1)}, W2={show(W2)}, perm={perm})"
        answer = call("permute_hidden", fn, [list(r) for r in W1], list(b1), [list(r) for r in W2], list(perm),
                      shown=shown)
        got = parts(answer, 3)
        if got is None:
            raise ExerciseFailed(f"permute_hidden: should return (W1, b1, W2), got {show(answer)}")
        n_h = len(b1)
        new_W1 = matrix("permute_hidden", "W1", got[0], (n_h, len(W1[0])))
        new_b1 = number_list("permute_hidden", "b1", got[1], n_h)
        new_W2 = matrix("permute_hidden", "W2", got[2], (len(W2), n_h))
        for x in [[round(draw.uniform(-2, 2), 2) for _ in W1[0]] for _ in range(3)]:
            for k, (g, w) in enumerate(zip(_outputs(new_W1, new_b1, new_W2, x), _outputs(W1, b1, W2, x))):
                hint = " (the biases move with their units)" if new_b1 == b1 else \
                    " (column j of W2 holds hidden unit j's outgoing weights: permute W2's columns too)"
                expect("permute_hidden", f"{shown}: output {k} at x = {show(x)}", g, w, 1e-9, hint=hint)
        inverse = [perm.index(j) for j in range(n_h)]
        for j in range(n_h):
            if not all(close(g, w, 0, 0) for g, w in zip(new_W1[j], W1[perm[j]])):
                hint = " (that moves old unit j to place perm[j]; new unit j should be old unit perm[j])" if \
                    all(close(g, w, 0, 0) for g, w in zip(new_W1[j], W1[inverse[j]])) else ""
                raise ExerciseFailed(f"permute_hidden: {shown}: W1[{j}] should be old W1[{perm[j]}] = "
                                     f"{show(W1[perm[j]])}, got {show(new_W1[j])}{hint}")
    return f"new unit j = old unit perm[j], the same outputs, on {len(cases)} networks"
