"""autograd.testing: gradcheck, gradgradcheck and the Hypothesis strategies, as a user would run them."""

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings

from autograd import Value, ops
from autograd.testing import GradcheckError, gradcheck, gradgradcheck
from autograd.testing.strategies import MARGIN, Expression, expressions, values
from autograd.value import apply


class TinyModule:
    """Duck-typed like an nn module: parameters() and a call producing a scalar Value."""

    def __init__(self, op=None):
        self.w = [Value(0.7, label="w0"), Value(-1.3, label="w1")]
        self.b = Value(0.2, label="b")
        self.op = op

    def parameters(self):
        return [*self.w, self.b]

    def __call__(self, x):
        z = self.w[0] * x[0] + self.w[1] * x[1] + self.b
        if self.op is not None:
            z = apply(self.op, [z])
        return z.tanh() * z


@pytest.fixture
def broken_square():
    # d(x^2)/dx written as 3x instead of 2x: a deliberately wrong table entry
    op = ops.register(ops.Op("test_broken_square", lambda m, x: x * x, lambda m, out, x: (3.0 * x,), "sq"))
    yield op
    ops.OPS.pop("test_broken_square")


@pytest.fixture
def float_only_sin():
    # Right on floats, but reading .data turns a Value into a plain number: the second derivative is lost.
    # (math.cos(x) on a Value would raise a TypeError pointing at x.cos() instead.)
    op = ops.register(ops.Op("test_float_only_sin", lambda m, x: m.sin(x),
                             lambda m, out, x: (math.cos(getattr(x, "data", x)),), "fsin"))
    yield op
    ops.OPS.pop("test_float_only_sin")


# --- gradcheck -------------------------------------------------------------------------------------
def test_passes_on_correct_functions():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, -1.2]) is True
    assert gradgradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, -1.2]) is True
    assert gradcheck(lambda x: x.log(), 2.0)  # a single number is one input
    assert gradcheck(lambda xs: xs[0] * xs[1].sin(), [[0.5, 0.25]])  # f taking one sequence
    assert gradcheck(lambda x, y: [x * y, x - y, (x / y).sqrt()], [2.0, 3.0])  # every Jacobian entry
    assert gradgradcheck(lambda x, y: [x * y * y, (x - y).sigmoid()], [2.0, 3.0])


def test_catches_a_wrong_derivative_and_names_the_op(broken_square):
    f = lambda x, y: apply(broken_square, [x * y]).sin() + y  # noqa: E731
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [0.5, 1.5])
    message = str(info.value)
    assert "2 of 2 derivatives differ" in message
    assert "analytic" in message and "numeric" in message and "MISMATCH" in message
    assert "d y0 / d x0" in message and "d y0 / d x1" in message
    assert "test_broken_square(0.75): d/d input 0: rule gives 2.25, central differences 1.5" in message
    # the table holds the numbers: analytic uses 3xy*y*cos, numeric the true 2xy*y*cos
    c = math.cos(0.75**2)
    assert f"{3 * 0.75 * 1.5 * c:.8g}" in message and f"{2 * 0.75 * 1.5 * c:.6g}" in message


def test_gradgradcheck_catches_a_lost_second_derivative(float_only_sin):
    f = lambda x: apply(float_only_sin, [x]) * x  # noqa: E731
    assert gradcheck(f, [0.5])  # first derivatives are right
    with pytest.raises(GradcheckError, match=r"(?s)second derivatives differ.*"
                                             r"test_float_only_sin\(0\.5\): d2/d input 0 d input 0"):
        gradgradcheck(f, [0.5])


def test_module_parameters_are_checked_and_restored():
    m = TinyModule()
    before = [(p.data, p.grad) for p in m.parameters()]
    assert gradcheck(m, [[0.4, -0.9]]) and gradgradcheck(m, [[0.4, -0.9]])
    assert [(p.data, p.grad) for p in m.parameters()] == before  # exactly: no drift, no grads written


def test_module_with_a_wrong_derivative_fails_naming_the_op_and_parameters(broken_square):
    m = TinyModule(op=broken_square)
    before = [p.data for p in m.parameters()]
    with pytest.raises(GradcheckError) as info:
        gradcheck(m, [[0.4, -0.9]])
    message = str(info.value)
    assert "test_broken_square" in message
    assert all(f"/ d {name}" in message for name in ("w0", "w1", "b"))
    assert [p.data for p in m.parameters()] == before


