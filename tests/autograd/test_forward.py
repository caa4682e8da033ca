"""Forward mode: jvp, jacfwd (beside jacrev/jacobian) and tape.jvp, from the op table's partials."""

import doctest
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import (
    Value,
    defop,
    dot,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    logsumexp,
    ops,
    softmax,
    trace,
)
from autograd import forward as FWD
from autograd import functional as F
from autograd.backends import FLOAT
from autograd.testing.strategies import expressions
from autograd.value import apply

# The engine's own ops (not ones another test may have registered).
BUILTIN_OPS = sorted(v.name for v in vars(ops).values() if isinstance(v, ops.Op))
directions = st.lists(st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False), min_size=3, max_size=3)


def reverse_directional(f, xs, v):
    """grad(f) . v by reverse mode."""
    g = grad(f, argnums=tuple(range(len(xs))))(*xs)
    return sum(gi * vi for gi, vi in zip(g, v))


def central_difference(f, xs, v, eps=1e-6):
    plus = f.evaluate(FLOAT, *[x + eps * d for x, d in zip(xs, v)])
    minus = f.evaluate(FLOAT, *[x - eps * d for x, d in zip(xs, v)])
    return (plus - minus) / (2 * eps)


# --- the API -----------------------------------------------------------------------------------------
def test_exported_from_the_package():
    for name in ("jvp", "jacfwd", "jacrev", "jacobian"):
        assert name in autograd.__all__
    assert autograd.jvp is FWD.jvp and autograd.jacfwd is FWD.jacfwd and autograd.jacrev is F.jacrev


def test_docstring_examples():
    assert doctest.testmod(FWD).failed == 0
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(autograd.Tape.jvp, "Tape.jvp", globs={}):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0


def test_jvp_of_several_scalars_one_sequence_and_several_outputs():
    assert jvp(lambda x, y: x * y + y, (3.0, 4.0), (1.0, 0.0)) == (16.0, 4.0)
    assert jvp(lambda x, y: x * y + y, (3.0, 4.0), (0.0, 1.0)) == (16.0, 4.0)
    assert jvp(lambda x, y: x * y + y, (3.0, 4.0), (2.0, -1.0)) == (16.0, 4.0)  # 2*4 - (3 + 1)
    value, tangent = jvp(lambda xs: [xs[0] * xs[1], xs[0].exp()], ([2.0, 3.0],), ([1.0, 1.0],))
    assert value == [6.0, math.exp(2.0)] and tangent == [5.0, math.exp(2.0)]
    # a sequence and a scalar argument mixed; an output that ignores the inputs has tangent 0
    value, tangent = jvp(lambda xs, s: (s * (xs[0] + xs[1]), 7.0), ([1.0, 2.0], 3.0), ([1.0, 0.0], 1.0))
    assert value == [9.0, 7.0] and tangent == [6.0, 0.0]
    assert type(jvp(lambda x: x * 3, (2,), (1,))[1]) is float  # ints are numbers too


def test_jvp_is_linear_in_the_tangent():
    f = lambda x, y: (x * y).sin() + x.exp() / y  # noqa: E731
    _, a = jvp(f, (0.3, -1.2), (1.0, 0.0))
    _, b = jvp(f, (0.3, -1.2), (0.0, 1.0))
    _, c = jvp(f, (0.3, -1.2), (2.0, -3.0))
    assert c == pytest.approx(2 * a - 3 * b, rel=1e-14)


def test_jacrev_is_jacobian_and_jacfwd_agrees():
    f = lambda x, y, z: [x * y, x + z, (y * z).tanh()]  # noqa: E731
    J = jacobian(f)(2.0, 3.0, 0.25)
    assert jacrev(f)(2.0, 3.0, 0.25) == J
    assert jacfwd(f)(2.0, 3.0, 0.25) == [pytest.approx(r, rel=1e-15) for r in J]
    assert jacfwd(f, argnums=(1, 2))(2.0, 3.0, 0.25) == [pytest.approx(r[1:], rel=1e-15) for r in J]
    assert jacfwd(lambda v: (v[0] * v[1], v[0] + v[2]))([2.0, 3.0, 4.0]) == [[3.0, 2.0, 0.0], [1.0, 0.0, 1.0]]
    assert jacfwd(lambda x: [x * x, 5.0])(3.0) == [[6.0], [0.0]]
    assert jacfwd.__name__ == "jacfwd" and jacfwd(f).__name__ == "jacfwd(<lambda>)"


