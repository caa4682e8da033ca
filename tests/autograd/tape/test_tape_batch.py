"""The tape over whole batches: grouped numpy replay equals the eager engine sample by sample."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tape import close, eager, small_expressions

import autograd
import nn
from autograd import Value, trace

try:
    from autograd.testing.strategies import expressions
except ImportError:  # pragma: no cover
    expressions = None

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

# docs/compiler.md, "Batches": the fast replay and the careful pass run the same rules in the same
# order; only a matrix product may sum its terms in another order (the BLAS kernel depends on the CPU
# and on the operands' memory layout), so each returned array agrees within this many ulps of its
# largest magnitude.
REPLAY_ULPS = 16


def assert_replay_close(got, want):
    """The replay promise: ``got`` equals ``want`` within REPLAY_ULPS ulps of ``want``'s largest magnitude."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    atol = REPLAY_ULPS * np.finfo(float).eps * np.max(np.abs(want), initial=0.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


def careful_pass(tape, columns, params):
    """What a batch with an inf or NaN in it runs: the careful variant of the batch program, every
    group's numbers checked: (outputs, None, parameter gradients)."""
    with np.errstate(all="ignore"):
        return tape._plan(False)._program(True)(np.asarray(columns, dtype=float), params, True)


def _batched_equals_eager(f, inputs, offsets, params=()):
    """Samples near the drawn point (domain-safe: the strategies keep a margin around it)."""
    cols = [np.array([x + d for d in offsets]) for x in inputs]
    tape = trace(f, *inputs)
    for p in params:
        p.grad = 0.0
    values, grads, pgrads = tape.batch_value_and_grad(*cols)
    assert np.array_equal(pgrads, [p.grad for p in tape.params])
    traced = [p.grad for p in params]
    assert np.allclose(tape.batch(*cols), values, rtol=0, atol=0)
    total = np.zeros(len(params))
    for b in range(len(offsets)):
        value, g, pg = eager(f, [c[b] for c in cols], params)
        # numpy's exp/tanh/... may differ from math's by an ulp and dot sums in another order, so a
        # value that cancels to near zero gets an absolute allowance too.
        assert abs(values[b] - value) <= 1e-11 * abs(value) + 1e-13, (values[b], value)
        for i, gi in enumerate(g):
            assert abs(grads[i][b] - gi) <= 1e-10 * max(1.0, abs(gi)), (grads[i][b], gi, tape.source)
        total += pg
    assert np.allclose(traced, total, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(expressions is None, reason="autograd.testing.strategies not available")
@SETTINGS
@given(st.data())
def test_random_graphs_batched_equal_eager(data):
    f, inputs = data.draw(expressions(n_inputs=3, max_nodes=12))
    _batched_equals_eager(f, inputs, [0.0, 1e-4, -2e-4, 3e-4])


@SETTINGS
@given(small_expressions(n_inputs=2), st.lists(st.floats(-1, 1), min_size=2, max_size=2))
def test_random_graphs_with_parameters_batched_equal_eager(case, pdata):
    f, inputs = case
    params = [Value(v) for v in pdata]
    g = lambda a, b: f(a * params[0], b + params[1]) * params[0]  # noqa: E731
    _batched_equals_eager(g, inputs, [0.0, 0.3, -0.5, 1.1, 2.0], params)


@SETTINGS
@given(small_expressions(n_inputs=2, repeats=True), st.lists(st.floats(-1, 1), min_size=2, max_size=2))
def test_random_graphs_with_identical_nodes_batched_equal_eager(case, pdata):
    # Identical nodes at one depth form one group whose operands are all shared (a dot read twice).
    f, inputs = case
    params = [Value(v) for v in pdata]
    g = lambda a, b: f(a, b) + f(autograd.dot(params, [a, b]), b * params[1])  # noqa: E731
    _batched_equals_eager(g, inputs, [0.0, 0.3, -0.5, 1.1], params)
    _batched_equals_eager(f, inputs, [0.0, 0.3, -0.5])


@pytest.mark.parametrize("with_params", [True, False])
def test_identical_dot_nodes_at_one_depth(with_params):
    w = [Value(0.5), Value(-1.0)]

    def f(a, b):
        ws = w if with_params else [a, b]
        return autograd.dot(ws, [a, b]) * autograd.dot(ws, [a, b])

    _batched_equals_eager(f, [1.0, 2.0], [0.0, 1.0, -0.5], w if with_params else ())
    tape = trace(f, 1.0, 2.0, mode="numpy")
    value, grads, _ = eager(f, [1.0, 2.0])
    v, g = tape.value_and_grad(1.0, 2.0)
    assert close(tape(1.0, 2.0), value) and close(v, value) and all(map(close, g, grads))


def test_parameter_gradients_sum_or_mean_over_the_batch():
    w = Value(0.5)
    tape = trace(lambda x: (w * x).tanh(), 1.0)
    xs = np.array([0.1, -0.4, 2.0])
    _, _, total = tape.batch_value_and_grad(xs)
    assert close(w.grad, total[0]) and close(total[0], sum(x * (1 - np.tanh(0.5 * x) ** 2) for x in xs))
    w.grad = 0.0
    _, _, mean = tape.batch_value_and_grad(xs, reduce="mean")
    assert close(mean[0], total[0] / 3) and close(w.grad, mean[0])
    with pytest.raises(ValueError, match="reduce must be"):
        tape.batch_value_and_grad(xs, reduce="max")


def test_wrong_columns_are_clear_errors():
    tape = trace(lambda a, b: a * b, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"expected 2 column\(s\) \(a, b\), got 1"):
        tape.batch(np.ones(3))
    with pytest.raises(ValueError, match=r"input 'a' must be a 1-D array of shape \(B,\), got shape \(3, 2\)"):
        tape.batch(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"same batch size B.*a: \(3,\), b: \(4,\)"):
        tape.batch_value_and_grad(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="empty batch"):
        tape.batch([], [])
    assert tape.batch([1, 2], [3.0, 4.0]).tolist() == [3.0, 8.0]  # lists are fine
    assert tape.batch(np.arange(2, dtype=np.int8), [0.5, np.float32(4)]).tolist() == [0.0, 4.0]


@pytest.mark.parametrize("column, shown", [
    (np.array(["1", "2"]), "dtype <U1"),
    (np.array([1 + 2j, 2.0]), "dtype complex128"),
    (np.array([True, False]), "dtype bool"),
    ([True, 2.0], "bool True"),
    (np.array([Value(1.0), 2.0], dtype=object), "Value"),
])
def test_batch_columns_take_what_single_samples_take(column, shown, recwarn):
    tape = trace(lambda a, b: a * b, 1.0, 2.0)
    for call in (tape.batch, tape.batch_value_and_grad):
        with pytest.raises(TypeError, match=rf"input 'b' must hold real numbers, got .*{shown}"):
            call(np.ones(2), column)
    with pytest.raises(TypeError, match="input 'b' must be a real number"):
        tape(1.0, column[0])  # the single-sample rule the columns follow
    assert not recwarn.list  # no ComplexWarning: nothing was cast


def test_domain_errors_in_a_batch_name_the_sample():
    tape = trace(lambda x: x.log() + 1.0, 1.0)
    with pytest.raises(ValueError, match=r"batch sample 2: log\(-3\.0\)"):
        tape.batch(np.array([1.0, 2.0, -3.0]))
    with pytest.raises(ZeroDivisionError, match="sample 1"):
        trace(lambda x: 1.0 / x, 1.0).batch(np.array([1.0, 0.0]))


def test_a_batch_with_errors_in_several_samples_raises_the_first_failing_samples_error():
    """A later node fails for sample 0 and an earlier node for sample 2: eager calls over the samples
    in order meet sample 0's error first, and so does the batch."""
    tape = trace(lambda x, y: 1.0 / (x ** 0.5 - y), 4.0, 1.0)
    with pytest.raises(ZeroDivisionError) as eager_error:
        tape.value_and_grad(4.0, 2.0)
    for run in (tape.batch, tape.batch_value_and_grad):
        with pytest.raises(ZeroDivisionError) as e:
            run(np.array([4.0, 9.0, -1.0]), np.array([2.0, 1.0, 0.0]))
        assert str(e.value) == "batch sample 0: " + str(eager_error.value).split(": ", 1)[1]
    # Within one sample, the first failing node in eager order (x*y/x, with -0.0), though the group
    # of x/x is evaluated first.
    tape = trace(lambda x, y: (x * y / x) * (x / x), 1.0, 2.0)
    with pytest.raises(ZeroDivisionError, match=r"div\(-0\.0, 0\.0\)") as eager_error:
        tape.value_and_grad(0.0, -1.0)
    with pytest.raises(ZeroDivisionError) as e:
        tape.batch(np.array([0.0]), np.array([-1.0]))
    assert str(e.value) == "batch sample 0: " + str(eager_error.value).split(": ", 1)[1]


def test_backward_errors_in_a_batch_are_eager_errors_naming_the_sample():
    tape = trace(lambda a, b: a.sqrt() * b, 1.0, 1.0)
    with pytest.raises(ZeroDivisionError) as eager_error:
        Value(0.0).sqrt().backward()
    for grads in (True, False):
        with pytest.raises(ZeroDivisionError, match=r"^batch sample 2: backward through sqrt\(0\.0\)") as e:
            tape.batch_value_and_grad(np.array([1.0, 4.0, 0.0, 0.0]), np.ones(4), input_grads=grads)
        assert str(e.value) == "batch sample 2: " + str(eager_error.value)
    # A gradient that overflows where float arithmetic gives inf: the batch gives eager's inf too.
    x = Value(1e-200)
    (x.log() * 1e300).backward()
    _, (g,), _ = trace(lambda a: a.log() * 1e300, 1.0).batch_value_and_grad(np.array([1.0, 1e-200]))
    assert g.tolist() == [1e300, x.grad] and x.grad == math.inf


def test_check_mode_checks_every_sample():
    tape = trace(lambda x: x * 2.0 if x.data > 0 else -x, 1.0, check=True)
    assert tape.batch(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]
    with pytest.raises(autograd.TraceMismatch):
        tape.batch(np.array([1.0, -2.0]))


def test_moons_mlp_replays_in_a_handful_of_numpy_groups():
    model = nn.MLP(2, [16, 16, 1], seed=0)

    def sample_loss(x0, x1, y):
        return (1 + -y * model([x0, x1])).relu()

    tape = trace(sample_loss, 0.5, -0.5, 1.0)
    assert tape.n_nodes == 16 + 16 + 16 + 16 + 1 + 4
    groups = tape.batch_groups()
    assert len(groups) == tape.numpy_calls() == 9  # neg(y), then layer by layer, then the hinge
    dots = [(k, how) for op, k, how in groups if op == "dot"]
    assert dots == [(16, "matrix product"), (16, "matrix product"), (1, "matrix product")]
    assert "z1 = W_layers_0.T @ X[0:2] + b_layers_0[:, None]" in tape.batch_source()  # weights x shared inputs
    X = np.random.default_rng(0).normal(size=(50, 2))
    y = np.sign(X[:, 0])
    values, _, _ = tape.batch_value_and_grad(X[:, 0], X[:, 1], y, input_grads=False)
    expected = [sample_loss(Value(a), Value(b), Value(c)).data for (a, b), c in zip(X, y)]
    assert np.allclose(values, expected, rtol=1e-12, atol=1e-15)


def test_has_aux_and_constant_outputs_in_a_batch():
    w = Value(2.0)
    tape = trace(lambda x: ((w * x) ** 2, [w * x, Value(7.0)]), 3.0, has_aux=True)
    (loss, (pred, seven)), grads, pg = tape.batch_value_and_grad(np.array([3.0, 1.0]))
    assert loss.tolist() == [36.0, 4.0] and pred.tolist() == [6.0, 2.0] and seven.tolist() == [7.0, 7.0]
    assert grads[0].tolist() == [24.0, 8.0] and pg.tolist() == [40.0]


def test_shared_weights_and_duplicate_parents_scatter_correctly():
    w = [Value(0.3), Value(-0.2)]

    def f(a, b):
        # The same weights in several dot nodes, an input used twice in one node, and sums of repeats.
        h1 = autograd.dot(w, [a, a])
        h2 = autograd.dot(w, [b, a], 0.1)
        h3 = autograd.dot([h1, h2], [h2, h1])
        return autograd.sum([h1, h1, h3]) + autograd.logsumexp([h1, h2, h3])

    _batched_equals_eager(f, [0.4, -0.7], [0.0, 0.5, -1.0], w)


def test_weights_stored_input_by_input_are_a_plain_view_of_theta():
    """A layer whose weights lie input by input in theta (a column of W after another): the view needs no
    transpose, and its gradient is written through the same view."""
    W = [[Value(0.1 * (4 * i + j) - 0.5) for j in range(4)] for i in range(3)]

    def f(a, b, c):
        return autograd.sum([autograd.dot([W[i][j] for i in range(3)], [a, b, c]).tanh() for j in range(4)])

    _batched_equals_eager(f, [0.3, -0.2, 0.5], [0.0, 0.5, -1.0], [w for row in W for w in row])
    source = trace(f, 0.3, -0.2, 0.5).batch_source()
    assert "theta[0:12].reshape(3, 4)\n" in source and "grad[0:12].reshape(3, 4)[...] = " in source, source


def test_a_layer_applied_twice_sets_its_weight_gradient_once_then_adds():
    """The first write of a weight block's gradient sets it (``=``); the layer's second use adds (``+=``)."""
    layer = nn.MLP(3, [3], activation="tanh", seed=0).layers[0]

    def f(a, b, c):
        return autograd.sum(layer(layer([a, b, c])))

    _batched_equals_eager(f, [0.4, -0.7, 0.2], [0.0, 0.5, -1.0], layer.parameters())
    source = trace(f, 0.4, -0.7, 0.2).batch_source().splitlines()
    writes = [line.split()[-2] for line in source if line.strip().startswith("grad[0:12]") and "dW" in line]
    assert writes == ["=", "+="], source


def test_a_layer_applied_once_writes_its_weight_gradient_in_place():
    """The only write of a weight block's gradient: BLAS writes dz xᵀ into grad's untransposed view (no
    temporary, no copy), the same numbers as eager."""
    layer = nn.MLP(3, [3], activation="tanh", seed=0).layers[0]

    def f(a, b, c):
        return autograd.sum(layer([a, b, c]))

    _batched_equals_eager(f, [0.4, -0.7, 0.2], [0.0, 0.5, -1.0], layer.parameters())
    source = trace(f, 0.4, -0.7, 0.2).batch_source()
    assert "    np.matmul(dz1, X.T, out=grad[0:12].reshape(3, 4)[:, :3])  # dW_layers_0ᵀ, in place\n" in source, source
    assert "dW_layers_0 =" not in source, source


def test_gradients_to_one_row_from_every_node_of_a_group_add_up():
    w = [Value(0.5), Value(-1.0), Value(2.0)]

    def f(a, b, c):
        z = [w[0] * a, w[1] * b, w[2] * c]
        lse = autograd.logsumexp(z)
        # every node of the sub group reads lse (summed per position) beside its own z; then the same
        # input both in a position all nodes share and in another (summed in sorted segments)
        first = autograd.sum([lse - zi for zi in z])
        second = autograd.sum([b - a, c - a, a - a])
        return first * second + autograd.sum([zi * zi for zi in z])

    _batched_equals_eager(f, [0.3, -0.8, 1.1], [0.0, 0.25, -0.5, 1.0], w)


def test_custom_nary_op_with_each_batches_like_eager():
    sumsq = autograd.defop("sumsq_batch", arity=None,
                           forward=lambda m, *xs: m.sum(m.each(lambda x: x * x, xs)),
                           partials=lambda m, out, *xs: m.each(lambda x: 2.0 * x, xs))
    try:
        w = Value(0.7)
        _batched_equals_eager(lambda a, b: sumsq(a, w * b, a * b), [0.4, -1.2], [0.0, 0.5, -2.0], [w])
    finally:
        del autograd.ops.OPS["sumsq_batch"]


def test_parameters_updated_between_batch_replays_are_seen():
    w = Value(1.0)
    tape = trace(lambda x: w * x, 0.0)
    xs = np.array([1.0, 2.0])
    assert tape.batch(xs).tolist() == [1.0, 2.0]
    w.data = -3.0
    assert tape.batch(xs).tolist() == [-3.0, -6.0]


def test_replay_with_input_grads_is_batch_value_and_grad_on_an_array_touching_no_value():
    w = Value(0.5)
    tape = trace(lambda x, y: (w * x).tanh() * y, 0.0, 0.0)
    X = np.array([[0.3, -1.2, 2.0], [-0.7, 0.4, 0.1]])
    out, gin, pg = tape.replay(X, np.array([-2.0]), input_grads=True)
    assert w.grad == 0.0 and w.data == 0.5  # the array's numbers, not the Value's
    w.data = -2.0
    values, (gx, gy), pw = tape.batch_value_and_grad(X[0], X[1])  # the same program: the same numbers
    assert out[0].tolist() == values.tolist() and gin.tolist() == [gx.tolist(), gy.tolist()]
    assert pg.tolist() == pw.tolist() == [w.grad]


def test_replay_scale_seeds_the_backward_pass_on_the_fast_and_the_careful_path():
    """``scale`` multiplies every gradient a replay returns (fit passes 1/B: the mean's) and no output;
    a power of two scales exactly, so the numbers are compared with ``==``."""
    w = Value(0.5)
    tape = trace(lambda x, y: (w * x).tanh() * y, 0.0, 0.0)
    finite = np.array([[0.3, -1.2, 2.0], [-0.7, 0.4, 0.1]])
    for X in (finite, np.array([[0.3, -1.2, math.inf], [-0.7, 0.4, 0.1]])):  # an inf: the careful path
        out, gin, pg = tape.replay(X, np.array([-2.0]), input_grads=True)
        out4, gin4, pg4 = tape.replay(X, np.array([-2.0]), input_grads=True, scale=0.25)
        assert np.array_equal(out4, out)
        assert np.array_equal(gin4, gin * 0.25, equal_nan=True) and np.array_equal(pg4, pg * 0.25, equal_nan=True)
        assert np.isfinite(gin[:, :2]).all() and (gin[:, :2] != 0).all()  # numbers the comparison can see


def test_divergence_through_the_tape_is_reported_and_the_model_kept():
    X, y = np.array([[1.0], [2.0]]), np.array([1.0, 3.0])
    model = nn.MLP(1, [1], seed=0)
    with pytest.raises(nn.DivergenceError, match="epoch"):
        nn.fit(model, X, y, loss="mse", optimizer=nn.optim.SGD(model.parameters(), lr=1e160), epochs=5,
               progress=False, compile=True)
    assert all(np.isfinite(p.data) and p.grad == 0.0 for p in model.parameters())


def test_identical_nodes_are_computed_once_and_their_gradients_add_up():
    """Common subexpressions (same op of the same slots, equal constants) share one row in a batch replay."""
    from autograd import trace

    def f(x, y):
        a, b = (x * y).tanh(), (x * y).tanh()  # two nodes, one computation
        return a * 3.0 + b * 2.0 + (x * 3.0).exp() + (x * 3.0).exp()

    tape = trace(f, 0.3, -0.7)
    xs, ys = np.array([0.3, -1.2, 2.0]), np.array([-0.7, 0.4, 0.1])
    out, (gx, gy), _ = tape.batch_value_and_grad(xs, ys)
    for b in range(3):
        x, y = Value(xs[b]), Value(ys[b])
        e = f(x, y)
        e.backward()
        assert out[b] == pytest.approx(e.data, rel=1e-15)
        assert (gx[b], gy[b]) == pytest.approx((x.grad, y.grad), rel=1e-14)
    # x*y, its tanh, x*3.0 and its exp appear twice each but are evaluated once: 13 nodes, 9 computations
    assert tape.n_nodes == 13
    assert sum(k for _, k, _ in tape.batch_groups()) == 9


def test_a_rule_that_changes_a_result_in_place_replays_like_eager():
    """The fast replay remembers a group's forward results for its partials (read-only): a rule that
    adds into one (``s += ...``, in place on arrays) is then computed without remembering."""
    def forward(m, *xs):
        s = m.exp(xs[0])
        for x in xs[1:]:
            s += m.exp(x)
        return m.log(s)

    def partials(m, out, *xs):
        s = m.exp(xs[0])
        for x in xs[1:]:
            s += m.exp(x)
        return tuple(m.exp(x) / s for x in xs)

    lse = autograd.defop("lse_in_place", arity=None, forward=forward, partials=partials)
    try:
        w = Value(0.7)
        for _ in range(3):  # the first replay finds out, the later ones use what it found
            _batched_equals_eager(lambda a, b: lse(a, w * b, a * b), [0.4, -1.2], [0.0, 0.5, -2.0], [w])
    finally:
        del autograd.ops.OPS["lse_in_place"]


def test_the_fast_replay_keeps_the_careful_passs_numbers():
    """The generated batch program, with the columns read where they are, gives the numbers its careful
    variant (every group checked) gives, replay after replay, whatever memory layout the columns come
    in (the promise: REPLAY_ULPS); it computes logsumexp's exps once (its partials reuse its forward's)."""
    X, y = nn.datasets.digits()
    model = nn.MLP(64, [8, 10], seed=0)

    def f(*xs):
        out = model(list(xs[:64]))
        return autograd.logsumexp(out) - out[3]

    tape = trace(f, *X[0])
    params = np.array([p.data for p in tape.params])
    rng = np.random.default_rng(0)
    for B in (5, 7, 5, 1):
        cols = X[rng.integers(0, len(X), B)].T.copy()
        fast = tape.replay(cols, params)
        for same in (list(cols), np.asfortranarray(cols), cols):  # copied, or read where they are
            again = tape.replay(same, params)
            assert_replay_close(again[0], fast[0])
            assert_replay_close(again[1], fast[1])
        careful = careful_pass(tape, cols, params)
        assert_replay_close(fast[0], careful[0])
        assert_replay_close(fast[1], careful[2])
    assert tape.batch_source().count("exp(") == 1  # logsumexp's partials reuse its forward's exps


def test_a_layer_read_whole_by_the_next_one_is_passed_on_without_a_copy():
    """The fast replay hands a group's array to the one group that reads it whole (a layer to the
    next); a rule whose result is not one number per node and sample (a constant) still goes
    through V, and both give the eager numbers."""
    half = autograd.defop("half_const", forward=lambda m, x: 0.5, partials=lambda m, out, x: (0.0,))
    try:
        w = [Value(0.1 * i - 0.3) for i in range(6)]

        def f(a, b):
            hidden = [(a * w[i] + b).tanh() for i in range(3)]  # read whole by the dot below
            consts = [half(h) for h in hidden]
            return autograd.dot(hidden, w[3:], 0.2) + autograd.dot(consts, w[:3])

        for _ in range(2):
            _batched_equals_eager(f, [0.4, -1.2], [0.0, 0.5, -2.0], w)
    finally:
        del autograd.ops.OPS["half_const"]


def digits_masked_loss():
    """``(X, y, f, tape)``: the digits, and the graph fit traces for them: a 64-8-10 layer, the ten
    per-class losses ``logsumexp(z) - z_k`` and one dot with the 0/1 target masks (inputs 64..73)."""
    X, y = nn.datasets.digits()
    model = nn.MLP(64, [8, 10], seed=0)

    def f(*xs):
        z = model(list(xs[:64]))
        return autograd.dot(xs[64:], [autograd.logsumexp(z) - z[k] for k in range(10)])

    return X, y, f, trace(f, *X[0], *np.eye(10)[y[0]])


def test_fits_masked_loss_replays_as_the_careful_pass_from_a_row_per_sample_array():
    """The graph fit traces (a layer, the ten per-class losses ``logsumexp(z) - z_k`` with logsumexp
    read beside every logit, and one dot with the 0/1 masks), fed as fit feeds it: the transpose of
    an array with a row per sample, read in place and refilled in place, with ``finite=True``.  Every
    replay keeps the careful pass's numbers (REPLAY_ULPS), also after the array is refilled."""
    X, y, f, tape = digits_masked_loss()
    params = np.array([p.data for p in tape.params])
    rng = np.random.default_rng(1)
    rows = np.empty((9, 74))  # a row per sample; the tape reads rows.T
    for _ in range(3):
        pick = rng.integers(0, len(X), 9)
        rows[:, :64], rows[:, 64:] = X[pick], np.eye(10)[y[pick]]  # refilled in place: the same array
        out, pg = tape.replay(rows.T, params, finite=True)
        careful = careful_pass(tape, rows.T, params)
        assert_replay_close(out, careful[0])
        assert_replay_close(pg, careful[2])
        eager_loss = [f(*map(Value, r)).data for r in rows]
        np.testing.assert_allclose(out[0], eager_loss, rtol=1e-13)


def test_a_wide_layer_replays_as_the_careful_pass():
    """fit's masked loss over a 784-wide first layer (a Fashion-MNIST image) on normal inputs, where
    a matrix product's long sums cancel: still within REPLAY_ULPS of each array's largest magnitude."""
    rng = np.random.default_rng(2)
    model = nn.MLP(784, [16, 10], seed=0)

    def f(*xs):
        z = model(list(xs[:784]))
        return autograd.dot(xs[784:], [autograd.logsumexp(z) - z[k] for k in range(10)])

    tape = trace(f, *rng.normal(size=784), *np.eye(10)[0])
    params = np.array([p.data for p in tape.params])
    for B in (9, 64):
        rows = np.concatenate([rng.normal(size=(B, 784)), np.eye(10)[rng.integers(0, 10, B)]], axis=1)
        out, pg = tape.replay(rows.T, params, finite=True)
        careful = careful_pass(tape, rows.T, params)
        assert_replay_close(out, careful[0])
        assert_replay_close(pg, careful[2])


def _openblas_kernel(core):
    """The kernel numpy's OpenBLAS runs when OPENBLAS_CORETYPE=core (it falls back to its own pick
    for a name it does not know or a kernel this CPU cannot run), or None without OpenBLAS."""
    probe = ("import json, numpy, threadpoolctl\n"
             "print(json.dumps([i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']))")
    env = {**os.environ, "OPENBLAS_CORETYPE": core}  # overrides a core type set by the environment
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    import json

    libs = json.loads(done.stdout)
    blas = [lib for lib in libs if lib["internal_api"] == "openblas"]
    return (blas[0].get("architecture"), blas[0].get("version")) if blas else (None, libs)


@pytest.mark.parametrize("core", ["Haswell", "SkylakeX"])
def test_the_replay_promise_holds_under_each_openblas_kernel(core):
    """The replay-equality tests, run in a fresh process under each of two OpenBLAS kernels whose
    matrix products sum in different orders (a CI machine may get either)."""
    kernel, version = _openblas_kernel(core)
    if kernel is None:
        pytest.skip(f"numpy's BLAS is not OpenBLAS ({version}): OPENBLAS_CORETYPE does not apply")
    if kernel.lower() != core.lower():
        pytest.skip(f"OpenBLAS {version} runs {kernel} when asked for {core} (unknown to it, or not "
                    f"supported by this CPU)")
    tests = [f"{__file__}::{name}" for name in (
        "test_the_fast_replay_keeps_the_careful_passs_numbers",
        "test_fits_masked_loss_replays_as_the_careful_pass_from_a_row_per_sample_array",
        "test_a_wide_layer_replays_as_the_careful_pass")]
    env = {**os.environ, "OPENBLAS_CORETYPE": core}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], env=env,
                          capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))))
    # (from the repository's root: there `autograd` is the package, not the tests' folder of that name)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


