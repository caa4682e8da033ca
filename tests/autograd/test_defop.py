"""defop, the public way to add a primitive: a user's op works everywhere a built-in one does,
and mistakes in declaring one are named."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, apply, defop, draw_dot, grad, ops, trace
from autograd.testing import GradcheckError, gradcheck, gradgradcheck


# A user's op, written on the backend m exactly like the table's own (declared afresh for every test:
# tests/conftest.py takes every op a test declares out of the table again when the test ends).
@pytest.fixture(autouse=True)
def user_ops():
    global SOFTSIGN, SCALED, MEAN
    SOFTSIGN = defop("softsign_acceptance", symbol="softsign",
                     forward=lambda m, x: x / (1 + m.abs(x)),
                     partials=lambda m, out, x: (1 / (1 + m.abs(x)) ** 2,))
    SCALED = defop("scaled_tanh_acceptance", symbol="s·tanh", params=("scale",),
                   forward=lambda m, x, scale: scale * m.tanh(x),
                   partials=lambda m, out, x, scale: (scale * (1.0 - m.tanh(x) ** 2),))
    MEAN = defop("mean_acceptance", symbol="mean", arity=None,
                 forward=lambda m, *xs: m.sum(xs) / len(xs),
                 partials=lambda m, out, *xs: (1.0 / len(xs),) * len(xs))


def f(a, b):
    return SOFTSIGN(a * b) + SCALED(a, scale=0.5) * MEAN(a, b, 2.0)


# --- it is an op like any other --------------------------------------------------------------------
def test_calling_the_op_makes_a_node_from_values_or_numbers():
    y = SOFTSIGN(Value(1.0))
    assert (y.data, y.op, y.op_label, y.fn) == (0.5, "softsign_acceptance", "softsign", SOFTSIGN)
    assert SOFTSIGN(3.0).data == 0.75 and SOFTSIGN(3.0).parents[0].is_leaf
    assert apply(SOFTSIGN, [Value(-1.0)]).data == -0.5
    assert ops.get("softsign_acceptance") is SOFTSIGN and ops.OPS["softsign_acceptance"] is SOFTSIGN
    assert SCALED(Value(0.3), scale=2.0).op_label == "s·tanh(scale=2)"
    assert MEAN(1.0, 2.0, Value(6.0)).data == 3.0


def test_backward_matches_the_derivative_by_hand():
    x = Value(0.5)
    SOFTSIGN(x).backward()
    assert x.grad == pytest.approx(1 / 1.5 ** 2, rel=1e-15)


def test_passes_gradcheck_and_gradgradcheck():
    assert gradcheck(f, [0.7, -1.3]) and gradgradcheck(f, [0.7, -1.3])
    assert gradcheck(f, [-0.2, 0.4]) and gradgradcheck(f, [-0.2, 0.4])


def test_a_wrong_derivative_fails_gradcheck_and_is_named():
    wrong = defop("softsign_wrong_acceptance", forward=lambda m, x: x / (1 + m.abs(x)),
                  partials=lambda m, out, x: (1 / (1 + m.abs(x)),))
    with pytest.raises(GradcheckError, match="softsign_wrong_acceptance"):
        gradcheck(lambda x: wrong(x), [0.7])


@settings(max_examples=40, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5))
def test_agrees_with_finite_differences(a, b):
    eps = 1e-6
    g = grad(f, argnums=(0, 1))(a, b)
    da = (f(Value(a + eps), Value(b)).data - f(Value(a - eps), Value(b)).data) / (2 * eps)
    db = (f(Value(a), Value(b + eps)).data - f(Value(a), Value(b - eps)).data) / (2 * eps)
    assert g == pytest.approx((da, db), rel=1e-4, abs=1e-6)


def test_second_derivative_through_create_graph():
    # softsign'' = -2 sign(x) / (1 + |x|)^3
    for x0 in (0.5, -2.0):
        assert grad(grad(lambda x: SOFTSIGN(x)))(x0) == pytest.approx(-2 * math.copysign(1, x0) / (1 + abs(x0)) ** 3)


def test_replays_through_a_tape_and_a_batch_equal_to_eager():
    np = pytest.importorskip("numpy")
    tape = trace(f, 0.7, -1.3)
    assert "/ (1.0 + abs(" in tape.source  # the rule itself, generated from the table
    for a, b in [(0.7, -1.3), (2.0, 0.25), (-0.5, -0.5)]:
        xa, xb = Value(a), Value(b)
        y = f(xa, xb)
        y.backward()
        value, grads = tape.value_and_grad(a, b)
        assert value == pytest.approx(y.data, rel=1e-14)
        assert grads == pytest.approx((xa.grad, xb.grad), rel=1e-13)
    cols = np.array([0.7, 2.0, -0.5]), np.array([-1.3, 0.25, -0.5])
    assert tape.batch(*cols) == pytest.approx([f(Value(a), Value(b)).data for a, b in zip(*cols)], rel=1e-14)
    numpy_tape = trace(f, 0.7, -1.3, mode="numpy")
    assert numpy_tape.value_and_grad(2.0, 0.25)[0] == pytest.approx(f(Value(2.0), Value(0.25)).data, rel=1e-14)


def test_draws_with_its_symbol():
    x = Value(0.5, label="x")
    y = SOFTSIGN(x)
    source = draw_dot(y).source
    assert 'label="softsign"' in source or "softsign" in source.replace("softsign_acceptance", "")
    assert y._op == "softsign"


# --- replacing an op is explicit, and changes the Value method too -----------------------------------
def test_taking_an_existing_name_is_refused():
    with pytest.raises(ValueError, match=r"defop: an op named 'tanh' exists already.*replace=True"):
        defop("tanh", forward=lambda m, x: m.tanh(x), partials=lambda m, out, x: (1.0 - out * out,))
    assert ops.get("tanh") is ops.TANH


def test_replace_changes_what_the_value_method_computes():
    original = ops.get("tanh")
    try:
        # a deliberately different rule, to see it used: tanh(x) computed as 2 sigmoid(2x) - 1
        new = defop("tanh", replace=True, forward=lambda m, x: 2.0 * m.sigmoid(2.0 * x) - 1.0,
                    partials=lambda m, out, x: (1.0 - out * out,))
        x = Value(0.3)
        y = x.tanh()
        assert y.fn is new and y.data == pytest.approx(math.tanh(0.3), rel=1e-14)
        assert y.data != original.forward(ops.FLOAT, 0.3) or new is not original
        y.backward()
        assert x.grad == pytest.approx(1 - math.tanh(0.3) ** 2, rel=1e-14)
    finally:
        ops.register(original)  # the very object back: other modules hold ops.TANH
    assert Value(0.3).tanh().data == math.tanh(0.3) and ops.get("tanh") is ops.TANH


# --- mistakes in the rules are named ------------------------------------------------------------------
@pytest.mark.parametrize("partials, returned", [
    (lambda m, out, x: 1.0 - out * out, "float"),              # forgot the tuple
    (lambda m, out, x: (1.0, 2.0), r"2 value\(s\)"),           # one per input
    (lambda m, out, x: ("slope",), "str 'slope'"),             # not a number
    (lambda m, out, x: [1.0 - out * out], "list"),             # a list is not a tuple
])
def test_malformed_partials_raise_type_error_naming_the_op_and_what_it_returned(partials, returned):
    bad = defop("bad_partials_acceptance", replace=True, forward=lambda m, x: m.tanh(x), partials=partials)
    x = Value(0.5)
    with pytest.raises(TypeError, match=rf"bad_partials_acceptance: partials must return a tuple of 1 .*{returned}"):
        bad(x).backward()
    assert x.grad == 0.0  # nothing half-updated


def test_malformed_partials_of_an_n_ary_op_are_caught_on_later_calls_too():
    short = defop("short_partials_acceptance", arity=None, forward=lambda m, *xs: m.sum(xs),
                  partials=lambda m, out, *xs: (1.0,) * min(len(xs), 2))
    short(1.0, 2.0).backward()  # right for two inputs: the first call's check passes
    xs = [Value(1.0), Value(2.0), Value(3.0)]
    with pytest.raises(TypeError, match=r"short_partials_acceptance: partials must return a tuple of 3"):
        short(*xs).backward()
    assert [x.grad for x in xs] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("path", ["create_graph", "tape", "tape.jvp", "batch", "hessian"])
def test_malformed_partials_are_refused_on_every_path_not_only_on_floats(path):
    # one derivative for two inputs: zip would quietly drop the second and give it a 0 gradient
    short = defop("short_everywhere_acceptance", arity=2, forward=lambda m, x, y: x * y,
                  partials=lambda m, out, x, y: (y,))
    plain = defop("plain_everywhere_acceptance", forward=lambda m, x: x, partials=lambda m, out, x: 1.0)
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match=r"partials must return a tuple of \d .*it returned (1 value|float)"):
        if path == "create_graph":
            short(a, b).backward(create_graph=True)
        elif path == "tape":
            trace(lambda x, y: short(x, y), 2.0, 3.0).value_and_grad(2.0, 3.0)
        elif path == "tape.jvp":
            trace(lambda x, y: short(x, y), 2.0, 3.0).jvp(2.0, 3.0, tangents=(1.0, 1.0))
        elif path == "batch":
            trace(lambda x, y: short(x, y), 2.0, 3.0).batch_value_and_grad([2.0, 1.0], [3.0, 4.0])
        else:
            grad(grad(lambda x: plain(x * x)))(1.0)
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_a_parametrised_op_called_without_its_parameter_says_which_one():
    scale = defop("scale_needs_k_acceptance", params=("k",), forward=lambda m, x, k: k * x,
                  partials=lambda m, out, x, k: (k,))
    with pytest.raises(TypeError, match=r"^scale_needs_k_acceptance: needs its parameter\(s\) k, e\.g\. "):
        scale(Value(2.0))
    assert scale(Value(2.0), k=3.0).data == 6.0


@pytest.mark.parametrize("op, inputs, message", [
    ("exp", [Value(1.0)], r"apply: op must be an op of the table .* got 'exp'"),
    (ops.get("exp"), Value(1.0), r"apply: inputs must be a sequence of Values or numbers, .* got Value"),
    (ops.get("exp"), 1.0, r"apply: inputs must be a sequence .* got 1\.0"),
])
def test_apply_misused_names_apply_and_the_argument(op, inputs, message):
    with pytest.raises(TypeError, match=message):
        apply(op, inputs)
    assert apply(ops.get("exp"), [0.0]).data == 1.0


def test_a_tapes_wrong_input_count_error_is_one_bounded_line():
    tape = trace(lambda *xs: autograd.sum(xs), *[1.0] * 3000)
    for call in (lambda: tape(*[1.0] * 2999), lambda: tape.jvp(*[1.0] * 2999),
                 lambda: tape.jvp(*[1.0] * 3000, tangents=[1.0] * 3001)):
        with pytest.raises(TypeError, match=r"3000 .*\(x0, x1, .*\(2992 more\)\)") as info:
            call()
        assert len(str(info.value)) < 300 and "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    (dict(forward=lambda m: 1.0, partials=lambda m, out, x: (1.0,)), r"forward must take \(m, x\)"),
    (dict(forward=lambda m, x: x, partials=lambda m, x: (1.0,)), r"partials must take \(m, out, x\)"),
    (dict(forward=lambda m, x: x, partials=lambda m, out, x: (1.0,), arity=2), r"forward must take \(m, x0, x1\)"),
    (dict(forward=lambda m, x: x, partials=lambda m, out, x: (1.0,), params=("alpha",)),
     r"forward must take \(m, x, alpha\)"),
    (dict(forward="x", partials=lambda m, out, x: (1.0,)), "forward must be a function"),
])
def test_declaration_mistakes_are_named_at_once(kwargs, message):
    with pytest.raises(TypeError, match=rf"defop declared_acceptance: {message}"):
        defop("declared_acceptance", **kwargs)
    assert "declared_acceptance" not in ops.OPS


@pytest.mark.parametrize("name, arity, error", [("two words", 1, ValueError), ("ok_name", 0, ValueError),
                                                ("ok_name", 1.5, ValueError)])
def test_bad_names_and_arities(name, arity, error):
    with pytest.raises(error, match="defop"):
        defop(name, arity=arity, forward=lambda m, x: x, partials=lambda m, out, x: (1.0,))


def test_wrong_input_count_and_unknown_parameter_name_the_op():
    with pytest.raises(TypeError, match=r"softsign_acceptance: takes 1 input\(s\), got 2"):
        SOFTSIGN(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match=r"scaled_tanh_acceptance: unknown parameter\(s\) \['beta'\]"):
        SCALED(Value(1.0), beta=2.0)
    with pytest.raises(TypeError, match=r"s·tanh: scale: expected a real number, got str"):
        SCALED(Value(1.0), scale="big")


def test_a_rule_using_math_instead_of_m_fails_on_values_with_a_pointer():
    mathy = defop("mathy_acceptance", forward=lambda m, x: m.tanh(x),
                  partials=lambda m, out, x: (1 - math.tanh(x) ** 2,))
    assert grad(lambda x: mathy(x))(0.5) == pytest.approx(1 - math.tanh(0.5) ** 2)  # fine on floats
    with pytest.raises(TypeError, match=r"mathy_acceptance: .*no second derivative.*x\.tanh\(\) instead of math\.tanh"):
        grad(grad(lambda x: mathy(x)))(0.5)


def test_a_tests_ops_leave_the_table_with_it():
    assert "softsign_acceptance" in ops.OPS  # this test's; gone again after it (tests/conftest.py)
    assert not any(name.endswith("_wrong_acceptance") for name in ops.OPS)


def test_builtins_are_declared_with_defop():
    source = (autograd.ops.__file__ and open(autograd.ops.__file__, encoding="utf-8").read())
    assert "TANH = defop(\"tanh\"" in source and "_op(" not in source
    assert all(isinstance(op, ops.Op) for op in ops.OPS.values())