def test_jacfwd_sweeps_once_per_input_and_jacrev_once_per_output(monkeypatch):
    forward_sweeps, reverse_sweeps = [], []
    real_sweep, real_gradients = FWD._sweep, F.gradients
    monkeypatch.setattr(FWD, "_sweep", lambda *a, **k: forward_sweeps.append(1) or real_sweep(*a, **k))
    monkeypatch.setattr(F, "gradients", lambda *a, **k: reverse_sweeps.append(1) or real_gradients(*a, **k))
    f = lambda xs: [autograd.sum(xs).tanh() * (i + 1) for i in range(7)]  # noqa: E731  R^3 -> R^7
    assert jacfwd(f)([0.1, 0.2, 0.3]) == [pytest.approx(r, rel=1e-14) for r in jacrev(f)([0.1, 0.2, 0.3])]
    assert (len(forward_sweeps), len(reverse_sweeps)) == (3, 7)


def test_jvp_of_softmax_outputs():
    xs, v = [0.2, -1.0, 0.5], [1.0, 0.5, -2.0]
    p, t = jvp(softmax, (xs,), (v,))
    pv = sum(pi * vi for pi, vi in zip(p, v))
    assert t == pytest.approx([pi * (vi - pv) for pi, vi in zip(p, v)], rel=1e-13)  # J v = p (v - p.v)


# --- every kind of op ------------------------------------------------------------------------------------
def test_n_ary_ops():
    xs, v = [0.3, -1.2, 2.0], [1.0, -2.0, 0.5]
    assert jvp(lambda a: autograd.sum(a), (xs,), (v,))[1] == pytest.approx(sum(v))
    # dot(w, x, b): w . x + b; every entry of w, x and b varies
    w, x = [0.5, -1.0], [2.0, 3.0]
    _, t = jvp(lambda w, x, b: dot(w, x, b), (w, x, 0.25), ([1.0, 0.0], [0.0, 2.0], 3.0))
    assert t == 1.0 * 2.0 + (-1.0) * 2.0 + 3.0
    s, t = jvp(lambda a: logsumexp(a), (xs,), (v,))  # d logsumexp = softmax . v
    e = [math.exp(x - s) for x in xs]
    assert t == pytest.approx(sum(p * d for p, d in zip(e, v)), rel=1e-14)
    s, t = jvp(lambda a: logsumexp(a), ([1000.0, 999.0],), ([1.0, 1.0],))  # the shift by the maximum
    assert t == pytest.approx(1.0, rel=1e-14) and s == pytest.approx(1000.0 + math.log1p(math.exp(-1.0)))


@pytest.mark.parametrize("x0", [-1.5, 0.7])
def test_parametrised_ops(x0):
    assert jvp(lambda x: x**3, (x0,), (2.0,))[1] == pytest.approx(2 * 3 * x0**2, rel=1e-14)
    assert jvp(lambda x: x**-2, (x0,), (1.0,))[1] == pytest.approx(-2 * x0**-3, rel=1e-14)
    slope = 1.0 if x0 > 0 else 0.1
    assert jvp(lambda x: x.leaky_relu(0.1), (x0,), (3.0,))[1] == pytest.approx(3 * slope, rel=1e-15)
    slope = 1.0 if x0 > 0 else 1.7 * math.exp(x0)
    assert jvp(lambda x: x.elu(1.7), (x0,), (1.0,))[1] == pytest.approx(slope, rel=1e-14)
    # the same function, other parameters: each bound op reads its own parameter
    assert jvp(lambda x: x.leaky_relu(0.2) + x.leaky_relu(0.3), (-1.0,), (1.0,))[1] == pytest.approx(0.5)