def test_a_rule_that_adds_into_its_own_result_replays_a_row_shared_by_the_group():
    """Every node of a group reading the same row (here ``s``) gets it in the shape a gather would
    give, so a rule that updates its own result in place (``s += b``) works as in eager."""
    def fwd(m, a, b):
        s = m.exp(a)
        s = s * 1.0
        s += b
        return s

    op = autograd.defop("exp_plus_in_place", arity=2, forward=fwd, partials=lambda m, out, a, b: (m.exp(a), 1.0))
    try:
        def f(x0, x1, x2, x3):
            s = x0 * x1
            return autograd.sum([op(s, x1), op(s, x2), op(s, x3)])

        X = np.random.default_rng(0).uniform(0.5, 1.5, size=(4, 4))
        tape = trace(f, *X[0])
        for _ in range(2):  # the bound replay, then again with its arrays reused
            np.testing.assert_allclose(tape.batch(*X.T), [f(*map(Value, row)).data for row in X], rtol=1e-14)
    finally:
        del autograd.ops.OPS["exp_plus_in_place"]


def test_replays_of_other_batch_sizes_in_between_give_the_same_numbers():
    w = [Value(0.3), Value(-0.2)]

    def f(a, b):
        return (a * w[0] + b * w[1]).tanh()

    tape = trace(f, 0.1, 0.2)
    cols = np.array([[0.1, 0.5, -1.0], [0.2, 0.0, 3.0]])
    params = np.array([p.data for p in tape.params])
    before = tape.replay(cols, params)
    tape.replay(cols[:, :1], params)
    after = tape.replay(cols, params)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


