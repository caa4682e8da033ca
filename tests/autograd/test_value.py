"""The Value node: construction, errors, backward semantics, modes, memory."""

import gc
import math
import threading
import weakref

import pytest

import autograd
from autograd import (
    AnomalyError,
    Value,
    detect_anomaly,
    dot,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    no_grad,
    softmax,
)


# --- construction -----------------------------------------------------------------------------
def test_fields_float_and_repr():
    v = Value(3, label="x")
    assert (v.data, v.grad, v.label, v.op, v.parents) == (3.0, 0.0, "x", "", ())
    assert type(v.data) is float and v.item() == 3.0
    assert "data=3.0" in repr(v) and "grad=0.0" in repr(v)
    w = v * 2
    assert w.op == "mul" and w.op_label == "*" and w.parents[0] is v and w.parents[1].data == 2.0


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], {"a": 1}, 1j])
def test_non_numbers_raise_type_error_naming_the_argument(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)
    with pytest.raises(TypeError, match=r"\+: expected"):
        Value(1.0) + bad
    with pytest.raises(TypeError, match=r"\*: expected"):
        bad * Value(1.0)


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    assert (Value(np.float32(1.5)) * np.int64(2)).data == 3.0


# --- operators, with numbers on either side ---------------------------------------------------------
def test_operators_with_numbers_on_either_side():
    x = Value(2.0)
    assert [(x + 1).data, (1 + x).data, (x - 1).data, (1 - x).data] == [3.0, 3.0, 1.0, -1.0]
    assert [(x * 3).data, (3 * x).data, (x / 4).data, (4 / x).data] == [6.0, 6.0, 0.5, 2.0]
    assert [(x ** 3).data, (3 ** x).data, (-x).data, (x ** Value(0.5)).data] == [8.0, 9.0, -2.0, math.sqrt(2)]


def test_methods_forward_values():
    x = Value(0.5)
    expected = {
        "exp": math.exp(0.5), "log": math.log(0.5), "sqrt": math.sqrt(0.5), "abs": 0.5, "tanh": math.tanh(0.5),
        "sigmoid": 1 / (1 + math.exp(-0.5)), "relu": 0.5, "selu": 1.0507009873554805 * 0.5,
        "softplus": math.log1p(math.exp(0.5)), "sin": math.sin(0.5), "cos": math.cos(0.5),
    }
    for name, value in expected.items():
        assert getattr(x, name)().data == pytest.approx(value, rel=1e-15), name
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert Value(-2.0).elu(alpha=0.5).data == pytest.approx(0.5 * (math.exp(-2) - 1))
    assert Value(2.0).swish(Value(1.5)).data == pytest.approx(2 / (1 + math.exp(-3.0)))


def test_nary_functions_are_single_nodes():
    w = [Value(1.0), Value(2.0), Value(3.0)]
    d = dot(w, [4.0, 5.0, 6.0], bias=Value(0.5))
    assert d.data == 32.5 and d.op == "dot" and len(d.parents) == 7
    s = autograd.sum(w)
    assert s.data == 6.0 and s.op == "sum" and s.parents == tuple(w)
    d.backward()
    assert [v.grad for v in w] == [4.0, 5.0, 6.0]
    with pytest.raises(ValueError, match="dot: 3 weights but 2 inputs"):
        dot(w, [1.0, 2.0])
    with pytest.raises(ValueError, match="logsumexp"):
        logsumexp([])


def test_softmax_family_is_stable_at_large_inputs():
    xs = [Value(1000.0), Value(999.0), Value(-1000.0)]
    lse = logsumexp(xs)
    assert lse.data == pytest.approx(1000 + math.log(1 + math.exp(-1)))
    probs = softmax(xs)
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    logp = log_softmax(xs)
    logp[0].backward()
    assert all(math.isfinite(v.grad) for v in xs)
    assert xs[0].grad == pytest.approx(1 - probs[0].data)


# --- conventions -------------------------------------------------------------------------------------
def test_conventions_relu_abs_and_ties():
    for method in ("relu", "abs"):
        x = Value(0.0)
        getattr(x, method)().backward()
        assert x.grad == 0.0
    for fn in (maximum, minimum):
        a, b = Value(2.0), Value(2.0)
        fn(a, b).backward()
        assert (a.grad, b.grad) == (0.5, 0.5)
    a, b = Value(3.0), Value(2.0)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


