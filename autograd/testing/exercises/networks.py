"""Checks of exercises 4 (neurons, layers, networks): outputs and gradients against chalkgrad's own."""

from __future__ import annotations

import random
from typing import Any

from ...functions import dot
from ...value import Value
from .core import ExerciseFailed, call, close, exercise, expect, fmt, number, show, why

__all__ = ["check_neuron", "check_layer", "check_mlp", "check_xor", "XOR_WEIGHTS"]

# LMU München's hand-set network
XOR_WEIGHTS: dict[str, Any] = dict(W=[[1.0, 1.0], [1.0, 1.0]], b=[0.0, -1.0], v=[1.0, -2.0])


def _params(rng: random.Random, n: int) -> list[Value]:
    return [Value(round(rng.uniform(-1, 1), 3)) for _ in range(n)]


def _check_graph(exercise: str, out: Any, ref: Value, params: list[Value], refparams: list[Value],
                 where: str, names: list[str]) -> None:
    if not isinstance(out, Value):
        raise ExerciseFailed(f"{exercise}: {where} should return a Value (so gradients can flow), "
                             f"got {type(out).__name__} {show(out)}")
    expect(exercise, where, out.data, ref.data, 1e-9)
    out.backward()
    ref.backward()
    for i, (p, q) in enumerate(zip(params, refparams)):
        got = number(exercise, f"the gradient of {names[i]}", p.grad)
        if not close(got, q.grad, 1e-9):
            raise ExerciseFailed(f"{exercise}: {where}: d output / d {names[i]}: expected {fmt(q.grad)}, got "
                                 f"{fmt(got)} (keep the Values: no .data inside the network)")


def _rng(rng: random.Random | None, seed: int) -> random.Random:
    return rng if rng is not None else random.Random(seed)


