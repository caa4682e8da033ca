"""Regression tests for the engine's defects of issue 13, each named after what the user expected.

Every test here failed on the code before the fix (wrong number, traceback or bare error).  nn's (model files,
the command line, from_torch, History) are in tests/nn/test_reliability_nn.py."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from autograd import Value, draw_dot, log_softmax, logsumexp, maximum, minimum, softmax, trace
from autograd import sum as vsum

nan, inf = math.nan, math.inf


def _grads_everywhere(fn, xs):
    """(value, gradients) of fn at xs by eager backward, create_graph backward, the traced tape (python
    and numpy modes) and a batch of one: the five ways the engine computes a gradient."""
    results = []
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    results.append(("eager", out.data, [v.grad for v in vs]))
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward(create_graph=True)
    results.append(("create_graph", out.data, [float(getattr(v.grad, "data", v.grad)) for v in vs]))
    for mode in ("python", "numpy"):
        tape = trace(fn, *xs, mode=mode)
        value, grads = tape.value_and_grad(*xs)
        results.append((f"tape {mode}", value, list(grads)))
    tape = trace(fn, *xs)
    values, grads, _ = tape.batch_value_and_grad(*[np.array([x]) for x in xs])
    results.append(("batch", float(values[0]), [float(g[0]) for g in grads]))
    return results


def _same(a, b):
    return a == b or (a != a and b != b)


# --- 1. softmax, log_softmax and logsumexp from shifted values ----------------------------------
def test_softmax_of_equal_huge_logits_sums_to_one():
    for big in (1e16, 1e300, -1e300):
        probs = [p.data for p in softmax([Value(big), Value(big)])]
        assert probs == [0.5, 0.5]
    probs = [p.data for p in softmax([Value(1e16), Value(1e16 + 4.0), Value(1e16 - 2.0)])]
    expected = [math.exp(x - 4.0) for x in (0.0, 4.0, -2.0)]
    assert probs == pytest.approx([e / sum(expected) for e in expected], rel=1e-15)
    assert sum(probs) == pytest.approx(1.0, abs=1e-15)


def test_log_softmax_of_equal_huge_logits_is_minus_log_two():
    assert [p.data for p in log_softmax([Value(1e16), Value(1e16)])] == [-math.log(2.0)] * 2


def test_logsumexp_gradient_of_two_equal_1e12_values_is_exactly_one_half_on_every_backend():
    for big in (1e4, 1e8, 1e12, 1e16):
        for where, value, grads in _grads_everywhere(lambda a, b: logsumexp([a, b]), (big, big)):
            assert grads == [0.5, 0.5], where
            assert value == big + math.log(2.0), where


def test_softmax_gradient_at_huge_equal_logits_is_exact_on_every_backend():
    # d softmax_0 / d x = p0 (1 - p0), -p0 p1 = 0.25, -0.25 at equal logits, wherever they are
    for where, value, grads in _grads_everywhere(lambda a, b: softmax([a, b])[0], (1e12, 1e12)):
        assert value == 0.5, where
        assert grads == pytest.approx([0.25, -0.25], abs=1e-16), where


def test_traced_softmax_stays_exact_far_from_the_traced_example():
    tape = trace(lambda a, b: softmax([a, b])[0], 0.0, 1.0, check=True)  # the max is a node, not a constant
    assert tape(1e16, 1e16) == 0.5
    half, other = tape.batch(np.array([1e16, 0.0]), np.array([1e16, 1.0])).tolist()
    # exp(0) is 1 in every libm and SIMD kernel, so the first is exact; numpy's exp(-1) may be an ulp
    # from math's on another CPU (docs/compiler.md: batches agree with eager to about 1e-15)
    assert half == 0.5 and other == pytest.approx(1 / (1 + math.e), rel=1e-15, abs=0.0)


# --- 2. NaN in, NaN out -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn", [
    ("relu", lambda x: x.relu()),
    ("maximum", lambda x: maximum(x, 0.0)),
    ("minimum", lambda x: minimum(x, 0.0)),
    ("abs", lambda x: abs(x)),
    ("leaky_relu", lambda x: x.leaky_relu(0.1)),
    ("elu", lambda x: x.elu()),
    ("selu", lambda x: x.selu()),
])
def test_nan_input_gives_nan_value_and_nan_gradient_on_every_backend(name, fn):
    for where, value, (grad,) in _grads_everywhere(fn, (nan,)):
        assert math.isnan(value) and math.isnan(grad), f"{name}, {where}: {value}, {grad}"


def test_nan_in_either_operand_of_maximum_gives_nan_gradients_to_both():
    for fn in (maximum, minimum):
        for xs in ((nan, 0.0), (0.0, nan), (nan, nan)):
            for where, value, grads in _grads_everywhere(fn, xs):
                assert math.isnan(value) and all(math.isnan(g) for g in grads), (fn.__name__, xs, where)


def test_elu_and_leaky_relu_with_infinite_alpha_are_the_identity_for_positive_inputs_as_in_pytorch():
    for alpha in (inf, -inf, nan):
        for fn in (lambda x, a=alpha: x.elu(a), lambda x, a=alpha: x.leaky_relu(a)):
            for where, value, (grad,) in _grads_everywhere(fn, (2.0,)):
                assert (value, grad) == (2.0, 1.0), (alpha, where)


def test_elu_and_selu_gradients_are_finite_for_every_non_nan_input():
    for x in (0.0, -0.0, inf, -inf, 5e-324, -5e-324, 1e300, -1e300, 800.0, -800.0):
        for fn in (lambda v: v.elu(), lambda v: v.selu(), lambda v: v.elu(0.0)):
            for where, _, (grad,) in _grads_everywhere(fn, (x,)):
                assert math.isfinite(grad), (x, where)


# --- 3. single-element n-ary ops in the tape ------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: logsumexp([x]),
    lambda x: softmax([x])[0],
    lambda x: log_softmax([x])[0],
])
def test_traced_single_element_logsumexp_softmax_log_softmax_replay(fn):
    eager = fn(Value(2.0)).data
    for mode in ("python", "numpy"):
        tape = trace(fn, 1.0, mode=mode)
        assert tape(2.0) == eager
        assert tape.value_and_grad(2.0) == (eager, (0.0 if eager in (0.0, 1.0) else 1.0,))


# --- 5. NaN constants in check mode ----------------------------------------------------------------
def test_check_mode_accepts_a_nan_constant():
    tape = trace(lambda x: x + math.nan, 1.0, check=True)
    assert math.isnan(tape(1.0))
    assert math.isnan(tape.value_and_grad(2.0)[0])


# --- 6. drawings of ops with non-finite parameters ------------------------------------------------
def test_drawing_and_repr_of_ops_with_non_finite_parameters():
    cases = [(Value(2.0) ** inf, "**inf"), (Value(2.0).leaky_relu(nan), "leaky_relu(alpha=nan)"),
             (Value(2.0).elu(-inf), "elu(alpha=-inf)"), (Value(1.0) ** 1e300, "**1e+300"),
             (Value(2.0) ** 3, "**3"), (Value(2.0) ** -0.5, "**-0.5")]
    for v, label in cases:
        assert v.op_label == label
        assert repr(v.fn) == f"Op({label!r})"
        assert f'label="{label}"' in draw_dot(v).source


# --- 7. logsumexp of inf and nan --------------------------------------------------------------------
def test_logsumexp_with_inf_is_inf_and_with_nan_is_nan():
    assert logsumexp([1000.0, inf]).data == inf
    assert logsumexp([inf, -inf, 3.0]).data == inf
    assert math.isnan(logsumexp([nan, 1000.0]).data)
    assert math.isnan(logsumexp([1000.0, nan]).data)
    x = [Value(1000.0), Value(inf)]
    logsumexp(x).backward()
    assert x[0].grad == 0.0 and math.isnan(x[1].grad)  # PyTorch: exp(x - out) = [0, exp(inf - inf)]


# --- 14. the numpy tape mode gives eager's result or eager's error ----------------------------------
def _wide(x):
    return vsum([x * float(i) for i in range(6000)])


def test_numpy_mode_tape_over_5000_nodes_returns_eager_inf():
    tape = trace(_wide, 1.0)
    assert tape.mode == "numpy"
    assert tape(1e305) == _wide(Value(1e305)).data == inf
    x = Value(1e305)
    _wide(x).backward()
    assert tape.value_and_grad(1e305) == (inf, (x.grad,))


def test_numpy_mode_tape_raises_eager_error_in_one_bounded_line():
    def f(x):
        return vsum([(x * float(i)).exp() for i in range(6000)])

    with pytest.raises(OverflowError) as eager:
        f(Value(1.0))
    for mode in ("numpy", "python"):
        tape = trace(f, 0.001, mode=mode)
        with pytest.raises(OverflowError) as e:
            tape(1.0)
        assert str(e.value).endswith(str(eager.value)) and len(str(e.value)) < 200


def test_batch_gives_each_sample_eager_result_or_error():
    tape = trace(lambda a, b: a * b - a, 1.0, 1.0)
    values = tape.batch(np.array([1e305, inf, nan, 2.0]), np.array([1e10, 0.0, 1.0, 3.0]))
    eager = [(Value(a) * b - a).data for a, b in ((1e305, 1e10), (inf, 0.0), (nan, 1.0), (2.0, 3.0))]
    assert all(_same(v, e) for v, e in zip(values.tolist(), eager))
    tape = trace(lambda a, b: a / b, 1.0, 1.0)
    with pytest.raises(ZeroDivisionError, match=r"^batch sample 1: div\(nan, 0\.0\)"):
        tape.batch(np.array([1.0, nan]), np.array([2.0, 0.0]))  # numpy alone would give nan quietly


# --- also: labels with entities, the player's interval --------------------------------
def test_label_with_an_html_entity_prints_as_typed():
    x = Value(1.0, label="a &amp; b & c")
    y = x * 2
    y.label = "&lt;y&gt;"
    dot = draw_dot(y)
    assert "a &amp;amp; b &amp; c" in dot.source and "&amp;lt;y&amp;gt;" in dot.source
    if shutil.which("dot"):  # graphviz turns &amp; back into &: the SVG text reads as typed
        svg = dot.pipe(format="svg").decode()
        assert ">a &amp;amp; b &amp; c<" in svg and ">&amp;lt;y&amp;gt;<" in svg


def test_player_interval_ms_fast_is_a_clear_error_naming_the_argument():
    from autograd.viz import player

    with pytest.raises(TypeError, match=r"^player: interval_ms must be a whole number of milliseconds, got str 'fast'"):
        player(["<svg></svg>"], interval_ms="fast")
    for bad in (0, -5, 2.5, nan, inf):
        with pytest.raises(ValueError, match=r"^player: interval_ms"):
            player(["<svg></svg>"], interval_ms=bad)
    assert player(["<svg></svg>"], interval_ms=250.0).interval_ms == 250


def test_a_zero_slope_meeting_an_infinite_one_is_nan_on_every_path_as_in_pytorch():
    # relu'(-inf) = 0 reaches x * inf, whose slope in x is inf: 0 * inf is NaN (docs: numeric conventions)
    from autograd import grad, jacfwd, jacrev

    f = lambda x: (x * math.inf).relu()  # noqa: E731
    x, y = Value(-1.0), Value(-1.0)
    f(x).backward()
    f(y).backward(create_graph=True)
    results = [x.grad, y.grad.data, grad(f)(-1.0), jacfwd(lambda v: [f(v)])(-1.0)[0][0],
               jacrev(lambda v: [f(v)])(-1.0)[0][0], trace(f, -1.0).value_and_grad(-1.0)[1][0]]
    assert all(math.isnan(r) for r in results), results
