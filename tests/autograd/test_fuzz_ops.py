"""Fuzzing every op of the table with special floats, on every backend, and against PyTorch float64.

Inputs (and parameters such as pow's exponent or elu's alpha) are drawn from the families that broke
before: ±0, ±inf, NaN, subnormals, ±1e±300, exp's overflow edge, mixed with ordinary floats. The ops
come from ``autograd.ops.OPS``, so an op added later is fuzzed without touching this file. For each
draw, every way the engine computes a value and a gradient must agree (docs/engine.md, "Numeric
conventions"): eager backward, ``backward(create_graph=True)``, the traced tape's generated code,
its numpy mode and a batch replay; each gives the same numbers or raises the same kind of error.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Value, ops, trace
from autograd.value import apply

SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, -1e-300,
            1e300, -1e300, 1.7976931348623157e308, 709.8, -745.2, 1.0, -1.0, 0.5, -2.0, 3.0]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
ERRORS = (ArithmeticError, ValueError)

special_floats = st.one_of(st.sampled_from(SPECIALS), st.floats(allow_nan=True, allow_infinity=True),
                           st.floats(-5, 5))


@st.composite
def op_calls(draw, op):
    """(bound op, inputs): an op of the table with drawn parameters and inputs."""
    if op.params:
        op = op.bind(**{p: draw(special_floats) for p in op.params})
    n = op.arity if op.arity is not None else draw(st.integers(1, 5))
    return op, [draw(special_floats) for _ in range(n)]


def same(a, b, rel=0.0, abs_=0.0):
    """Equal as numbers (NaN equals NaN, ±0 equal), within ``rel`` and ``abs_``: numpy's tanh or exp may
    differ from math's by an ulp, which 1 - tanh(x)^2 turns into an absolute 1e-16."""
    if a != a or b != b:
        return a != a and b != b
    if a == b:
        return True
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


def eager(op, xs, create_graph=False):
    """('ok', value, grads) or ('error', exception type, 'forward' | 'backward') for ``op`` on ``xs``."""
    vs = [Value(x) for x in xs]
    try:
        out = apply(op, vs)
    except ERRORS as e:
        return ("error", _kind(e), "forward")
    try:
        out.backward(create_graph=create_graph)
    except ERRORS as e:
        return ("error", _kind(e), "backward")
    return ("ok", out.data, [float(getattr(v.grad, "data", v.grad)) for v in vs])


def _kind(e):
    # OverflowError and ZeroDivisionError are ArithmeticErrors; domain errors are ValueErrors
    return ArithmeticError if isinstance(e, ArithmeticError) else ValueError


def tape_result(op, xs, mode):
    fn = _fn(op, len(xs))
    try:
        tape = trace(fn, *[1.0] * len(xs), mode=mode)
    except ERRORS:
        return None  # the op fails at the trace's example: nothing to compare
    try:
        value, grads = tape.value_and_grad(*xs)
    except ERRORS as e:
        return ("error", _kind(e))
    return ("ok", value, list(grads))


def _fn(op, n):
    names = [f"x{i}" for i in range(n)]
    return eval(f"lambda {', '.join(names)}: apply(op, [{', '.join(names)}])", {"apply": apply, "op": op})


def assert_agree(where, expected, got, rel=0.0, abs_=0.0):
    assert got[0] == expected[0], f"{where}: {got} but eager gives {expected}"
    if got[0] == "error":
        assert got[1] is expected[1], f"{where}: {got} but eager gives {expected}"
        return
    assert same(got[1], expected[1], rel, abs_), f"{where}: value {got[1]!r}, eager {expected[1]!r}"
    for a, b in zip(got[2], expected[2]):
        assert same(a, b, rel, abs_), f"{where}: gradients {got[2]}, eager {expected[2]}"


NUMPY = dict(rel=1e-13, abs_=1e-15)  # tolerance of numpy's elementary functions against math's


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_gives_the_same_numbers_or_errors_on_every_backend(name):
    @SETTINGS
    @given(op_calls(ops.OPS[name]))
    def run(call):
        op, xs = call
        expected = eager(op, xs)
        where = f"{op.label}{tuple(xs)}"
        assert_agree(f"{where}, create_graph", expected, eager(op, xs, create_graph=True))
        got = tape_result(op, xs, "python")  # the generated code runs eager's very float operations
        if got is not None:
            assert_agree(f"{where}, tape python", expected, got)
        got = tape_result(op, xs, "numpy")
        if got is not None:
            assert_agree(f"{where}, tape numpy", expected, got, **NUMPY)

    run()


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_in_a_batch_gives_each_sample_its_eager_numbers_or_the_first_eager_error(name):
    @SETTINGS
    @given(st.data())
    def run(data):
        op, xs = data.draw(op_calls(ops.OPS[name]))
        n = len(xs)
        rows = [xs] + [[data.draw(special_floats) for _ in range(n)] for _ in range(2)]
        expected = [eager(op, r) for r in rows]
        try:
            tape = trace(_fn(op, n), *[1.0] * n)
        except ERRORS:
            return
        cols = [np.array([r[i] for r in rows]) for i in range(n)]
        # several samples fail: the batch raises the first failing sample's error, forward or backward,
        # as eager calls over the samples in order would
        failing = [k for k, e in enumerate(expected) if e[0] == "error"]
        if failing:
            with pytest.raises(ERRORS) as error:
                tape.batch_value_and_grad(*cols)
            assert _kind(error.value) is expected[failing[0]][1]
            assert str(error.value).startswith(f"batch sample {failing[0]}: "), str(error.value)
            return
        values, grads, _ = tape.batch_value_and_grad(*cols)
        for k, e in enumerate(expected):
            got = ("ok", float(values[k]), [float(g[k]) for g in grads])
            assert_agree(f"{op.label}{tuple(rows[k])}, batch sample {k}", e, got, **NUMPY)

    run()


