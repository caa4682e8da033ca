"""The batch program's text: what the fast variant writes for finite numbers, and what stays as it was."""

from __future__ import annotations

import math

import numpy as np
from test_tape_batch import _batched_equals_eager, careful_pass

import autograd
from autograd import Value, trace
from autograd.tape.exprs import on_finite
from autograd.tape.symbols import Sym, render


def test_on_finite_drops_terms_that_are_0_or_1_on_finite_numbers():
    x, y = Sym.name("x"), Sym.name("y")
    top = Sym("call", "max", (x,))
    c = Sym("call", "finite_or", (top, 1e308))
    assert render(on_finite(top - c)) == "0.0"  # c is top: top - top is 0 for a finite top
    assert on_finite((x - 0.0) * 1.0 / 1.0 + 0.0) is x
    assert on_finite(0.0 + 1.0 * x) is x
    assert render(on_finite(y * Sym("call", "exp", (-(top - c),)))) == "y"  # exp(-0.0) folded to 1.0
    assert render(on_finite(x - y)) == "x - y"  # nothing else changes
    assert render(on_finite(x + 1.0)) == "x + 1.0"


def test_on_finite_writes_each_on_one_array_inline_and_leaves_a_tuple_or_a_constant_alone():
    a, t = Sym.name("a"), Sym.name("t")
    p = Sym.name("_x1")
    each = Sym("call", "each", (Sym("lambda", "_x1", (Sym("call", "exp", (p - t,)),)), a))
    rows = Sym("item", "0", (each, 2))  # a row of its result: sees the rewritten node
    assert render(on_finite(rows)) == "exp(a - t)[0]"
    on_tuple = Sym("call", "each", (Sym("lambda", "_x1", (p * 2.0,)), Sym("tuple", "", (a, t))))
    assert render(on_finite(on_tuple)) == "each(lambda _x1: _x1 * 2.0, (a, t,))"  # stacked at run time
    constant = Sym("call", "each", (Sym("lambda", "_x1", (2.0,)), a))
    assert render(on_finite(constant)) == "each(lambda _x1: 2.0, a)"  # repeated for each lane by each


def _cross_entropy_tape():
    w = [Value(0.3), Value(-0.7), Value(1.1)]

    def f(a, b, c, m0, m1, m2):
        z = [w[0] * a, w[1] * b, w[2] * c]  # one group: the logits are one block
        return autograd.logsumexp(z) - autograd.dot([m0, m1, m2], z)

    return trace(f, 0.5, -1.0, 2.0, 1.0, 0.0, 0.0), w


def test_the_fast_program_writes_logsumexp_as_softmax_the_careful_one_keeps_its_checks():
    tape, _ = _cross_entropy_tape()
    fast = tape.batch_source()
    careful = tape._plan(False).source(careful=True)
    assert "finite_or" not in fast and "each(" not in fast and fast.count("exp(") == 1, fast
    assert "finite_or(" in careful and "_check(" in careful, careful
    # the logits' block, read by logsumexp and by the dot with the masks, is made once
    assert fast.count("mul1.reshape(3, 1, B)") == 1 and "sumprod(dot1_in1, logsumexp1_in)" in fast, fast


def test_the_fast_program_gives_the_careful_numbers_and_eager_ones():
    tape, w = _cross_entropy_tape()
    rng = np.random.default_rng(0)
    B = 7
    masks = np.eye(3)[rng.integers(0, 3, B)].T
    cols = np.vstack([rng.normal(size=(3, B)) * 3.0, masks])
    params = np.array([p.data for p in tape.params])
    out, grad = tape.replay(cols, params)
    c_out, _, c_grad = careful_pass(tape, cols, params)
    assert np.array_equal(out, c_out) and np.array_equal(grad, c_grad)  # 0 and 1 terms: exact as numbers
    for b in range(B):  # and eager's loss for each sample
        x = cols[:, b].tolist()
        z = [p.data * v for p, v in zip(w, x)]
        want = math.log(sum(math.exp(v) for v in z)) - sum(m * v for m, v in zip(x[3:], z))
        assert abs(out[0, b] - want) <= 1e-12 * max(1.0, abs(want))


def test_the_inputs_gradient_is_made_by_its_first_write_when_that_is_a_new_array():
    square = trace(lambda v: v * v, 0.0).batch_source(input_grads=True)
    assert "dX = np.zeros" not in square and "    dX = dmul1 * X\n    dX += dmul1 * X\n" in square, square
    rows = trace(lambda a, b: (a * b).tanh() * b, 0.1, 0.2).batch_source(input_grads=True)
    assert "dX = np.zeros((2, B))" in rows, rows  # a row's write cannot make the whole array
    tape = trace(lambda v: v * v, 0.0)
    _, grads, _ = tape.batch_value_and_grad(np.array([0.5, -2.0, 3.0]))
    assert np.array_equal(grads[0], [1.0, -4.0, 6.0]) and grads[0].flags.writeable
    _batched_equals_eager(lambda a, b: (a * b).tanh() * b, [0.1, 0.2], [0.0, 0.3, -0.5])


def test_an_empty_batch_replays_to_empty_arrays():
    """B = 0: the contributions of an n-ary group are reshaped to their known number of rows, not -1 (which
    numpy cannot infer from an empty array: 'cannot reshape array of size 0 into shape (0)')."""
    tape, _ = _cross_entropy_tape()
    params = np.array([p.data for p in tape.params])
    X = np.empty((6, 0))
    for columns in (X, [X[:3], X[3:]]):
        out, gin, grad = tape.replay(columns, params, input_grads=True)
        assert out.shape == (1, 0) and gin.shape == (6, 0) and grad.tolist() == [0.0, 0.0, 0.0]
    assert ".reshape(-1, B)" not in tape.batch_source(input_grads=True)
