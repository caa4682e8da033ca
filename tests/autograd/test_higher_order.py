"""Derivatives of derivatives: backward(create_graph=True) and the transforms, to any order."""

import gc
import math
import weakref

import pytest
from hypothesis import assume, given, settings

from autograd import Value, grad, hessian, log_softmax, ops
from autograd.backends import FLOAT
from autograd.functional import gradients
from autograd.graph import reachable
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import expressions
from autograd.value import apply

# The ops defined by the engine itself (not ones a test may have registered).
BUILTIN_OPS = sorted(v.name for v in vars(ops).values() if isinstance(v, ops.Op))


def number(g):
    """A gradient's number: float(Value) is an error (it would cut the graph), so read .data."""
    return g.data if isinstance(g, Value) else float(g)


def derivatives_by_backward(f, x0, order):
    """[f'(x0), f''(x0), ...] by repeated backward(create_graph=True) on the previous derivative."""
    x = Value(x0, label="x")
    g, out = f(x), []
    for _ in range(order):
        x.grad = 0.0
        g.backward(create_graph=True)
        g = x.grad
        out.append(g.data if isinstance(g, Value) else float(g))
        if not isinstance(g, Value):  # a constant: every further derivative is 0
            out += [0.0] * (order - len(out))
            break
    x.grad = 0.0
    return out


def nth(f, n):
    for _ in range(n):
        f = grad(f)
    return f


# --- closed forms, both ways -------------------------------------------------------------------------
@pytest.mark.parametrize("x0", [-1.3, 0.0, 0.7, 2.0])
def test_derivatives_of_x_to_the_fifth(x0):
    expected = [5 * x0**4, 20 * x0**3, 60 * x0**2, 120 * x0, 120.0, 0.0]
    assert derivatives_by_backward(lambda x: x**5, x0, 6) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert [nth(lambda x: x**5, n)(x0) for n in (1, 2, 3)] == pytest.approx(expected[:3], rel=1e-12, abs=1e-12)


def test_x_squared_at_zero_differentiates_to_any_order():
    # Regression: the VALUE backend used to build a node x**0 whose derivative 0 * x**-1 fails at 0.
    assert derivatives_by_backward(lambda x: x**2, 0.0, 4) == [0.0, 2.0, 0.0, 0.0]
    assert nth(lambda x: x**2, 3)(0.0) == 0.0
    assert nth(lambda x: x**3, 4)(0.0) == 0.0