def user_ops():
    """User ops declared with defop, as a user would (the suite's conftest takes them out of the table again)."""
    softsign = defop("softsign_forward_mode", symbol="softsign", forward=lambda m, x: x / (1 + m.abs(x)),
                     partials=lambda m, out, x: (1 / (1 + m.abs(x)) ** 2,))
    scaled = defop("scaled_tanh_forward_mode", params=("scale",), forward=lambda m, x, scale: scale * m.tanh(x),
                   partials=lambda m, out, x, scale: (scale * (1.0 - m.tanh(x) ** 2),))
    mean = defop("mean_forward_mode", arity=None, forward=lambda m, *xs: m.sum(xs) / len(xs),
                 partials=lambda m, out, *xs: (1.0 / len(xs),) * len(xs))
    return softsign, scaled, mean


@pytest.mark.parametrize("x0", [-2.0, 0.5])
def test_user_ops_from_defop_get_forward_mode_from_their_partials(x0):
    SOFTSIGN, SCALED, MEAN = user_ops()
    f = lambda x: SOFTSIGN(x * x)  # noqa: E731
    assert jvp(f, (x0,), (1.0,))[1] == pytest.approx(2 * x0 / (1 + x0 * x0) ** 2, rel=1e-14)
    # composed with grad: the rule is evaluated on Values, so the second derivative is there too
    assert jvp(grad(f), (x0,), (1.0,))[1] == pytest.approx(grad(grad(f))(x0), rel=1e-13)
    assert trace(f, x0).jvp(x0, [1.0]) == pytest.approx(jvp(f, (x0,), (1.0,)), rel=1e-15)
    g = lambda x, y: SCALED(x, scale=0.5) * MEAN(x, y, 2.0)  # noqa: E731  parametrised and n-ary
    _, t = jvp(g, (x0, 0.3), (1.0, 2.0))
    mean, th = (x0 + 0.3 + 2.0) / 3, math.tanh(x0)
    assert t == pytest.approx(0.5 * (1 - th * th) * mean + 0.5 * th * (1.0 + 2.0) / 3, rel=1e-14)
    assert jacfwd(lambda x, y: [g(x, y)])(x0, 0.3) == [pytest.approx(r, rel=1e-14)
                                                        for r in jacrev(lambda x, y: [g(x, y)])(x0, 0.3)]


# --- random graphs ---------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8, ops=BUILTIN_OPS), directions)
def test_jvp_equals_reverse_mode_and_finite_differences(case, v):
    f, xs = case
    value, tangent = jvp(f, tuple(xs), tuple(v))
    assert value == f.evaluate(FLOAT, *xs)
    assert tangent == pytest.approx(reverse_directional(f, xs, v), rel=1e-11, abs=1e-11)
    assert tangent == pytest.approx(central_difference(f, xs, v), rel=1e-3, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8, ops=BUILTIN_OPS), directions)