def test_explicit_params_for_a_loss_closure():
    m = TinyModule()
    loss = lambda: (m([1.0, 2.0]) - 0.5) ** 2  # noqa: E731
    assert gradcheck(loss, params=m.parameters())
    assert gradgradcheck(loss, params=m.parameters())


def test_failure_at_the_edge_of_the_domain_is_explained():
    with pytest.raises(GradcheckError, match=r"f failed at x0 - eps.*log.*edge of the domain"):
        gradcheck(lambda x: x.log(), [5e-7])


def test_argument_errors():
    with pytest.raises(ValueError, match="eps must be a positive number"):
        gradcheck(lambda x: x, [1.0], eps=0.0)
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="input 0 must be a number"):
        gradcheck(lambda x: x, ["a"])
    with pytest.raises(TypeError, match="must return a Value or a sequence of Values"):
        gradcheck(lambda x: {"y": x}, [1.0])


def test_tolerances_are_honoured():
    f = lambda x: x * x  # noqa: E731
    assert gradcheck(f, [3.0], eps=1e-3)  # central differences are exact for a quadratic
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x**4, [1.0], eps=0.1, atol=0.0, rtol=1e-6)  # O(eps^2) error now visible


# --- strategies ------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(values(-1.5, 2.5, label="x"))
def test_values_are_leaves_in_range(x):
    assert isinstance(x, Value) and x.is_leaf and x.label == "x" and -1.5 <= x.data <= 2.5


@settings(max_examples=40, deadline=None)
@given(expressions(n_inputs=3, max_nodes=6))
def test_expressions_are_valid_graphs_that_reuse_nodes(case):
    f, inputs = case
    assert isinstance(f, Expression) and len(inputs) == 3
    assert all(isinstance(x, float) and -2.0 <= x <= 2.0 for x in inputs)
    assert 0 <= len(f.steps) <= 6 and set(f.ops) <= set(ops.OPS)
    xs = [Value(x) for x in inputs]
    y = f(*xs)
    assert isinstance(y, Value) and math.isfinite(y.data)
    assert y.data == f.evaluate(_float_backend(), *inputs)
    for op, idx in f.steps:
        assert all(0 <= i < 3 + f.steps.index((op, idx)) for i in idx)  # only earlier nodes


def _float_backend():
    from autograd.backends import FLOAT

    return FLOAT


@settings(max_examples=40, deadline=None)
@given(expressions(n_inputs=2, max_nodes=5, ops=["log", "sqrt", "div", "relu", "maximum", "pow_const"]))
def test_expressions_keep_ops_inside_their_domains(case):
    f, inputs = case
    assert set(f.ops) <= {"log", "sqrt", "div", "relu", "maximum", "pow_const"}
    data = list(inputs)
    for op, idx in f.steps:
        args = [data[i] for i in idx]
        if op.name in ("log", "sqrt"):
            assert args[0] >= MARGIN
        if op.name == "div":
            assert abs(args[1]) >= 1e-3  # |d/da a/b| = 1/|b| <= 1e3
        out = op.forward(_float_backend(), *args)
        assert abs(out) <= 1e4 and all(abs(d) <= 1e3 for d in op.partials(_float_backend(), out, *args))
        if op.name == "relu":
            assert abs(args[0]) >= MARGIN
        if op.name == "maximum":
            assert abs(args[0] - args[1]) >= MARGIN
        data.append(op.forward(_float_backend(), *args))


def test_expression_repr_reads_like_code():
    f = Expression(2, [(ops.TANH, (0,)), (ops.POW_CONST.bind(n=2.0), (2,)), (ops.MUL, (3, 1))])
    assert repr(f) == "Expression((x0, x1) -> v4: v2 = tanh(x0); v3 = pow_const[n=2](v2); v4 = mul(v3, x1))"
    assert f(0.5, 2.0).data == pytest.approx(math.tanh(0.5) ** 2 * 2)


def test_expressions_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_inputs >= 1"):
        expressions(n_inputs=0)
    with pytest.raises(KeyError, match="no op named 'nope'"):
        expressions(ops=["nope"])
    with pytest.raises(ValueError, match="min_value"):
        expressions(min_value=1.0, max_value=-1.0)


# --- the pasteable example from the docs -----------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8))
def test_random_graphs_have_right_derivatives(case):
    f, inputs = case
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_hypothesis_and_nn_are_not_imported_by_autograd():
    code = (
        "import sys, autograd, autograd.testing; "
        "print(sorted(m for m in ('hypothesis', 'nn', 'numpy', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