# --- user ops returning every wrong kind of value, on every path -----------------------------------------
# A rule of one's own that goes wrong on a later call (at the input TRIGGER) or on another backend than
# floats (symbols, arrays, Values) returns each JUNK value, from its forward rule, as one partial, or as
# the whole partials; every path that reads it refuses it with a TypeError or ValueError naming the op,
# in one line, and leaves the leaves' gradients as they were.
TRIGGER = -0.75
JUNK = {"None": None, "str": "0.5", "bytes": b"0.5", "list": [0.5], "tuple": (0.5,), "dict": {}, "complex": 0.5 + 1j,
        "numpy complex": np.complex128(0.5j), "complex nan": complex(math.nan, 1.0), "array": np.array([0.5, 0.5]),
        "Value": Value(0.5), "object": object()}
WHOLE_JUNK = {"None": None, "float": 0.5, "complex": 0.5 + 1j, "str": "ab", "too long": (0.5, 0.5), "empty": (),
              "list too long": [0.5, 0.5]}
FROM_FLOATS = ("eager forward", "eager backward", "backward in detect_anomaly", "jvp")
PATHS = FROM_FLOATS + ("backward create_graph", "tape", "tape jvp", "tape numpy mode", "batch")


def _junk_op(which, junk):
    """An op that computes tanh, except where it goes wrong: at TRIGGER on floats, and on other backends."""
    from autograd.backends import FLOAT

    def wrong(m, x):
        return m is not FLOAT or x == TRIGGER

    def forward(m, x):
        return junk if which == "forward" and wrong(m, x) else m.tanh(x)

    def partials(m, out, x):
        if which == "partial" and wrong(m, x):
            return (junk,)
        if which == "partials" and wrong(m, x):
            return junk
        return (1.0 - out * out,)

    return ops.defop(f"junk_{which}", replace=True, forward=forward, partials=partials)


def _run(path, op):
    """Take ``path`` with ``op`` at TRIGGER; returns the leaf whose gradient must be left as it was."""
    import autograd

    x = Value(TRIGGER)
    x.grad = 0.125
    good = Value(0.5)
    (op(good) * 2.0).backward()  # a first call that is fine: later calls must be checked too
    if path == "eager forward":
        op(x)
    elif path == "eager backward":
        (op(x) * 2.0).backward()
    elif path == "backward in detect_anomaly":
        with autograd.detect_anomaly():
            (op(x) * 2.0).backward()
    elif path == "jvp":
        autograd.jvp(lambda v: op(v) * 2.0, (TRIGGER,), (1.0,))
    elif path == "backward create_graph":
        (op(x) * 2.0).backward(create_graph=True)
    else:
        tape = trace(lambda v: op(v) * 2.0, 0.5, mode="numpy" if path == "tape numpy mode" else "auto")
        if path == "tape":
            tape.value_and_grad(TRIGGER)
        elif path == "tape jvp":
            tape.jvp(TRIGGER, [1.0])
        elif path == "tape numpy mode":
            tape.value_and_grad(TRIGGER)
        else:
            tape.batch_value_and_grad(np.array([0.5, TRIGGER]))
    return x


def _fine(path, which, name):
    """The combinations that are no junk on that path: a Value is a derivative on Values, an array a value
    on arrays (its shape is the numpy backend's business); a forward pass alone reads no partials."""
    if path == "eager forward" and which != "forward":
        return True
    if path == "backward create_graph" and which == "partial" and name == "Value":
        return True
    return path in ("tape numpy mode", "batch") and name == "array" and which != "partials"


@pytest.mark.parametrize("which, name", [("forward", n) for n in JUNK] + [("partial", n) for n in JUNK]
                         + [("partials", n) for n in WHOLE_JUNK])
def test_a_user_op_returning_a_wrong_kind_of_value_is_refused_on_every_path_naming_it(which, name):
    junk = (WHOLE_JUNK if which == "partials" else JUNK)[name]
    for path in PATHS:
        if _fine(path, which, name):
            continue
        op = _junk_op(which, junk)
        x = None
        try:
            x = _run(path, op)
        except (TypeError, ValueError) as e:
            message = str(e)
            assert f"junk_{which}" in message and "\n" not in message and len(message) < 600, (path, message)
            continue
        pytest.fail(f"{which} returning {name}: {path} accepted it (leaf grad {x.grad!r})")