def test_forward_over_reverse_is_the_hessian_times_v(case, v):
    f, xs = case
    argnums = (0, 1, 2)
    _, Hv = jvp(grad(f, argnums=argnums), tuple(xs), tuple(v))
    H = hessian(f)(*xs)
    expected = [sum(H[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert Hv == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert Hv == pytest.approx(hvp(lambda a: f(*a))(xs, v), rel=1e-9, abs=1e-9)
    # and against differences of the reverse-mode gradient along v
    g = grad(f, argnums=argnums)
    eps = 1e-6
    plus, minus = g(*[x + eps * d for x, d in zip(xs, v)]), g(*[x - eps * d for x, d in zip(xs, v)])
    assert Hv == pytest.approx([(a - b) / (2 * eps) for a, b in zip(plus, minus)], rel=1e-3, abs=1e-4)


@st.composite
def vector_functions(draw):
    """(f, xs): a random f: R^n -> R^m whose outputs are m nodes of one random graph (n, m in 1..4)."""
    n = draw(st.integers(1, 4))
    expr, xs = draw(expressions(n_inputs=n, max_nodes=8, ops=BUILTIN_OPS))
    picks = draw(st.lists(st.integers(0, n + len(expr.steps) - 1), min_size=1, max_size=4))

    def f(*inputs):
        nodes = list(inputs)
        for op, idx in expr.steps:
            nodes.append(apply(op, [nodes[i] for i in idx]))
        return [nodes[k] for k in picks]

    return f, xs


@settings(max_examples=60, deadline=None)
@given(vector_functions())
def test_jacfwd_equals_jacobian(case):
    f, xs = case
    fwd, rev = jacfwd(f)(*xs), jacobian(f)(*xs)
    assert len(fwd) == len(rev) and all(len(r) == len(xs) for r in fwd)
    for a, b in zip(fwd, rev):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8, ops=BUILTIN_OPS), directions)
def test_tape_jvp_equals_eager_jvp(case, v):
    f, xs = case
    tape = trace(f, *xs)
    value, tangent = tape.jvp(*xs, v)
    eager_value, eager_tangent = jvp(f, tuple(xs), tuple(v))
    assert value == eager_value and tangent == pytest.approx(eager_tangent, rel=1e-15, abs=1e-300)
    moved = [x + 1e-3 * d for x, d in zip(xs, v)]  # a replay at other inputs, tangents by keyword
    value, tangent = tape.jvp(*moved, tangents=v)
    assert (value, tangent) == pytest.approx(jvp(f, tuple(moved), tuple(v)), rel=1e-15, abs=1e-300)


def test_tape_jvp_numpy_mode_and_its_source():
    f = lambda a, b: [(a * b).tanh() + b**3, autograd.logsumexp([a, b, 1.0])]  # noqa: E731
    eager = jvp(f, (0.5, -1.0), (1.0, 2.0))
    for mode in ("python", "numpy"):
        outs, ts = trace(f, 0.5, -1.0, mode=mode).jvp(0.5, -1.0, [1.0, 2.0])
        assert list(outs) == eager[0] and list(ts) == pytest.approx(eager[1], rel=1e-15)
    src = trace(lambda a, b: (a * b).tanh(), 0.5, -1.0).jvp_source
    assert "dt0 = dx0 * x1 + dx1 * x0" in src and "dt1 = dt0 * (1.0 - t1 * t1)" in src  # tanh' from the table


def test_tape_jvp_long_n_ary_nodes_and_folded_constants():
    n = 40  # more terms than the generated code writes out as a chain of +

    def f(*xs):
        c = (Value(2.0) * 3.0).exp()  # built from constants only: folded into a number in the code
        return autograd.sum(list(xs)) * c + dot(list(xs[:20]), list(xs[20:]), 0.5) + logsumexp(list(xs))

    xs, v = [0.01 * i for i in range(n)], [1.0 - 0.05 * i for i in range(n)]
    tape = trace(f, *xs)
    assert "sum((" in tape.jvp_source
    assert tape.jvp(*xs, v) == pytest.approx(jvp(f, tuple(xs), tuple(v)), rel=1e-15)


def test_tape_jvp_shapes_and_parameters():
    w = Value(3.0)  # a captured parameter: held fixed, read live
    tape = trace(lambda a, b: [(w * a).tanh(), a * b], 0.5, 2.0)
    outs, ts = tape.jvp(0.5, 2.0, [1.0, 1.0])
    t = math.tanh(1.5)
    assert outs == (t, 1.0) and ts == (pytest.approx(3 * (1 - t * t)), 2.5)
    w.data = 1.0
    assert tape.jvp(0.5, 2.0, [1.0, 0.0])[1][0] == pytest.approx(1 - math.tanh(0.5) ** 2)
    aux = trace(lambda a: (a * a, [a + 1.0]), 3.0, has_aux=True)
    assert aux.jvp(3.0, [1.0]) == ((9.0, (4.0,)), (6.0, (1.0,)))


# --- composition, Values, nesting ----------------------------------------------------------------------
def test_values_as_primals_give_values_connected_to_the_caller():
    x = Value(1.5)
    out, t = jvp(lambda a: a**3, (x,), (1.0,))
    assert isinstance(t, Value) and t.data == pytest.approx(3 * 1.5**2)
    t.backward()
    assert x.grad == pytest.approx(6 * 1.5)  # d/dx of the tangent: it is a graph through x
    v = Value(2.0)  # a Value tangent: the output tangent depends on it
    _, t = jvp(lambda a: a.sin(), (0.5,), (v,))
    t.backward()
    assert v.grad == pytest.approx(math.cos(0.5))


def test_reverse_over_forward_and_forward_over_forward():
    assert grad(lambda x: jvp(lambda t: t**4, (x,), (1.0,))[1])(1.0) == 12.0
    assert jvp(lambda x: jvp(lambda t: t**4, (x,), (1.0,))[1], (1.0,), (1.0,)) == (4.0, 12.0)
    assert jvp(lambda x: grad(lambda y: y**4)(x), (1.0,), (1.0,)) == (4.0, 12.0)


def test_no_perturbation_confusion():
    # Siskind & Pearlmutter: d/dx [x * d/dy (x + y)] = 1, not 2.
    assert jvp(lambda x: x * jvp(lambda y: x + y, (1.0,), (1.0,))[1], (1.0,), (1.0,)) == (1.0, 1.0)
    assert jvp(lambda x: jvp(lambda y: x * y * y, (2.0,), (1.0,))[1], (3.0,), (1.0,)) == (12.0, 4.0)


def test_touches_no_grad_attribute():
    w = Value(2.0)
    w.grad = 5.0
    assert jvp(lambda x: (w * x).tanh(), (0.3,), (1.0,))[1] == pytest.approx(2 * (1 - math.tanh(0.6) ** 2))
    assert w.grad == 5.0


def test_works_inside_no_grad():
    with autograd.no_grad():
        assert jvp(lambda x: x.sin() * x, (0.5,), (1.0,))[1] == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5))
        assert jacfwd(lambda x: [x * x])(3.0) == [[6.0]]