# --- domain errors: Python's exception type, op and operand named, no node created ----------------------
@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value(-1.0).log(), ValueError, ["log", "-1.0"]),
        (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "-4.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["div", "0.0"]),
        (lambda: 1.0 / Value(0.0), ZeroDivisionError, ["div", "0.0"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["pow", "0.0"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["pow", "-8.0"]),
        (lambda: Value(-2.0) ** Value(2.0), ValueError, ["pow", "-2.0"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp", "1000.0"]),
    ],
)
def test_domain_errors(make, error, words):
    before = Value(0.0)._seq
    with pytest.raises(error) as info:
        make()
    for word in words:
        assert word in str(info.value)
    # Only the operands themselves were created: no result node exists.
    assert Value(0.0)._seq - before <= 4


def test_python_float_errors_are_the_reference():
    # The engine raises what plain float arithmetic raises for the same case.
    for expr, engine in [("math.log(0.0)", lambda: Value(0.0).log()), ("1.0 / 0.0", lambda: Value(1.0) / 0.0),
                         ("0.0 ** -1", lambda: Value(0.0) ** -1), ("math.exp(1000)", lambda: Value(1000).exp())]:
        with pytest.raises(Exception) as reference:
            eval(expr)
        with pytest.raises(type(reference.value)):
            engine()


def test_backward_through_an_undefined_derivative_names_the_op():
    x = Value(0.0)
    y = x.sqrt()
    with pytest.raises(ZeroDivisionError, match="sqrt"):
        y.backward()


# --- backward semantics -------------------------------------------------------------------------------
def test_backward_twice_doubles_leaves_and_keeps_interior():
    x, y = Value(2.0), Value(-3.0)
    a = x * y
    b = a + a
    c = b * a
    c.backward()
    first = (x.grad, y.grad, a.grad, b.grad)
    c.backward()
    assert (x.grad, y.grad) == (2 * first[0], 2 * first[1])
    assert (a.grad, b.grad) == first[2:]  # d(c)/d(node) for the last call, never corrupted
    assert a.grad == 4 * a.data  # c = (a + a) * a = 2a^2
    assert b.grad == a.data


def test_backward_with_a_gradient_argument():
    x = Value(3.0)
    (x * x).backward(gradient=0.5)
    assert x.grad == 3.0
    with pytest.raises(TypeError, match="backward"):
        (x * x).backward(gradient="1")


def test_chain_of_a_million_nodes():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


# --- modes ------------------------------------------------------------------------------------------
def test_no_grad_records_no_parents_and_is_per_thread():
    x = Value(2.0)
    seen = {}

    def other_thread():
        seen["parents"] = len((x * x).parents)

    with no_grad():
        y = x * x
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert y.parents == () and y.data == 4.0 and y.is_leaf
    assert seen["parents"] == 2  # another thread kept recording
    assert len((x * x).parents) == 2  # and recording resumes after the block


def test_numbers_among_inputs_become_leaves_only_when_a_node_is_made():
    from autograd import dot, logsumexp

    w = [Value(2.0), Value(-1.0)]
    with no_grad():
        z = dot(w, [3, 4.0], 0.5)  # no node: the numbers are read, not wrapped
    assert z.data == 2.5 and z.is_leaf
    z = dot(w, [3, 4.0], 0.5)
    assert [p.data for p in z.parents[2:]] == [3.0, 4.0, 0.5] and all(p.is_leaf for p in z.parents[2:])
    z.backward()
    assert z.parents[2].grad == 2.0  # a constant leaf still receives its gradient
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"dot produced inf from .*leaf=1e\+308"):
        dot([Value(1e308)], [10.0])  # detect_anomaly's message shows the wrapped numbers too
    for block in (no_grad, detect_anomaly):
        with block(), pytest.raises(OverflowError, match=r"logΣexp: 10000.*too large for a float"):
            logsumexp([10 ** 400, Value(1.0)])  # as_float's message: the int is too large for a float
    with no_grad(), pytest.raises(ValueError, match=r"log\(-1\.0\)"):
        Value(-1.0).log()


def test_detach():
    x = Value(2.0, label="x")
    y = (x * 3).detach()
    assert y.parents == () and y.data == 6.0
    (y * x).backward()
    assert x.grad == 6.0 and y.grad == 2.0


def test_detect_anomaly_names_op_and_inputs():
    a = Value(1e300, label="big")
    with detect_anomaly(), pytest.raises(AnomalyError, match="mul.*big=1e\\+300"):
        a * a
    assert math.isinf((a * a).data)  # outside the block, IEEE rules as usual

    x = Value(1e-200, label="x")
    y = x.sqrt()  # finite value, but its slope 0.5/sqrt(x) = 5e99 times a seed of 1e300 is not
    with detect_anomaly(), pytest.raises(AnomalyError, match="sqrt.*x=1e-200.*non-finite gradient"):
        y.backward(1e300)
    assert x.grad == 0.0  # the failed call put the leaf's gradient back
    y.backward(1.0)  # the same graph is fine with a finite seed
    assert x.grad == pytest.approx(5e99)


# --- memory --------------------------------------------------------------------------------------------
def test_graph_is_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = Value(1.0)
        y = (x * 2).tanh() + x.exp()
        y.backward()
        probe = weakref.ref(y)
        interior = weakref.ref(y.parents[0])
        del y
        assert probe() is None and interior() is None
    finally:
        gc.enable()


def test_slots_no_dict():
    assert not hasattr(Value(1.0), "__dict__")


def test_cycle_collector_paused_restores_state():
    from autograd import cycle_collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collector_paused():
            pass
        assert not gc.isenabled()  # a collector the user had switched off stays off
    finally:
        gc.enable()


def test_power_zero_has_slope_zero_even_at_zero():
    x = Value(0.0)
    y = x ** 0
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)


def test_overflow_says_overflow_not_domain():
    with pytest.raises(OverflowError, match=r"pow_const\(-5.8e\+169, n=2.0\): the result is too large") as info:
        Value(-5.8e169) ** 2
    assert "negative" not in str(info.value)
    with pytest.raises(OverflowError, match=r"exp\(1000.0\): the result is too large"):
        Value(1000.0).exp()


def test_nan_propagates_through_relu_and_maximum_like_numpy():
    nan = float("nan")
    assert math.isnan(Value(nan).relu().data)
    assert math.isnan(maximum(Value(nan), 1.0).data) and math.isnan(maximum(Value(1.0), nan).data)
    assert math.isnan(minimum(Value(nan), 1.0).data) and math.isnan(minimum(Value(1.0), nan).data)
    assert math.isnan(Value(nan).leaky_relu().data) and math.isnan(Value(nan).elu().data)


def test_elu_and_selu_slopes_stay_accurate_far_left_and_near_zero():
    from autograd.ops import SELU_ALPHA, SELU_SCALE

    for x0 in (-38.0, -30.0, -1e-300):
        x = Value(x0)
        x.elu(0.7).backward()
        assert x.grad == pytest.approx(0.7 * math.exp(x0), rel=1e-14)
        y = Value(x0)
        out = y.selu()
        out.backward()
        assert y.grad == pytest.approx(SELU_SCALE * SELU_ALPHA * math.exp(x0), rel=1e-14)
        assert out.data == pytest.approx(SELU_SCALE * SELU_ALPHA * math.expm1(x0), rel=1e-14)
    assert Value(-1e-300).selu().data < 0.0  # expm1, not exp - 1


def test_logsumexp_with_infinite_inputs():
    inf = float("inf")
    assert logsumexp([Value(inf), Value(1.0)]).data == inf
    assert logsumexp([Value(-inf), Value(0.0)]).data == 0.0
    with pytest.raises(ValueError, match="logsumexp"):  # log of an empty sum, never a silent NaN
        logsumexp([Value(-inf), Value(-inf)])


def test_power_with_infinite_or_nan_exponent_follows_python():
    assert (Value(-8.0) ** float("inf")).data == (-8.0) ** float("inf")
    assert math.isnan((Value(-8.0) ** float("nan")).data)


def test_failed_create_graph_backward_leaves_no_cycles():
    gc.disable()
    try:
        x = Value(0.0)
        a = x * x
        b = a.tanh()
        y = b + (x * 0.0).sqrt() * 0.0 + b * b
        with pytest.raises(ZeroDivisionError):
            y.backward(create_graph=True)
        assert type(b.grad) is float
        x.grad = 0.0
        probe = weakref.ref(a)
        del a, b, y
        assert probe() is None
    finally:
        gc.enable()


def test_backward_error_names_bound_parameters():
    with pytest.raises(ZeroDivisionError, match=r"pow_const\(0.0, n=0.5\)"):
        (Value(0.0) ** 0.5).backward()


def test_a_failed_backward_leaves_leaf_gradients_as_they_were():
    x = Value(0.0)
    x.grad = 0.25
    y = x + (x * 0.0).sqrt()  # sqrt'(0) is undefined: backward fails after x got part of its gradient
    with pytest.raises(ZeroDivisionError):
        y.backward()
    assert x.grad == 0.25


def test_pow_gradient_does_not_underflow_with_its_output():
    a, b = Value(1e-170), Value(2.0)
    (a ** b).backward()
    assert a.grad == pytest.approx(2e-170, rel=1e-12)


def test_integers_beyond_the_float_range_name_the_operation():
    with pytest.raises(OverflowError, match=r"Value: 1000000.* is too large"):
        Value(10**400)
    with pytest.raises(OverflowError, match=r"\+: 1000000.* is too large"):
        Value(1.0) + 10**400