@pytest.mark.parametrize("x0", [-2.0, -0.4, 0.0, 0.5, 1.7])
def test_third_derivative_of_tanh(x0):
    t = math.tanh(x0)
    expected = [1 - t * t, -2 * t * (1 - t * t), (6 * t * t - 2) * (1 - t * t)]
    assert derivatives_by_backward(lambda x: x.tanh(), x0, 3) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert nth(lambda x: x.tanh(), 3)(x0) == pytest.approx(expected[2], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("x0", [-1.0, 0.3, 2.5])
def test_third_derivative_of_log_softmax(x0):
    others = [0.4, -1.2]

    def f(x):
        return log_softmax([x, *others])[0]

    p = math.exp(x0) / (math.exp(x0) + sum(math.exp(o) for o in others))
    expected = [1 - p, -p * (1 - p), -p * (1 - p) * (1 - 2 * p)]
    assert derivatives_by_backward(f, x0, 3) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert nth(f, 3)(x0) == pytest.approx(expected[2], rel=1e-10, abs=1e-14)


def test_third_derivatives_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")

    def torch_third(fn, x0):
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        g = fn(x)
        for _ in range(3):
            (g,) = torch.autograd.grad(g, x, create_graph=True)
        return g.item()

    cases = [
        (lambda x: x**5, lambda x: x**5),
        (lambda x: x.tanh(), torch.tanh),
        (lambda x: log_softmax([x, 0.4, -1.2])[1],
         lambda x: torch.log_softmax(torch.stack([x, torch.tensor(0.4, dtype=torch.float64),
                                                  torch.tensor(-1.2, dtype=torch.float64)]), 0)[1]),
        (lambda x: (x * x).sigmoid() / (1 + x.exp()), lambda x: torch.sigmoid(x * x) / (1 + x.exp())),
    ]
    for ours, theirs in cases:
        for x0 in (-0.8, 0.6, 1.9):
            assert nth(ours, 3)(x0) == pytest.approx(torch_third(theirs, x0), rel=1e-10, abs=1e-13)
            assert derivatives_by_backward(ours, x0, 3)[2] == pytest.approx(torch_third(theirs, x0), rel=1e-10,
                                                                          abs=1e-13)


def test_piecewise_linear_ops_have_zero_second_derivative():
    for f in (lambda x: x.relu() * 3, lambda x: abs(x) * 2, lambda x: x.leaky_relu(0.1)):
        for x0 in (-1.0, 0.5):
            assert derivatives_by_backward(f, x0, 2)[1] == 0.0
            assert nth(f, 2)(x0) == 0.0


# --- what backward(create_graph=True) leaves behind ---------------------------------------------------
def test_create_graph_leaves_values_on_leaves_and_numbers_on_interior_nodes():
    x = Value(0.5)
    h = x * x
    y = h.tanh()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert type(h.grad) is float and type(y.grad) is float
    assert h.grad == pytest.approx(1 - math.tanh(0.25) ** 2)
    g = x.grad
    x.grad = 0.0
    g.backward()
    t = math.tanh(0.25)
    assert x.grad == pytest.approx(2 * (1 - t * t) - 8 * 0.25 * t * (1 - t * t))


def _second_derivative_graph():
    x = Value(0.7)
    y = (x**5).tanh() * x.exp()
    y.backward(create_graph=True)
    g = x.grad
    x.grad = 0.0
    g.backward(create_graph=True)
    gg = x.grad
    x.grad = 0.0
    return x, y, g, gg


def test_create_graph_cycles_are_only_leaves_and_their_gradients():
    # As in PyTorch, a leaf's gradient graph (inputs and constants alike) runs through the leaf:
    # the only cycles backward(create_graph=True) makes.  Resetting leaf grads frees everything.
    gc.disable()
    try:
        x, y, g, gg = _second_derivative_graph()
        nodes = reachable([y, g, gg])
        probes = [weakref.ref(v) for v in nodes]
        assert len(probes) > 20
        for v in nodes:
            if v.is_leaf:
                v.grad = 0.0
        del x, y, g, gg, nodes, v
        assert [p for p in probes if p() is not None] == []
    finally:
        gc.enable()


def test_create_graph_graph_is_freed_by_the_cycle_collector_when_dropped():
    x, y, g, gg = _second_derivative_graph()
    probes = [weakref.ref(v) for v in reachable([y, g, gg])]
    del x, y, g, gg
    gc.collect()
    assert [p for p in probes if p() is not None] == []


def test_transforms_leave_nothing_alive_without_the_cycle_collector():
    seen = []

    def watch(fn):
        # Record every node of what fn returns: at inner levels, whole derivative graphs.
        def watched(*args):
            out = fn(*args)
            seen.extend(weakref.ref(v) for v in reachable([out]))
            return out

        return watched

    def f(x):
        return (x**5).tanh() * x.exp() + x.sin()

    gc.disable()
    try:
        third = grad(watch(grad(watch(grad(watch(f))))))(0.4)
        h = hessian(watch(lambda a, b: f(a) * f(b)))(0.4, -0.2)
        assert isinstance(third, float) and isinstance(h[0][1], float)
        assert len(seen) > 100
        assert [p for p in seen if p() is not None] == []
    finally:
        gc.enable()


# --- where a second derivative does not exist --------------------------------------------------------
def test_second_derivative_undefined_at_a_point_names_the_op():
    assert grad(lambda x: x**1.5)(0.0) == 0.0  # the first derivative exists
    with pytest.raises(ZeroDivisionError, match=r"pow_const\(0\.0, n=0\.5\).*undefined"):
        grad(grad(lambda x: x**1.5))(0.0)
    x = Value(0.0)
    (x**1.5).backward(create_graph=True)
    with pytest.raises(ZeroDivisionError, match="pow_const"):
        x.grad.backward()


def test_op_without_a_second_derivative_rule_says_so():
    def partials(m, out, x):
        if not isinstance(out, float):
            raise NotImplementedError("no_second_order_square has a first derivative only")
        return (2.0 * x,)

    op = ops.register(ops.Op("no_second_order_square", lambda m, x: x * x, partials, "sq"))
    try:
        f = lambda x: apply(op, [x]).sin()  # noqa: E731
        assert grad(f)(0.5) == pytest.approx(math.cos(0.25))
        with pytest.raises(TypeError, match="no_second_order_square.*no second derivative"):
            grad(grad(f))(0.5)
    finally:
        ops.OPS.pop("no_second_order_square")


# --- random graphs -----------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8, ops=BUILTIN_OPS))
def test_random_graphs_first_and_second_derivatives_match_finite_differences(case):
    f, inputs = case
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


@settings(max_examples=40, deadline=None)
@given(expressions(n_inputs=2, max_nodes=8, ops=BUILTIN_OPS))
def test_backward_create_graph_and_functional_agree(case):
    f, inputs = case
    xs = [Value(x) for x in inputs]
    y = f(*xs)
    first = gradients(y, xs, create_graph=True)
    if not isinstance(y, Value) or y.is_leaf:
        return
    y.backward(create_graph=True)
    by_backward = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    assert [number(g) for g in by_backward] == pytest.approx([number(g) for g in first], rel=1e-13, abs=1e-15)
    for g, g_functional in zip(by_backward, first):
        if isinstance(g, Value):
            g.backward()
            row_backward = [x.grad for x in xs]
            for x in xs:
                x.grad = 0.0
            row_functional = [number(h) for h in gradients(g_functional, xs)]
            assert row_backward == pytest.approx(row_functional, rel=1e-12, abs=1e-14)


# --- against PyTorch ---------------------------------------------------------------------------------
def _torch_natives(torch):
    F = torch.nn.functional

    def stack(xs):
        return torch.stack([torch.as_tensor(x, dtype=torch.float64) for x in xs])

    def dot(*args):
        n = len(args) // 2
        s = (stack(args[:n]) * stack(args[n:2 * n])).sum()
        return s + args[-1] if len(args) % 2 else s

    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda x: -x, "pow_const": lambda x, n: x**n,
        "pow": lambda a, b: a**b, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt,
        "abs": torch.abs, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu,
        "leaky_relu": lambda x, alpha: F.leaky_relu(x, alpha), "elu": lambda x, alpha: F.elu(x, alpha),
        "selu": F.selu, "softplus": lambda x: F.softplus(x, threshold=40.0),
        "swish": lambda x, beta: x * torch.sigmoid(beta * x),
        "maximum": torch.maximum, "minimum": torch.minimum, "sum": lambda *xs: stack(xs).sum(),
        "dot": dot, "logsumexp": lambda *xs: torch.logsumexp(stack(xs), 0),
    }