def test_tangents_is_the_transpose_of_gradients_for_interior_inputs_too():
    a = Value(0.7)
    b = a * a  # an interior node as an input: its tangent adds to what flows into it from a
    y = (a * b).sin() + b
    for ta, tb in [(1.0, 0.0), (0.0, 1.0), (0.3, -2.0)]:
        (t,) = FWD.tangents([y], [a, b], [ta, tb])
        ga, gb = F.gradients(y, [a, b])
        assert t == pytest.approx(ga * ta + gb * tb, rel=1e-14)
    assert FWD.tangents([y, 2.0], [Value(1.0)], [1.0]) == [0.0, 0.0]  # unrelated input, constant output


def test_nan_in_nan_out():
    value, tangent = jvp(lambda x: x * 2.0, (math.nan,), (1.0,))
    assert math.isnan(value) and tangent == 2.0
    assert math.isnan(jvp(lambda x: x.tanh(), (0.5,), (math.nan,))[1])
    assert math.isnan(jvp(lambda x: x.relu(), (-1.0,), (math.nan,))[1])  # as reverse: nan * 0 is nan


def test_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):  # far past the recursion limit
        y = y * 1.0 + 0.0
    assert jvp(lambda a: a * 1.0 + y * 0.0, (0.5,), (2.0,))[1] == 2.0
    out, t = jvp(lambda a: _chain(a, 5000), (0.5,), (2.0,))
    assert (out, t) == (0.5, 2.0)


def _chain(a, n):
    for _ in range(n):
        a = a * 1.0
    return a


