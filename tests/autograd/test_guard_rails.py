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


# --- issue 23 §4: guard rails ------------------------------------------------------------------------------
def test_the_math_hint_names_the_function_that_received_the_value():
    x = Value(0.5)
    with pytest.raises(TypeError, match=r"use x\.exp\(\) instead of math\.exp\(x\)"):
        math.sqrt(2.0) * math.exp(x)
    with pytest.raises(TypeError, match=r"use x\.sqrt\(\) instead of math\.sqrt\(x\)"):
        math.exp(math.sqrt(x))
    with pytest.raises(TypeError) as e:
        math.sqrt(2.0) * math.fsum([x])  # received by a function with no Value method: no hint
    assert "instead of" not in str(e.value)


def test_truth_of_a_value_follows_its_number_as_in_pytorch():
    assert [bool(Value(v)) for v in (0.0, -0.0, 1.0, -2.5, math.nan, math.inf)] == [False, False, True, True, True,
                                                                                     True]
    x = Value(0.0)
    taken = "yes" if x else "no"
    assert taken == "no" and bool(x + 1) is True


@pytest.mark.parametrize("convert, name", [(int, "int"), (round, "round"), (lambda v: round(v, 2), "round")])
def test_int_and_round_of_a_value_get_the_same_guidance_as_float(convert, name):
    with pytest.raises(TypeError, match=rf"a Value is not a float: {name}\(\) would cut it .*{name}\(x\.data\).*"
                                        r"x\.item\(\) or x\.data"):
        convert(Value(2.7))


def test_a_batch_given_to_a_model_as_one_sample_says_how_to_run_a_batch():
    import numpy as np

    import nn

    model = nn.MLP(2, [3, 1], seed=0)
    for batch in (np.ones((3, 2)), np.ones((2, 2)), [[1.0, 2.0]]):
        with pytest.raises(ValueError, match=r"MLP: got a batch of shape \(\d, 2\) .* a model takes one sample; "
                                             r"run a batch with \[model\(x\) for x in X\], model.forward_batch\(X\)"):
            model(batch)
    with pytest.raises(ValueError, match="MLP: expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    assert model(np.ones(2)).data == model([1.0, 1.0]).data


def test_deep_copying_a_20000_node_chain_copies_it_without_recursion():
    import copy

    x = Value(0.5, label="x")
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.backward(create_graph=False)
    c = copy.deepcopy(y)
    assert c is not y and c.data == y.data and c.op == y.op and c.parents[0] is not y.parents[0]
    leaf = c
    while leaf.parents:
        leaf = leaf.parents[0]
    assert leaf.label == "x" and leaf is not x and leaf.grad == x.grad
    leaf.grad = 0.0
    c.backward()
    assert leaf.grad == 1.0 and x.grad == 1.0  # the copy has its own gradients


def test_deep_copy_keeps_shared_nodes_shared_and_gradient_graphs():
    import copy

    x = Value(0.5)
    y = x * x
    y.backward(create_graph=True)
    a, b = copy.deepcopy([y, x])
    assert a.parents[0] is a.parents[1] is b and b.grad is not x.grad and b.grad.data == x.grad.data
    assert a.fn is y.fn  # ops are the table's entries, shared


def test_jvp_names_the_output_with_one_colon():
    with pytest.raises(TypeError, match=r"^jvp: output 0: f must return a scalar"):
        autograd.jvp(lambda x: [[x]], (1.0,), (1.0,))


def test_the_missing_graphviz_error_has_a_public_name():
    pytest.importorskip("graphviz")
    from autograd.viz import GraphvizNotInstalledError
    from autograd.viz.dot import GraphvizNotFound

    assert issubclass(GraphvizNotFound, GraphvizNotInstalledError)
    assert f"{GraphvizNotFound.__module__}.{GraphvizNotFound.__qualname__}" == "autograd.viz.dot.GraphvizNotFound"


def test_without_column_positions_the_math_hint_names_a_lone_call_or_none(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "hint.py"
    script.write_text(
        "import math\nfrom autograd import Value\nx = Value(0.5)\n"
        "def lone():\n    return math.exp(x)\n"
        "def two():\n    return math.sqrt(2.0) * math.exp(x)\n"
        "for f in (lone, two):\n"
        "    try:\n        f()\n    except TypeError as e:\n        print('instead of math.exp(x)' in str(e))\n")
    # -X no_debug_ranges: code objects carry no columns (as before Python 3.11): only the line is read
    out = subprocess.run([sys.executable, "-X", "no_debug_ranges", str(script)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]


def test_deep_copy_of_a_value_subclass_keeps_its_own_attributes():
    import copy

    class Named(Value):
        pass

    x = Named(2.0, label="x")
    x.note = ["kept"]
    c = copy.deepcopy(x * 3)
    leaf = c.parents[0]
    assert type(leaf) is Named and leaf.note == ["kept"] and leaf.note is not x.note


def test_a_pow_domain_error_says_its_reason_once():
    for base, exponent, kind, reason in ((-2.0, 0.5, ValueError, "a negative base needs an integer exponent"),
                                         (0.0, -1.0, ZeroDivisionError, "0 ** negative is undefined")):
        with pytest.raises(kind) as error:
            Value(base) ** exponent
        message = str(error.value)
        assert message.endswith(f": {reason}") and message.count(reason) == 1, message