def _torch_first_and_second(torch, f, inputs):
    natives = _torch_natives(torch)
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    nodes = list(xs)
    for op, idx in f.steps:
        nodes.append(natives[op.name](*[nodes[i] for i in idx], *[v for _, v in op.bound]))
    y = nodes[-1]
    first = torch.autograd.grad(y, xs, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(xs))
            continue
        row = torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True)
        rows.append([0.0 if h is None else h.item() for h in row])
    return [0.0 if g is None else g.item() for g in first], rows


def _has_pow_with_zero_exponent(f, inputs):
    values = list(inputs)
    for op, idx in f.steps:
        args = [values[i] for i in idx]
        if op.name == "pow" and args[1] == 0.0:
            return True
        values.append(op.forward(FLOAT, *args))
    return False


def _close(ours, theirs, rel=1e-10, floor=1e-10):
    # Relative to the size of the derivatives involved: entries that cancel to ~0 are compared
    # against that scale, not against their own (rounding-sized) magnitude; `floor` absorbs what is
    # left of a cancellation (tanh(x)/tanh(x) has Hessian 0; PyTorch's rounding gives -4.5e-13).
    scale = max([1.0] + [abs(t) for t in theirs])
    return all(abs(a - b) <= rel * max(abs(b), 1e-3 * scale) + floor for a, b in zip(ours, theirs))


@settings(max_examples=200, deadline=None)
@given(expressions(n_inputs=3, max_nodes=8, ops=BUILTIN_OPS))
def test_random_graphs_match_pytorch_create_graph_float64(case):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    f, inputs = case
    # PyTorch masks d(a**b)/da to a constant 0 where b == 0 (torch.where), which also zeroes its
    # derivative with respect to b there: its Hessian is then wrong and not even symmetric.
    assume(not _has_pow_with_zero_exponent(f, inputs))
    t_first, t_hessian = _torch_first_and_second(torch, f, inputs)
    first = grad(f, argnums=(0, 1, 2))(*inputs)
    h = hessian(f)(*inputs)
    assert _close(first, t_first), (first, t_first)
    flat_h, flat_t = [v for row in h for v in row], [v for row in t_hessian for v in row]
    assert _close(flat_h, flat_t), (h, t_hessian)