@pytest.mark.parametrize("which", ["partial", "partials"])
def test_a_refused_partial_leaves_every_gradient_as_it_was(which):
    for name, junk in (JUNK if which == "partial" else WHOLE_JUNK).items():
        op = _junk_op(which, junk)
        x, w = Value(TRIGGER), Value(2.0)
        x.grad, w.grad = 0.125, -1.5
        with pytest.raises((TypeError, ValueError), match=f"junk_{which}"):
            (op(x) * w + w).backward()
        assert (x.grad, w.grad) == (0.125, -1.5), name


# --- PyTorch float64 ---------------------------------------------------------------------------------
torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra: pip install -e '.[parity]'")
F = torch.nn.functional


def _torch_fn(op):
    """The op in PyTorch, or None for an op PyTorch has no counterpart for."""
    p = dict(op.bound)
    one = {
        "neg": lambda x: -x, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
        "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "selu": F.selu, "softplus": lambda x: F.softplus(x, threshold=40.0),
        "pow_const": lambda x: torch.pow(x, p.get("n", 0.0)),
        "leaky_relu": lambda x: F.leaky_relu(x, p.get("alpha", 0.0)),
        "elu": lambda x: F.elu(x, p.get("alpha", 0.0)),
    }
    two = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
        "maximum": torch.maximum, "minimum": torch.minimum, "swish": lambda x, b: x * torch.sigmoid(b * x),
    }
    if op.name in one:
        return lambda xs: one[op.name](xs[0])
    if op.name in two:
        return lambda xs: two[op.name](xs[0], xs[1])
    if op.name == "sum":
        return lambda xs: torch.stack(xs).sum()
    if op.name == "logsumexp":
        return lambda xs: torch.logsumexp(torch.stack(xs), 0)
    if op.name == "dot":
        def dot(xs):
            n = len(xs) // 2
            s = (torch.stack(xs[:n]) * torch.stack(xs[n:2 * n])).sum() if n else torch.zeros((), dtype=torch.float64)
            return s + xs[-1] if len(xs) % 2 else s
        return dot
    return None


def _torch(op, xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = _torch_fn(op)(ts)
    out.backward()
    grads = [t.grad.item() if t.grad is not None else 0.0 for t in ts]
    if op.name == "logsumexp" and math.isfinite(out.item()):
        # PyTorch's logsumexp backward is exp(x - out), which loses the digits issue 13 is about
        # (at 1e300 it gives 1 for each of two equal inputs); its softmax is the exact derivative
        grads = torch.softmax(torch.tensor(xs, dtype=torch.float64), 0).tolist()
    return out.item(), grads


def _scale(op, xs):
    """The size of the terms an n-ary op adds: sums are compared relative to it (order of summation)."""
    if op.name == "sum":
        return sum(abs(x) for x in xs)
    if op.name == "dot":
        n = len(xs) // 2
        return sum(abs(w * x) for w, x in zip(xs[:n], xs[n:2 * n])) + (abs(xs[-1]) if len(xs) % 2 else 0.0)
    return 0.0


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_matches_pytorch_float64_where_pytorch_defines_the_value(name):
    if _torch_fn(ops.OPS[name].bind(**{p: 1.0 for p in ops.OPS[name].params})) is None:
        pytest.skip(f"{name} has no PyTorch counterpart")

    @SETTINGS
    @given(op_calls(ops.OPS[name]))
    def run(call):
        op, xs = call
        ours = eager(op, xs)
        if ours[0] == "error":
            return  # a domain error or a math overflow: we raise where PyTorch gives inf or NaN
        value, grads = _torch(op, xs)
        scale = _scale(op, xs)
        if scale:  # sums: the order of additions may differ; compare within rounding of the terms
            if math.isfinite(scale) and math.isfinite(value):
                assert abs(ours[1] - value) <= 1e-13 * scale, (op.label, xs, ours, value)
            return
        assert same(ours[1], value, 1e-12) or abs(ours[1] - value) < 1e-300, (op.label, xs, ours[1], value)
        if any(x != x for x in xs) or any(v != v for _, v in op.bound):
            return  # NaN in: our gradients are NaN, PyTorch's at NaN are 0 or 1 (documented difference)
        # tanh' = 1 - t*t and sigmoid' = s*(1 - s) cancel near saturation: an ulp between our t (math.tanh)
        # and PyTorch's becomes an absolute error of a few 1e-16 (at x = 7, 1e-11 relative), not a bug
        cancels = 4 * sys.float_info.epsilon if op.name in ("tanh", "sigmoid") else 0.0
        for a, b in zip(ours[2], grads):
            assert same(a, b, 1e-12, cancels) or abs(a - b) < 1e-300, (op.label, xs, ours[2], grads)

    run()
