"""The mistakes students make get a pointer, not a silently cut graph or a bare Python error."""

import math

import pytest

import autograd
from autograd import Value, logsumexp


@pytest.mark.parametrize("call, method", [
    (lambda x: math.exp(x), "exp"),
    (lambda x: 2 * math.tanh(x), "tanh"),
    (lambda x: math.log(x), "log"),
])
def test_math_functions_on_a_value_name_the_value_method(call, method):
    x = Value(0.5)
    with pytest.raises(TypeError, match=rf"use x\.{method}\(\) instead of math\.{method}\(x\)"):
        call(x)
    with pytest.raises(TypeError, match=r"Value methods \(x\.exp\(\), x\.tanh\(\)"):
        math.exp(x)  # the message names the methods also when it cannot see the call


def test_float_of_a_value_points_to_item_and_data():
    x = Value(0.5)
    with pytest.raises(TypeError, match=r"a Value is not a float.*x\.item\(\) or x\.data"):
        float(x)
    assert x.item() == 0.5 and type(x.item()) is float


def test_format_specs_format_the_number():
    loss = Value(0.123456, label="loss")
    assert f"{loss:.3f}" == "0.123" and f"{loss:8.2e}" == "1.23e-01" and format(loss, "") == repr(loss)
    assert f"{loss}" == repr(loss)


def test_ordering_compares_data_and_max_keeps_the_graph():
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 1.5, 0.5 < a, a >= 1, 2 > a) == (True, True, True, True)
    top = max(a, b * 3)
    assert top.op == "mul"  # the chosen Value itself, with its graph
    top.backward()
    assert b.grad == 3.0
    assert [v.data for v in sorted([b, a, Value(-1.0)])] == [-1.0, 1.0, 2.0]
    y = Value(0.3)
    assert (y.tanh() if y > 0 else -y).op == "tanh"
    assert type(a < b) is bool


def test_equality_stays_identity_so_values_are_hashable_nodes():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and len({a, b, a}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a"


def test_messages_of_many_operand_ops_are_bounded():
    xs = [Value(-math.inf)] * 100_000
    with pytest.raises(ValueError) as e:
        logsumexp(xs)
    message = str(e.value)
    assert len(message) < 300 and "\n" not in message
    assert "logsumexp(" in message and "100,000 operands" in message and "-inf" in message


def test_backward_messages_of_many_operand_ops_are_bounded():
    xs = [Value(float(i)) for i in range(50_000)] + [Value(math.nan)]
    lse = logsumexp(xs)
    message = autograd.errors.backward_error(lse.fn, [x.data for x in xs], ValueError("boom")).args[0]
    assert len(message) < 300 and "50,001 operands, first non-finite: nan" in message


def test_anomaly_messages_of_many_operand_ops_are_bounded():
    xs = [Value(1e308) for _ in range(10_000)]
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError) as e:
        autograd.sum(xs)
    assert len(str(e.value)) < 300 and "10,000 inputs" in str(e.value)


def test_a_value_as_gradient_seed_without_create_graph_is_named():
    with pytest.raises(TypeError, match=r"backward: expected a number here.*\.data"):
        Value(1.0).tanh().backward(Value(2.0))