# --- errors ----------------------------------------------------------------------------------------------
def test_bad_arguments_name_jvp_the_argument_and_the_value():
    cases = [
        (lambda: jvp(lambda x: x, 1.0, (1.0,)), TypeError, r"jvp: primals must be a tuple.*got float 1\.0"),
        (lambda: jvp(lambda x: x, (1.0,), 1.0), TypeError, r"jvp: tangents must be a tuple.*got float 1\.0"),
        (lambda: jvp(lambda x: x, (1.0,), (1.0, 2.0)), ValueError, r"jvp: tangents must match primals.*2 tangent"),
        (lambda: jvp(lambda v: v[0], ([1.0, 2.0],), ([1.0],)), ValueError,
         r"jvp: tangents\[0\] must be a sequence of 2 scalars.*\[1\.0\]"),
        (lambda: jvp(lambda x: x, (1.0,), ("a",)), TypeError, r"jvp: tangents\[0\] must be a number.*str 'a'"),
        (lambda: jvp(lambda x: x, (1.0,), (True,)), TypeError, r"jvp: tangents\[0\] must be a number.*bool True"),
        (lambda: jvp(lambda x: x, ("a",), (1.0,)), TypeError, r"jvp: argument x0 must be a number.*str 'a'"),
        (lambda: jvp(lambda x: {"y": x}, (1.0,), (1.0,)), TypeError, r"jvp: f must return a scalar.*dict"),
        (lambda: jvp(lambda x: [x, "y"], (1.0,), (1.0,)), TypeError, r"jvp: output 1:.*str 'y'"),
        (lambda: jvp(3.0, (1.0,), (1.0,)), TypeError, r"jvp: f must be callable, got float 3\.0"),
        (lambda: jacfwd(lambda x: x * 2)(1.0), TypeError, r"jacfwd: f must return a sequence.*use grad"),
        (lambda: jacfwd(lambda x: [x], argnums="0"), TypeError, r"jacfwd: argnums must be an int.*'0'"),
        (lambda: jacfwd(lambda x: [x], argnums=3)(1.0), ValueError, r"jacfwd: argnums=3 is out of range"),
        (lambda: jacrev(lambda x: x)(1.0), TypeError, r"jacrev: f must return a sequence"),
        (lambda: jvp(lambda x: x.sqrt(), (0.0,), (1.0,)), ZeroDivisionError,
         r"jvp: the derivative of sqrt\(0\.0\) is undefined here"),
        (lambda: jacfwd(lambda x: [x.sqrt()])(0.0), ZeroDivisionError,
         r"jacfwd: the derivative of sqrt\(0\.0\) is undefined"),
        (lambda: jvp(lambda x: x.sqrt(), (Value(0.0),), (1.0,)), ZeroDivisionError,
         r"jvp: the derivative of sqrt\(0\.0\) is undefined here"),  # nested: the rule runs on Values
    ]
    for call, kind, pattern in cases:
        with pytest.raises(kind, match=pattern) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and len(message) < 300, message


def test_errors_stay_bounded_for_huge_arguments():
    big = [0.5] * 100_000
    for call in (lambda: jvp(lambda v: v[0], big, (1.0,)), lambda: jvp(lambda v: v[0], (big,), (big[:-1],)),
                 lambda: jvp(lambda v: v[0], (big,), ([0.5] * 99_999 + ["x"],))):
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_tape_jvp_errors():
    tape = trace(lambda a, b: a * b, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"tape.jvp of <lambda>: expected 2 input\(s\) \(a, b\) and then"):
        tape.jvp(1.0, 2.0)
    with pytest.raises(TypeError, match=r"tangents must be a sequence of 2 number\(s\).*got float 1\.0"):
        tape.jvp(1.0, 2.0, 1.0)
    with pytest.raises(TypeError, match=r"the tangent of input 'b' must be a real number, got str 'x'"):
        tape.jvp(1.0, 2.0, [1.0, "x"])
    with pytest.raises(TypeError, match=r"input 'a' must be a real number"):
        tape.jvp("1", 2.0, [1.0, 1.0])
    sq = trace(lambda a: a.sqrt(), 1.0)
    with pytest.raises(ZeroDivisionError, match=r"^tape node t0: the derivative of sqrt\(0\.0\) is undefined here$"):
        sq.jvp(0.0, [1.0])
    with pytest.raises(ValueError, match=r"tape node t0: log\(-1\.0\)"):
        trace(lambda a: a.log(), 1.0).jvp(-1.0, [1.0])