@exercise("neuron")
def check_neuron(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, b, x) = relu(w·x + b), built from Values so that w and b get gradients."""
    for k in range(10):
        draw = _rng(rng, k)
        n = 1 + k % 4
        w, b, x = _params(draw, n), _params(draw, 1)[0], [round(draw.uniform(-2, 2), 2) for _ in range(n)]
        if k == 0 and rng is None:
            w, b, x = [Value(0.5)], Value(0.25), [1.0]
        w2, b2 = [Value(v.data) for v in w], Value(b.data)
        out = call("neuron", fn, w, b, x)
        where = f"neuron(w={show([v.data for v in w])}, b={fmt(b.data)}, x={show(x)})"
        _check_graph("neuron", out, dot(w2, x, b2).relu(), [*w, b], [*w2, b2], where,
                     [*(f"w[{i}]" for i in range(n)), "b"])
    return "relu(w·x + b) and its gradients on 10 neurons"


@exercise("layer")
def check_layer(fn: Any, rng: random.Random | None = None) -> str:
    """fn(W, b, x) = [relu(W[i]·x + b[i]) for each unit i]: a list of Values."""
    for k in range(8):
        draw = _rng(rng, 100 + k)
        n_in, n_out = 1 + k % 3, 1 + (k * 7) % 4
        W = [_params(draw, n_in) for _ in range(n_out)]
        b = _params(draw, n_out)
        x = [round(draw.uniform(-2, 2), 2) for _ in range(n_in)]
        W2, b2 = [[Value(v.data) for v in row] for row in W], [Value(v.data) for v in b]
        outs = call("layer", fn, W, b, x)
        where = f"layer of {n_out} unit(s) with {n_in} input(s), x={show(x)}"
        if not isinstance(outs, (list, tuple)) or len(outs) != n_out:
            raise ExerciseFailed(f"layer: {where}: should return a list of {n_out} Values, got {show(outs)}")
        for j, (o, row, bj, row2, bj2) in enumerate(zip(outs, W, b, W2, b2)):
            _check_graph("layer", o, dot(row2, x, bj2).relu(), [*row, bj], [*row2, bj2], f"{where}, unit {j}",
                         [*(f"W[{j}][{i}]" for i in range(n_in)), f"b[{j}]"])
    return "every unit's relu(W[i]·x + b[i]) and its gradients on 8 layers"


def _mlp_reference(layers: list[tuple[list[list[Value]], list[Value]]], x: list[Any]) -> Value:
    h: list[Any] = list(x)
    for k, (W, b) in enumerate(layers):
        z = [dot(row, h, bi) for row, bi in zip(W, b)]
        h = z if k == len(layers) - 1 else [zi.relu() for zi in z]
    out: Value = h[0]
    return out


@exercise("mlp")
def check_mlp(fn: Any, rng: random.Random | None = None) -> str:
    """fn(layers, x): ReLU layers, then a linear output unit; layers is a list of (W, b)."""
    for k in range(6):
        draw = _rng(rng, 200 + k)
        sizes = [2, 3, 3, 1] if k % 2 else [3, 4, 1]
        layers = [([_params(draw, n_in) for _ in range(n_out)], _params(draw, n_out))
                  for n_in, n_out in zip(sizes, sizes[1:])]
        twin = [([[Value(v.data) for v in row] for row in W], [Value(v.data) for v in b]) for W, b in layers]
        x = [round(draw.uniform(-2, 2), 2) for _ in range(sizes[0])]
        out = call("mlp", fn, layers, x)
        ref = _mlp_reference(twin, x)
        flat = [v for W, b in layers for v in [*[w for row in W for w in row], *b]]
        flat2 = [v for W, b in twin for v in [*[w for row in W for w in row], *b]]
        where = f"mlp with sizes {sizes} at x={show(x)}"
        if isinstance(out, Value) and not close(out.data, ref.data, 1e-9):
            relu_out = ref.data < 0 and out.data == 0
            hint = " (no ReLU on the output layer: it is linear)" if relu_out else ""
            raise ExerciseFailed(f"mlp: {where}: expected {fmt(ref.data)}, got {fmt(out.data)}"
                                 f"{hint or why(out.data, ref.data)}")
        _check_graph("mlp", out, ref, flat, flat2, where, [f"parameter {i}" for i in range(len(flat))])
    return "outputs and gradients of 6 networks (ReLU hidden layers, linear output)"


def _xor_reference(x1: float, x2: float, W: list[list[float]], b: list[float], v: list[float]) -> float:
    h = [max(0.0, W[0][j] * x1 + W[1][j] * x2 + b[j]) for j in range(2)]
    return v[0] * h[0] + v[1] * h[1]


@exercise("xor")
def check_xor(fn: Any, rng: random.Random | None = None) -> str:
    """fn(x1, x2, W, b, v) = vᵀ relu(Wᵀx + b) (W[i][j]: input i into hidden unit j), a Value or a number;
    with the lecture's weights it is XOR."""
    cases: list[tuple[float, float, dict[str, Any]]]
    if rng is None:
        cases = [(x1, x2, XOR_WEIGHTS) for x1, x2 in [(0, 0), (0, 1), (1, 0), (1, 1), (0.5, 2.0), (-1.0, 0.25)]]
    else:
        cases = [(round(rng.uniform(-2, 2), 2), round(rng.uniform(-2, 2), 2),
                  dict(W=[[round(rng.uniform(-2, 2), 2) for _ in range(2)] for _ in range(2)],
                       b=[round(rng.uniform(-1, 1), 2) for _ in range(2)], v=[round(rng.uniform(-2, 2), 2)
                                                                              for _ in range(2)]))
                 for _ in range(12)]
    for x1, x2, weights in cases:
        W, b, v = ([list(r) for r in weights["W"]], list(weights["b"]), list(weights["v"]))
        shown = f"xor_network({fmt(x1)}, {fmt(x2)}, W={show(W)}, b={show(b)}, v={show(v)})"
        got = number("xor", shown, call("xor", fn, x1, x2, W, b, v, shown=shown))
        want = _xor_reference(x1, x2, weights["W"], weights["b"], weights["v"])
        transposed = _xor_reference(x1, x2, [list(r) for r in zip(*weights["W"])], weights["b"], weights["v"])
        hint = " (W[i][j] is the weight from input i into unit j: Wᵀx)" if close(got, transposed) and \
            not close(want, transposed) else ""
        expect("xor", shown, got, want, 1e-9, hint=hint)
    if rng is None:
        return "0, 1, 1, 0 on the four inputs, and the network's output on two others"
    return f"the network v·relu(Wᵀx + b) on {len(cases)} other weights and inputs"
