"""An op of your own is checked where its rules are read: every forward result, every call of its
partials, its arity, and a rule written for floats only when it meets the tape's symbols or arrays.

(The family, every wrong kind of value on every path, is fuzzed in tests/autograd/test_fuzz_ops.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value, defop, jvp, ops, trace
from autograd.errors import RuleError


def sqrt_by_power():
    return defop("sqrt_by_power", forward=lambda m, x: x ** 0.5, partials=lambda m, out, x: (0.5 / out,))


# --- 4. a forward rule's result -------------------------------------------------------------------------
def test_a_rule_making_a_complex_number_is_refused_where_the_node_would_be_made():
    op = sqrt_by_power()
    with pytest.raises(ValueError, match=r"sqrt_by_power\(-4\.0\): the forward rule returned the complex number"):
        op(Value(-4.0))
    assert op(Value(4.0)).data == 2.0


def test_a_traced_tape_never_returns_a_complex_number():
    op = sqrt_by_power()
    tape = trace(lambda x: op(x), 4.0)
    assert tape(9.0) == 3.0
    for run in (lambda: tape(-4.0), lambda: tape.value_and_grad(-4.0), lambda: tape.jvp(-4.0, [1.0]),
                lambda: tape.batch(np.array([4.0, -4.0])), lambda: trace(lambda x: op(x), 4.0, mode="numpy")(-4.0)):
        with pytest.raises(ValueError, match=r"sqrt_by_power\(-4\.0\): the forward rule returned the complex number"):
            run()
    assert "pow(x, 0.5)" in tape.source  # ** with a fractional exponent is the float backend's pow, as m.pow


@pytest.mark.parametrize("returned, error, words", [
    (None, TypeError, "NoneType None"),
    ("0.5", TypeError, "str '0.5'"),
    ([0.5], TypeError, r"list \[0\.5\]"),
    ((0.5,), TypeError, r"tuple \(0\.5,\)"),
    (0.5 + 1j, ValueError, "the complex number"),
])
def test_a_rule_returning_no_real_number_names_the_op_and_inputs_and_makes_no_node(returned, error, words):
    op = defop("returns_junk", forward=lambda m, x: returned, partials=lambda m, out, x: (1.0,))
    with pytest.raises(error, match=rf"^returns_junk\(2\.0\): .*{words}"):
        op(Value(2.0))


def test_a_rule_returning_an_int_a_bool_or_numpy_float_makes_a_float_node():
    one = defop("int_one", forward=lambda m, x: 1, partials=lambda m, out, x: (0.0,))
    half = defop("np_half", forward=lambda m, x: np.float32(0.5), partials=lambda m, out, x: (0.0,))
    step = defop("bool_step", forward=lambda m, x: x > 0, partials=lambda m, out, x: (0.0,))  # 0 or 1, as Python
    for node, number in ((one(Value(2.0)), 1.0), (half(Value(2.0)), 0.5), (step(Value(2.0)), 1.0)):
        assert type(node.data) is float and node.data == number


# --- 5. partials, checked at every call ------------------------------------------------------------------
def changing_partials(later):
    calls = []

    def partials(m, out, x):
        calls.append(x)
        return (1.0,) if len(calls) == 1 else later

    return defop("changes_its_mind", forward=lambda m, x: m.tanh(x), partials=partials)


@pytest.mark.parametrize("later, words", [((1.88 + 0.68j,), "complex"), ((1.0, 2.0), "2 value"),
                                          ((None,), "NoneType"), (("1",), "str")])
def test_partials_that_go_wrong_on_a_later_call_are_refused_and_leave_the_gradients(later, words):
    op = changing_partials(later)
    x = Value(0.5)
    op(x).backward()  # the first call is fine
    w = Value(0.5)
    w.grad = 0.25
    with pytest.raises(TypeError, match=rf"changes_its_mind: partials must return a tuple of 1 .*{words}"):
        (op(w) * 2.0).backward()
    assert w.grad == 0.25 and type(w.grad) is float  # nothing half-updated


def test_partials_checked_on_every_path_after_the_first_call():
    op = changing_partials((1.0 + 1j,))
    op(Value(0.5)).backward()
    with pytest.raises(TypeError, match="changes_its_mind: partials must return"):
        jvp(lambda x: op(x), (0.5,), (1.0,))
    with pytest.raises(TypeError, match="changes_its_mind: partials must return"):
        trace(lambda x: op(x), 0.5).value_and_grad(0.5)


# --- 6. arity on every path of apply ---------------------------------------------------------------------
def test_an_op_of_one_input_taking_star_xs_refuses_two_inputs_of_any_kind():
    star = defop("star_one", forward=lambda m, *xs: m.tanh(xs[0]), partials=lambda m, out, *xs: (1 - out * out,))
    for inputs in ((Value(1.0), Value(2.0)), (Value(1.0), 2.0), (1.0, 2.0)):
        with pytest.raises(TypeError, match=r"star_one: takes 1 input\(s\), got 2"):
            star(*inputs)
    two = defop("star_two", arity=2, forward=lambda m, *xs: xs[0] * xs[1], partials=lambda m, out, *xs: (xs[1], xs[0]))
    with pytest.raises(TypeError, match=r"star_two: takes 2 input\(s\), got 1"):
        two(Value(1.0))
    assert star(Value(1.0)).data == math.tanh(1.0) and two(Value(2.0), Value(3.0)).data == 6.0


def test_built_in_rules_keep_their_own_functions_no_arity_wrapper():
    assert ops.ADD.forward.__name__ == "<lambda>" and ops.TANH.forward.__name__ == "<lambda>"


# --- 7. rules written for floats, on a tape or a batch --------------------------------------------------
FLOAT_ONLY = {
    "math_forward": dict(forward=lambda m, x: math.tanh(x), partials=lambda m, out, x: (1 - out * out,)),
    "math_partials": dict(forward=lambda m, x: m.tanh(x), partials=lambda m, out, x: (1 - math.tanh(x) ** 2,)),
    "if_forward": dict(forward=lambda m, x: x if x > 0 else 0.0 * x, partials=lambda m, out, x: (m.step(x),)),
    "if_partials": dict(forward=lambda m, x: m.maximum(x, 0.0), partials=lambda m, out, x: (1.0 if x > 0 else 0.0,)),
}


@pytest.mark.parametrize("kind", sorted(FLOAT_ONLY))
def test_a_rule_using_math_or_if_names_the_op_and_what_to_write_on_a_tape_and_a_batch(kind):
    op = defop(f"float_only_{kind}", **FLOAT_ONLY[kind])
    y = op(Value(0.5))
    y.backward()  # eagerly fine
    tape = trace(lambda x: op(x), 0.5)
    for run, where in ((lambda: tape.value_and_grad(0.3), "the tape's symbols"),
                       (lambda: tape.jvp(0.3, [1.0]), "the tape's symbols"),
                       (lambda: tape.batch_value_and_grad(np.array([0.1, -0.2])), "numpy arrays")):
        with pytest.raises(RuleError, match=rf"float_only_{kind}: its (forward|partials) rule cannot run on {where}.*"
                                            r"m\.tanh\(x\) \(not math\.tanh\(x\)\).*not `if x > 0:`"):
            run()


# --- 8. empty n-ary ops ---------------------------------------------------------------------------------
def test_an_empty_sum_or_dot_holds_the_float_zero():
    for node in (ops.SUM(), ops.DOT()):
        assert node.data == 0.0 and type(node.data) is float


def test_a_compiled_fit_names_an_op_whose_rule_uses_math():
    import nn

    float_only = defop("float_only_fit", forward=lambda m, x: math.tanh(x), partials=lambda m, out, x: (1 - out * out,))
    model = nn.MLP(2, [3, 1], activation=lambda z: float_only(z), seed=0)
    X, y = nn.datasets.demo_moons(labels="sign")
    with pytest.raises(RuleError, match=r"float_only_fit: its forward rule cannot run on numpy arrays.*m\.tanh\(x\)"):
        nn.fit(model, X, y, epochs=1, compile=True, batch_size=10, loss="mse",
               optimizer=nn.optim.SGD(model.parameters(), lr=0.1))
