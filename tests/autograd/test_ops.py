"""Every primitive against central finite differences, and the op table on its other backends."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_cases import CASES, central_difference, is_close, too_close_to_a_kink

from autograd import Value, ops
from autograd.backends import FLOAT, VALUE
from autograd.tape.arrays import numpy_backend


def points(intervals):
    return st.tuples(*[st.floats(lo, hi, allow_nan=False) for lo, hi in intervals])


def check_against_finite_differences(case, xs):
    fn, _torch_fn, _intervals, kinks = CASES[case]
    assume(not too_close_to_a_kink(xs, kinks, case))
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    out.backward()

    def f(*a):
        return fn(*[Value(x) for x in a]).data

    for i, v in enumerate(inputs):
        numeric = central_difference(f, xs, i)
        assert is_close(v.grad, numeric, rel=1e-5, abs_=1e-6), (case, xs, i, v.grad, numeric)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_finite_differences(case):
    @settings(max_examples=40, deadline=None)
    @given(points(CASES[case][2]))
    def run(xs):
        check_against_finite_differences(case, xs)

    run()


def test_every_table_op_is_exercised_by_the_cases():
    names = {"pow_const_frac": "pow_const", "rpow": "pow", "softmax": "logsumexp", "log_softmax": "logsumexp"}
    covered = {names.get(c, c) for c in CASES}
    assert set(ops.OPS) <= covered


# --- the same rule on every backend ---------------------------------------------------------------
UNARY_POINTS = [-2.5, -0.3, 0.4, 1.7]


@pytest.mark.parametrize("name", [n for n, op in ops.OPS.items() if op.arity == 1 and not op.params
                                  and n not in ("log", "sqrt")])
def test_numpy_backend_agrees_with_floats(name):
    op = ops.OPS[name]
    nb = numpy_backend()
    xs = np.array(UNARY_POINTS)
    out = op.forward(nb, xs)
    (d,) = op.partials(nb, out, xs)
    for i, x in enumerate(UNARY_POINTS):
        o = op.forward(FLOAT, x)
        assert out[i] == pytest.approx(o, rel=1e-14, abs=1e-15)
        assert np.broadcast_to(d, xs.shape)[i] == pytest.approx(op.partials(FLOAT, o, x)[0], rel=1e-14, abs=1e-15)


def test_numpy_backend_nary_and_parametrised_ops():
    nb = numpy_backend()
    a, b, c = np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.array([-1.0, 1.0])
    # weights (a, b), inputs (c, a), bias 2: a*c + b*a + 2, sample by sample
    assert ops.DOT.forward(nb, a, b, c, a, 2.0).tolist() == [1.0 * -1.0 + 0.5 * 1.0 + 2.0,
                                                              -2.0 * 1.0 + 3.0 * -2.0 + 2.0]
    lse = ops.LOGSUMEXP.forward(nb, a, b, c)
    assert lse[0] == pytest.approx(math.log(math.e + math.exp(0.5) + math.exp(-1)))
    lrelu = ops.LEAKY_RELU.bind(alpha=0.2)
    assert lrelu.forward(nb, np.array([-1.0, 2.0])).tolist() == [-0.2, 2.0]


def test_each_applies_f_to_every_input_on_every_backend():
    square = lambda m: lambda x: x * x  # noqa: E731
    assert FLOAT.each(square(FLOAT), (1.0, -2.0)) == (1.0, 4.0)
    values = VALUE.each(square(VALUE), (Value(3.0), Value(0.5)))
    assert type(values) is tuple and [v.data for v in values] == [9.0, 0.25]
    nb = numpy_backend()
    a, b = np.array([1.0, 2.0]), np.array([-3.0, 0.5])
    stack = nb.each(square(nb), (a, b))
    assert isinstance(stack, tuple) and len(stack) == 2 and stack.array.shape == (2, 2)
    assert [r.tolist() for r in stack] == [[1.0, 4.0], [9.0, 0.25]]
    # sum, max and each read the stacked array as it is; a constant f is repeated for every input
    assert nb.sum(stack).tolist() == [10.0, 4.25] and nb.max(stack).tolist() == [9.0, 4.0]
    assert [r.tolist() for r in nb.each(lambda x: 2.0, stack)] == [[2.0, 2.0], [2.0, 2.0]]
    # inputs of different shapes (a parameter's column beside a batch) broadcast first
    assert nb.each(square(nb), (np.array([[2.0]]), np.array([[1.0, 3.0]]))).array.shape == (2, 1, 2)


def test_each_in_partials_is_checked_like_a_tuple():
    # A partials rule returning one derivative too few is refused on every path, each's result too.
    short = ops.defop("short_each", arity=None, forward=lambda m, *xs: m.sum(xs),
                      partials=lambda m, out, *xs: m.each(lambda x: 1.0 + 0.0 * x, xs[1:]))
    try:
        with pytest.raises(TypeError, match="partials must return a tuple of 2 derivative"):
            short(Value(1.0), Value(2.0)).backward()
        nb = numpy_backend()
        with pytest.raises(TypeError, match="partials must return a tuple of 2 derivative"):
            short.checked_partials(nb, np.zeros(2), np.zeros(2), np.ones(2))
    finally:
        del ops.OPS["short_each"]


def test_numpy_step_is_heaviside_and_nan_in_nan_out():
    nb = numpy_backend()
    a = np.array([-1.0, -0.0, 0.0, 2.0, math.nan, math.inf, -math.inf])
    for b in (0.0, 1.0, math.nan, np.array([0.0, 0.0, 1.0, 2.0, 0.0, math.inf, 0.0])):
        for tie in (0.0, 0.5):
            want = [FLOAT.step(float(x), float(y), tie) for x, y in zip(a, np.broadcast_to(b, a.shape))]
            assert np.array_equal(nb.step(a, b, tie), want, equal_nan=True), (b, tie)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "softplus", "selu", "sin"])
def test_value_backend_partials_equal_float_partials(name):
    op = ops.OPS[name]
    x = Value(0.7)
    out = op.forward(FLOAT, 0.7)
    (d_float,) = op.partials(FLOAT, out, 0.7)
    node = getattr(x, name)()
    (d_value,) = op.partials(VALUE, node, x)
    assert getattr(d_value, "data", d_value) == pytest.approx(d_float, rel=1e-14)  # a constant may stay a float


def test_ops_are_registered_once_and_bind_is_cached():
    assert ops.get("tanh") is ops.TANH
    assert ops.LEAKY_RELU.bind(alpha=0.3) is ops.LEAKY_RELU.bind(alpha=0.3)
    assert ops.LEAKY_RELU.bind(alpha=0.3).label == "leaky_relu(alpha=0.3)"
    assert ops.POW_CONST.bind(n=2).label == "**2"
    with pytest.raises(KeyError, match="no op named 'nope'"):
        ops.get("nope")
    with pytest.raises(TypeError, match="unknown parameter"):
        ops.RELU.bind(alpha=1.0)


def test_the_derivative_of_tanh_is_written_once():
    """A guard for the design rule: no second copy of a derivative formula in the engine."""
    import pathlib

    import autograd

    root = pathlib.Path(autograd.__file__).parent
    hits = [p for p in root.rglob("*.py") if "1.0 - out * out" in p.read_text() or "1 - out*out" in p.read_text()]
    assert [p.name for p in hits if p.name != "ops.py"] == []