@pytest.mark.skipif(expressions is None, reason="autograd.testing.strategies not available")
@SETTINGS
@given(st.data())
def test_the_generated_program_equals_its_careful_variant_on_random_graphs(data):
    """The batch program and its careful variant (every group checked) run the same numpy calls: on
    random graphs with parameters and a user op (its rules called as they are) they agree exactly."""
    f, inputs = data.draw(expressions(n_inputs=3, max_nodes=12))
    w = Value(data.draw(st.floats(-1, 1)))
    sumsq = autograd.ops.Op("sumsq_generated", lambda m, *xs: m.sum(m.each(lambda x: x * x, xs)),
                            lambda m, out, *xs: m.each(lambda x: 2.0 * x, xs), "sumsq", arity=None)
    tape = trace(lambda a, b, c: f(a, b, c) * w + sumsq(a, w * b), *inputs)
    cols = np.array([[x + d for d in (0.0, 1e-4, -2e-4)] for x in inputs])
    params = np.array([p.data for p in tape.params])
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        try:
            fast = tape._plan(False)._program(False)(cols, params, True)
        except FloatingPointError:
            return  # not all finite: the careful variant alone answers (tested against eager above)
    careful = careful_pass(tape, cols, params)
    assert np.array_equal(fast[0], careful[0]) and np.array_equal(fast[2], careful[2])
    assert "(nb, " in tape.batch_source()  # the user op: its rules called on the numpy backend


