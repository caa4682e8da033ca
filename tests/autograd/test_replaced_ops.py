"""Replacing an op changes only what its name makes from then on: the built-in rules keep the built-in
rules they were written with (softplus' derivative is the built-in sigmoid), on every backend, and a
replaced ``dot`` takes the batch evaluator's generic path."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from op_cases import CASES

import autograd
from autograd import Value, defop, hessian, jvp, ops, trace
from autograd.table import BUILTINS

PARAMS = {"leaky_relu": {"alpha": 0.1}, "elu": {"alpha": 0.7}, "pow_const": {"n": 3.0}}
ARITY = {"sum": 3, "dot": 5, "logsumexp": 3}


def _point(name):
    """A point inside the op's domain, away from its kinks (tests/autograd/op_cases.py's intervals)."""
    intervals = CASES[name][2] if name in CASES else [(-2.0, 2.0)] * ARITY.get(name, BUILTINS[name].arity or 2)
    return [lo + (hi - lo) * (0.31 + 0.17 * i) for i, (lo, hi) in enumerate(intervals)]


def _builtin(name):
    op, params = BUILTINS[name], PARAMS.get(name, {})
    return lambda *xs: op(*xs, **params)


def _every_backend(name):
    """The values and gradients of the built-in op ``name`` at its point, on every backend: eager
    floats, Values (create_graph: first and second derivatives), forward mode, a tape's generated
    code and its numpy batch.  Each number here is computed by the same code before and after a
    replacement of another op, so the comparison is exact."""
    f, x = _builtin(name), _point(name)
    vs = [Value(a) for a in x]
    out = f(*vs)
    out.backward()
    got = {"eager": [out.data] + [v.grad for v in vs]}
    vs = [Value(a) for a in x]
    out = f(*vs)
    out.backward(create_graph=True)
    got["on values"] = [v.grad.data if isinstance(v.grad, Value) else v.grad for v in vs]
    if name not in ("relu", "abs", "maximum", "minimum", "leaky_relu"):  # at the point: smooth
        got["second"] = [h for row in hessian(f)(*x) for h in row]
    got["forward"] = [jvp(f, tuple(x), tuple(float(i == j) for j in range(len(x))))[1] for i in range(len(x))]
    tape = trace(f, *x)
    value, grads = tape.value_and_grad(*x)
    got["tape"] = [value, *grads]
    cols = [np.array([a, a + 0.01]) for a in x]
    values, grads, _ = tape.batch_value_and_grad(*cols)
    got["batch"] = [*values.tolist(), *(g for col in grads for g in col.tolist())]
    return got


def _doubled(name):
    """A different rule for ``name``: twice the built-in one (value and derivatives)."""
    op = BUILTINS[name]
    return dict(forward=lambda m, *xs, **kw: 2.0 * op.forward(m, *xs, **kw),
                partials=lambda m, out, *xs, **kw: tuple(2.0 * d for d in op.rule(m, 0.5 * out, *xs, **kw)),
                arity=op.arity, params=op.params)


def _same(name):
    """The built-in rule for ``name``, declared again (an equal rule, another op object)."""
    op = BUILTINS[name]
    return dict(forward=op.forward, partials=op.rule, arity=op.arity, params=op.params)


BEFORE = {}


def _before(name):
    if name not in BEFORE:
        BEFORE[name] = _every_backend(name)
    return BEFORE[name]


@pytest.mark.parametrize("rule", ["equal", "different"])
@pytest.mark.parametrize("replaced", sorted(BUILTINS))
def test_replacing_a_builtin_leaves_every_other_op_unchanged_on_every_backend(replaced, rule):
    others = [name for name in sorted(BUILTINS) if name != replaced]
    before = {name: _before(name) for name in others}
    x = _point(replaced)
    old = _builtin(replaced)(*x).data
    new = defop(replaced, replace=True, **(_same if rule == "equal" else _doubled)(replaced))
    assert ops.OPS[replaced] is new and BUILTINS[replaced] is not new
    made = new(*x, **PARAMS.get(replaced, {})).data  # what the name makes from now on
    assert made == (old if rule == "equal" else 2.0 * old)
    for name in others:
        assert _every_backend(name) == before[name], (replaced, rule, name)


# --- the cases the hostile tester found ------------------------------------------------------------------
def _half_sigmoid(symbol=None):
    return defop("sigmoid", replace=True, forward=lambda m, x: 0.5 * m.exp(-m.abs(x)) + 0.2,
                 partials=lambda m, out, x: (0.7,), symbol=symbol)


def test_softplus_built_before_sigmoid_is_replaced_keeps_the_builtin_derivative():
    x = Value(1.0)
    y = x.softplus()
    _half_sigmoid()
    y.backward()
    assert x.grad == 1.0 / (1.0 + math.exp(-1.0))  # 0.731..., not the new sigmoid's 0.7


def test_softplus_and_swish_made_after_sigmoid_is_replaced_use_the_builtin_sigmoid_on_every_backend():
    want = {name: _every_backend(name) for name in ("softplus", "swish")}
    _half_sigmoid()
    assert Value(1.0).sigmoid().data != 1.0 / (1.0 + math.exp(-1.0))  # the name makes the new op
    for name in ("softplus", "swish"):
        assert _every_backend(name) == want[name]
    x = Value(1.0)
    x.softplus().backward()  # through the Value method: softplus was not replaced, its rule is the built-in's
    assert x.grad == 1.0 / (1.0 + math.exp(-1.0))


def test_a_replaced_mul_does_not_change_second_derivatives_of_tanh():
    """Built-in rules evaluated on Values (create_graph) build their graphs from built-in arithmetic."""
    want = hessian(lambda x: x.tanh())(0.4)
    defop("mul", replace=True, arity=2, forward=lambda m, a, b: 3.0 * (a * b),
          partials=lambda m, out, a, b: (3.0 * b, 3.0 * a))
    assert (Value(2.0) * Value(3.0)).data == 18.0
    assert hessian(lambda x: x.tanh())(0.4) == want


def test_a_replaced_dot_takes_the_generic_batch_path():
    """dot scaled by 0.5: a valid rule the batch evaluator must not treat as the built-in matrix product."""
    dot = BUILTINS["dot"]
    defop("dot", replace=True, arity=None, forward=lambda m, *a: 0.5 * dot.forward(m, *a),
          partials=lambda m, out, *a: tuple(0.5 * d for d in dot.rule(m, 2.0 * out, *a)))
    w = [Value(0.3), Value(-0.2)]

    def f(a, b):
        return autograd.dot(w, [a, b], 0.1).tanh()

    tape = trace(f, 0.1, 0.2)
    assert all(kind == "array op" for _, _, kind in tape.batch_groups())
    cols = [np.array([0.1, 0.5, -1.0]), np.array([0.2, 0.0, 3.0])]
    values, grads, pgrads = tape.batch_value_and_grad(*cols)
    for b in range(3):
        a, c = Value(cols[0][b]), Value(cols[1][b])
        ws = [Value(0.3), Value(-0.2)]
        out = (autograd.dot(ws, [a, c], 0.1)).tanh()
        out.backward()
        assert out.data == pytest.approx(math.tanh(0.5 * (0.3 * cols[0][b] - 0.2 * cols[1][b] + 0.1)), rel=1e-15)
        np.testing.assert_allclose([values[b], grads[0][b], grads[1][b]], [out.data, a.grad, c.grad], rtol=1e-14)


def test_the_builtin_dot_still_contracts_as_a_matrix_product():
    w = [Value(0.3), Value(-0.2)]
    tape = trace(lambda a, b: autograd.dot(w, [a, b]).tanh(), 0.1, 0.2)
    assert any(kind == "matrix product" for _, _, kind in tape.batch_groups())


def test_a_tape_keeps_the_op_it_traced_and_a_checked_tape_sees_the_replacement():
    """A tape is like nodes already built: it keeps the sigmoid it traced; with check=True the
    eager re-run now makes another op, which is a changed graph (TraceMismatch naming the node)."""
    plain, checked = trace(lambda x: x.sigmoid(), 0.3), trace(lambda x: x.sigmoid(), 0.3, check=True)
    want = 1.0 / (1.0 + math.exp(-0.3))
    _half_sigmoid(symbol="σ")  # drawn as the built-in one: only the op itself tells them apart
    assert plain(0.3) == pytest.approx(want, rel=1e-15)
    with pytest.raises(autograd.TraceMismatch, match=r"node #0 is 'σ' as replaced since the trace"):
        checked(0.3)
    assert trace(lambda x: x.sigmoid(), 0.3)(0.3) == 0.5 * math.exp(-0.3) + 0.2  # a new trace: the new op


def test_a_replaced_dot_is_drawn_without_the_builtins_weight_and_input_names():
    """draw_dot names the built-in dot's inputs w1.., x1.., b; a dot of another meaning (here a*b*c) is
    drawn as any op, its three inputs not called w1, x1, b."""
    from autograd import draw_dot

    def labels(y):
        return re.findall(r'label="?(\w+)"?\]', draw_dot(y).source)

    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    assert labels(autograd.dot([a], [b], c)) == ["w1", "x1", "b"]
    defop("dot", replace=True, arity=3, forward=lambda m, x, y, z: x * y * z,
          partials=lambda m, out, x, y, z: (y * z, x * z, x * y))
    y = autograd.dot([a], [b], c)
    assert y.data == 6.0 and not {"w1", "x1", "b"} & set(labels(y))


def test_the_cli_graph_calls_only_the_builtin_dot_w_x_plus_b():
    """nn's loss graph summarises a neuron as a table with a row "w·x+b"; a replaced dot (here halved)
    is not w·x+b, so its nodes are drawn as they are, under their op's name."""
    import nn
    from nn import loss_graph

    def source():
        model = nn.MLP(2, [2, 1], seed=0)
        loss = (model([Value(0.5, label="x[0]"), Value(-1.0, label="x[1]")]) - 1.0) ** 2
        loss.backward()
        return loss_graph.loss_graph_dot(loss, "one sample", None)[0]

    assert "<td>w·x+b</td>" in source()
    dot = BUILTINS["dot"]
    defop("dot", replace=True, arity=None, forward=lambda m, *a: 0.5 * dot.forward(m, *a),
          partials=lambda m, out, *a: tuple(0.5 * d for d in dot.rule(m, 2.0 * out, *a)))
    drawn = source()
    assert "w·x+b" not in drawn and "label=<dot: " in drawn
