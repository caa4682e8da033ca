"""The tape compiler, one sample at a time: traced replay equals the eager engine."""

from __future__ import annotations

import gc
import math
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
from autograd import TraceMismatch, Value, trace

try:  # the shared strategy of the higher-order issue, when present
    from autograd.testing.strategies import expressions
except ImportError:  # pragma: no cover - a small stand-in
    expressions = None

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
SAFE_OPS = ("add", "sub", "mul", "tanh", "sigmoid", "relu", "sin", "cos", "softplus", "neg", "elu")


@st.composite
def small_expressions(draw, n_inputs=3, max_nodes=10, repeats=False):
    """Random DAGs over ops defined everywhere (our own strategy, used beside the shared one).

    With ``repeats`` a step may be drawn again with the same operands: identical nodes side by side.
    """
    inputs = [draw(st.floats(-2, 2, allow_nan=False)) for _ in range(n_inputs)]
    steps = []
    for _ in range(draw(st.integers(1, max_nodes))):
        n = n_inputs + len(steps)
        if repeats and steps and draw(st.booleans()):
            steps.append(steps[-1])
            continue
        name = draw(st.sampled_from(SAFE_OPS + ("sum", "dot") + ("dot",) * (4 if repeats else 0)))
        pick = st.integers(max(0, n - 6), n - 1)
        if name in ("sum", "dot"):
            steps.append((name, [draw(pick) for _ in range(draw(st.integers(2, 5)))]))
        else:
            op = autograd.ops.get(name)
            if op.params:
                op = op.bind(alpha=0.3)
            steps.append((op, [draw(pick) for _ in range(op.arity)]))

    def f(*xs):
        nodes = list(xs)
        for op, idx in steps:
            args = [nodes[i] for i in idx]
            if op == "sum":
                nodes.append(autograd.sum(args))
            elif op == "dot":
                h = len(args) // 2 or 1
                nodes.append(autograd.dot(args[:h], args[h:2 * h] or args[:h], args[-1] if len(args) % 2 else None))
            else:
                nodes.append(autograd.value.apply(op, args))
        out = autograd.sum(nodes[n_inputs:]) if repeats else nodes[-1]  # repeats: every node used
        return (out * 0.5).tanh() + out * 0.1

    return f, inputs


def eager(f, inputs, params=()):
    xs = [Value(x) for x in inputs]
    for p in params:
        p.grad = 0.0
    out = f(*xs)
    out.backward()
    return out.data, [x.grad for x in xs], [p.grad for p in params]


def close(a, b, rel=1e-12):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def _check_equal(f, inputs):
    value, grads, _ = eager(f, inputs)
    tape = trace(f, *inputs)
    v, g = tape.value_and_grad(*inputs)
    assert close(v, value), (v, value, tape.source)
    assert close(tape(*inputs), value)
    assert all(close(a, b) for a, b in zip(g, grads)), (g, grads, tape.source)
    assert isinstance(v, float) and all(isinstance(x, float) for x in g)


@pytest.mark.skipif(expressions is None, reason="autograd.testing.strategies not available")
@SETTINGS
@given(st.data())
def test_random_graphs_traced_equal_eager(data):
    f, inputs = data.draw(expressions(n_inputs=3, max_nodes=12))
    _check_equal(f, inputs)


@SETTINGS
@given(small_expressions())
def test_random_graphs_of_our_own_strategy_traced_equal_eager(case):
    f, inputs = case
    _check_equal(f, inputs)