_FAILING_OPS = [lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b, lambda a, b: a.log(),
                lambda a, b: a ** 0.5, lambda a, b: (a * 300.0).exp(), lambda a, b: a.tanh()]


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, len(_FAILING_OPS) - 1), st.integers(0, 99), st.integers(0, 99)),
                min_size=1, max_size=8),
       st.lists(st.lists(st.sampled_from([0.0, 1.0, -1.0, 2.5, -0.5, 4.0]), min_size=2, max_size=2),
                min_size=1, max_size=6))
def test_a_batch_gives_each_sample_eagers_numbers_or_the_first_failing_samples_error(steps, samples):
    """Graphs of ops that refuse some inputs, on samples some of which fail: the batch returns what
    per-sample calls return, or raises the error of the first sample whose call raises."""
    def f(x, y):
        pool = [x, y]
        for op, i, j in steps:
            pool.append(_FAILING_OPS[op](pool[i % len(pool)], pool[j % len(pool)]))
        return pool[-1]

    try:
        tape = trace(f, 1.0, 2.0)
    except (ArithmeticError, ValueError):
        return  # the example itself fails: nothing to trace
    eager_results = []
    for x, y in samples:
        try:
            eager_results.append(tape.value_and_grad(x, y))
        except (ArithmeticError, ValueError) as e:
            eager_results.append(e)
            break
    cols = np.array(samples, dtype=float).T
    if isinstance(eager_results[-1], Exception):
        with pytest.raises(type(eager_results[-1])) as e:
            tape.batch_value_and_grad(*cols)
        assert str(e.value) == f"batch sample {len(eager_results) - 1}: " + str(eager_results[-1]).split(": ", 1)[1]
        return
    values, grads, _ = tape.batch_value_and_grad(*cols)
    for b, (value, g) in enumerate(eager_results):
        # numpy sums in its own order: a gradient that cancels to 0 eagerly may be 4e-16 in the batch (and the
        # other way round), so the tolerance scales with the sample's largest number, as docs/compiler.md says
        scale = max(1.0, *(abs(x) for x in (value, *g)))
        np.testing.assert_allclose([values[b], *np.asarray(grads)[:, b]], [value, *g], rtol=1e-12,
                                   atol=1e-12 * scale)