@SETTINGS
@given(small_expressions(n_inputs=2), st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_captured_parameters_get_the_eager_gradients(case, pdata):
    f, inputs = case
    params = [Value(v, label=f"p{i}") for i, v in enumerate(pdata)]
    g = lambda a, b: f(a * params[0] + params[1], b - params[2], params[0] * b)  # noqa: E731
    value, grads, pgrads = eager(g, inputs, params)
    tape = trace(g, *inputs)
    assert len(tape.params) <= 3  # only the parameters the graph uses are captured
    for p in params:
        p.grad = 0.0
    v, gr = tape.value_and_grad(*inputs)
    assert close(v, value)
    assert all(close(a, b) for a, b in zip(gr, grads))
    assert all(close(p.grad, b) for p, b in zip(params, pgrads)), (pgrads, [p.grad for p in params])


def tiny(a, b):
    c = a + b
    d = a * b + b ** 3
    e = c - d
    f = e ** 2
    return f / 2


def test_burtorch_tiny_graph_values_and_source():
    tape = trace(tiny, -41.0, 2.0)
    assert tape.value_and_grad(-41.0, 2.0) == (612.5, (-35.0, 1050.0))  # hand-derived: e = -35
    assert tape(1.0, 3.0) == tiny(1.0, 3.0)
    src = tape.source
    assert "def forward(a, b):" in src and "def value_and_grad(a, b):" in src
    forward = src.split("def value_and_grad")[0]
    assert sum(line.startswith("    t") for line in forward.splitlines()) == tape.n_nodes == 7
    assert "g_b = g_t2 * (3.0 * b ** 2.0)" in src  # the pow rule of the op table, unrolled


def test_source_names_lines_after_labels_and_reads_parameters_live():
    w = Value(0.5, label="w")
    b = Value(-0.1, label="b")

    def neuron(x):
        z = w * x + b
        z.label = "z"
        h = z.tanh()
        h.label = "h"
        return h

    tape = trace(neuron, 2.0)
    src = tape.source
    assert "w = params[0].data" in src and "z = " in src and "h = tanh(z)" in src
    assert "g_z = g_h * (1.0 - h * h)" in src  # tanh' = 1 - out^2, from ops.py
    assert "params[0].grad += g_w" in src
    w.data = 2.0  # updated between replays: seen
    assert tape(2.0) == math.tanh(2.0 * 2.0 - 0.1)


def test_gradients_accumulate_like_eager():
    w = Value(1.5)
    f = lambda x: (w * x).sin() * w  # noqa: E731
    tape = trace(f, 0.3)
    tape.value_and_grad(0.3)
    tape.value_and_grad(0.7)
    traced = w.grad
    w.grad = 0.0
    for x in (0.3, 0.7):
        f(Value(x)).backward()
    assert close(traced, w.grad)


def test_tape_is_reused_after_parameter_update_like_sgd():
    w = [Value(0.2), Value(-0.4)]
    f = lambda x, y: ((w[0] * x + w[1]) - y) ** 2  # noqa: E731
    tape = trace(f, 0.0, 0.0)
    data = [(0.5, 1.0), (-1.0, 0.2), (2.0, -0.5)]
    for _ in range(3):
        for x, y in data:
            for p in w:
                p.grad = 0.0
            tape.value_and_grad(x, y)
            for p in w:
                p.data -= 0.1 * p.grad
    traced = [p.data for p in w]
    w[0].data, w[1].data = 0.2, -0.4
    for _ in range(3):
        for x, y in data:
            for p in w:
                p.grad = 0.0
            f(x, y).backward()
            for p in w:
                p.data -= 0.1 * p.grad
    assert traced == [p.data for p in w]


def branchy(x):
    return x * 2.0 if x.data > 0 else (x * x).exp()


def test_control_flow_is_fixed_at_trace_time_and_check_catches_it():
    tape = trace(branchy, 1.0)
    assert tape(-3.0) == -6.0  # the traced branch, like jax.jit: documented behaviour
    checked = trace(branchy, 1.0, check=True)
    assert checked(2.5) == 5.0  # same branch: fine
    with pytest.raises(TraceMismatch, match="different graph"):
        checked(-3.0)
    with pytest.raises(TraceMismatch):
        checked.value_and_grad(-0.5)


def test_check_names_a_different_captured_value():
    w1, w2 = Value(1.0), Value(2.0)
    tape = trace(lambda a: a * (w1 if a.data > 0 else w2), 1.0, check=True)
    with pytest.raises(TraceMismatch, match=r"captured Value #0 is Value\(data=2\.0.* instead of the traced "
                                            r"Value\(data=1\.0.*different Value object"):
        tape(-1.0)


def test_a_function_returning_no_value_is_named_as_such():
    for out in (None, "x", True):
        with pytest.raises(TypeError, match="trace: the function must return Values or real numbers, got "):
            trace(lambda a, out=out: out, 1.0)
    assert trace(lambda a: 3, 1.0)(5.0) == 3.0


def test_check_catches_a_number_read_from_data():
    tape = trace(lambda x: x * Value(x.data), 2.0, check=True)
    assert tape(2.0) == 4.0
    with pytest.raises(TraceMismatch, match="constant"):
        tape(3.0)


def test_ops_stay_right_on_any_input():
    tape = trace(lambda x: x.relu() + abs(x) + autograd.maximum(x, 0.5), 1.0, check=True)
    for x in (-2.0, 0.2, 3.0):
        v, g = tape.value_and_grad(x)
        value, grads, _ = eager(lambda t: t.relu() + abs(t) + autograd.maximum(t, 0.5), [x])
        assert v == value and g[0] == grads[0]


def test_wrong_number_of_inputs_is_a_clear_error():
    tape = trace(tiny, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"expected 2 input\(s\) \(a, b\), got 3"):
        tape(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="expected 2"):
        tape.value_and_grad(1.0)
    with pytest.raises(TypeError, match="input 'b' must be a real number"):
        tape(1.0, "2")
    assert tape(1, 2) == tiny(1.0, 2.0)  # ints are numbers


def test_domain_errors_name_the_node_and_operand():
    tape = trace(lambda x: (x.log() * 2.0).exp(), 1.0)
    with pytest.raises(ValueError, match=r"log\(-1\.0\).*positive"):
        tape(-1.0)
    with pytest.raises(ValueError, match=r"log\(-1\.0\)"):
        tape.value_and_grad(-1.0)
    with pytest.raises(OverflowError, match="exp"):
        tape(1e200)


def test_several_outputs_and_has_aux():
    w = Value(2.0)
    tape = trace(lambda x: [w * x, x + 1.0], 3.0)
    assert tape(3.0) == (6.0, 4.0)
    value, grads = tape.value_and_grad(3.0)  # gradient of the sum of the outputs
    assert value == (6.0, 4.0) and grads == (3.0,)
    aux = trace(lambda x: ((w * x) ** 2, [w * x, x + 1.0]), 3.0, has_aux=True)
    w.grad = 0.0
    value, grads = aux.value_and_grad(3.0)
    assert value == (36.0, (6.0, 4.0)) and grads == (24.0,) and w.grad == 36.0


def test_constants_fold_and_outputs_may_be_leaves():
    tape = trace(lambda x, y: (x, Value(2.0) * Value(3.0) + y), 1.0, 1.0)
    assert tape(5.0, 1.0) == (5.0, 7.0)
    assert tape.value_and_grad(5.0, 1.0)[1] == (1.0, 1.0)


def test_deep_chains_trace_iteratively_and_replay():
    def chain(x):
        for _ in range(10_000):
            x = x * 0.9999 + 0.0001
        return x

    tape = trace(chain, 1.0)  # 20,000 nodes deep: no recursion anywhere
    assert tape.n_nodes == 20_000 and tape.mode == "python"  # one node per level: nothing to group
    value, grads = tape.value_and_grad(0.5)
    expected = 0.5
    for _ in range(10_000):
        expected = expected * 0.9999 + 0.0001
    assert value == expected
    assert close(grads[0], 0.9999 ** 10_000, 1e-9)


def test_wide_graphs_replay_single_samples_through_numpy():
    ws = [Value(0.001 * i) for i in range(3000)]
    tape = trace(lambda x: autograd.sum([(w * x).tanh() for w in ws]), 1.0)
    assert tape.mode == "numpy" and tape.numpy_calls() == 3  # mul, tanh, sum: one group each
    value, grads = tape.value_and_grad(0.7)
    assert close(value, sum(math.tanh(w.data * 0.7) for w in ws), 1e-12)
    assert close(grads[0], sum(w.data * (1 - math.tanh(w.data * 0.7) ** 2) for w in ws), 1e-12)


def test_numpy_mode_equals_python_mode():
    w = [Value(0.3), Value(-0.7)]
    f = lambda a, b: autograd.logsumexp([(w[0] * a).tanh(), w[1] * b, a * b]).sigmoid()  # noqa: E731
    py, nm = trace(f, 0.4, 0.9, mode="python"), trace(f, 0.4, 0.9, mode="numpy")
    v1, g1 = py.value_and_grad(-0.2, 1.3)
    p1 = [p.grad for p in w]
    for p in w:
        p.grad = 0.0
    v2, g2 = nm.value_and_grad(-0.2, 1.3)
    assert close(v1, v2) and all(close(a, b) for a, b in zip(g1, g2))
    assert all(close(a, p.grad) for a, p in zip(p1, w))


def _bytes_of(make):
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    obj = make()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return obj, used


def test_memory_per_node_is_far_below_eager():
    leaves = [Value(0.01 * i) for i in range(8)]

    def graph(*xs):
        nodes = list(xs)
        for i in range(5000):
            a, b = nodes[-1], nodes[-1 - (i % 7)]
            nodes.append((a * b).tanh() if i % 3 else a + b)
        return nodes[-1]

    root, eager_bytes = _bytes_of(lambda: graph(*leaves))
    n_nodes = sum(not v.is_leaf for v in autograd.topological_order(root))
    del root
    tape, tape_bytes = _bytes_of(lambda: trace(graph, *[0.01 * i for i in range(8)], mode="python"))
    assert tape.n_nodes == n_nodes
    per_node_eager, per_node_tape = eager_bytes / n_nodes, tape_bytes / n_nodes
    assert per_node_tape * 5 < per_node_eager, (per_node_tape, per_node_eager)
    assert tape.nbytes() / n_nodes < 20


def test_matches_pytorch_float64_on_the_tiny_graph():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    a = torch.tensor(-41.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    g = tiny(a, b)
    g.backward()
    value, grads = trace(tiny, -41.0, 2.0).value_and_grad(-41.0, 2.0)
    assert value == g.item() and grads == (a.grad.item(), b.grad.item())


def test_backward_domain_errors_name_the_node():
    tape = trace(lambda x: x.sqrt() + x, 1.0)
    assert tape(0.0) == 0.0
    with pytest.raises(ZeroDivisionError, match=r"tape node t0: backward through sqrt\(0\.0\): derivative "
                       r"undefined here \(float division by zero\)$"):
        tape.value_and_grad(0.0)  # (not the forward's "must be non-negative": 0.0 is)


def test_overflow_errors_say_the_result_is_too_large_like_eager():
    import numpy as np

    tape = trace(lambda a: a ** 1.5, 1.0)
    with pytest.raises(OverflowError) as eager_error:
        Value(1e300) ** 1.5
    for call in (lambda: tape(1e300), lambda: tape.value_and_grad(1e300),
                 lambda: tape.batch(np.array([1.0, 1e300]))):
        with pytest.raises(OverflowError, match=r"pow_const\(1e\+300, n=1\.5\): the result is too large") as e:
            call()
        assert str(e.value).endswith(str(eager_error.value)) and "0 ** negative" not in str(e.value)


def test_the_fast_entry_falls_back_for_other_numbers():
    tape = trace(tiny, 1.0, 2.0)
    tape.value_and_grad(1.0, 2.0)  # compiles
    assert tape.value_and_grad(-41, 2) == (612.5, (-35.0, 1050.0))
    with pytest.raises(TypeError, match="expected 2"):
        tape.value_and_grad(1.0)
    with pytest.raises(TypeError, match="must be a real number"):
        tape.value_and_grad(Value(1.0), 2.0)


def test_tape_refuses_a_non_positive_base_like_eager():
    import numpy as np

    tp = trace(lambda a, b: a ** b, 2.0, 3.0)
    for base in (-2.0, 0.0):
        with pytest.raises(ValueError, match="pow"):
            tp(base, 3.0)
        with pytest.raises(ValueError):
            tp.value_and_grad(base, 3.0)
    with pytest.raises(ValueError):
        tp.batch(np.array([2.0, -2.0]), np.array([3.0, 3.0]))


@pytest.mark.parametrize("use", ["call", "value_and_grad", "slow", "error", "batch", "check", "numpy", "has_aux"])
def test_a_dropped_tape_is_freed_by_reference_counting(use):
    import weakref

    import numpy as np

    def build():
        w = Value(2.0)
        f = (lambda a: ((a * w).log(), a)) if use == "has_aux" else (lambda a: (a * w).log())
        tape = trace(f, 1.0, check=use == "check", mode="numpy" if use == "numpy" else "auto",
                     has_aux=use == "has_aux")
        tape(0.3)
        if use != "call":
            tape.value_and_grad(3.0)
        if use == "slow":
            tape.value_and_grad(3)
        if use == "error":
            with pytest.raises(ValueError):
                tape.value_and_grad(-1.0)
            with pytest.raises(ValueError):
                tape(-1.0)
        if use == "batch":
            tape.batch_value_and_grad(np.array([1.0, 2.0]))
        return weakref.ref(tape), weakref.ref(w)

    enabled = gc.isenabled()
    gc.disable()  # no cycle collector: only reference counting may free the tape
    try:
        refs = build()
        assert [r() is None for r in refs] == [True, True]
    finally:
        if enabled:
            gc.enable()
