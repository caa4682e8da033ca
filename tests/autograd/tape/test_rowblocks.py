"""Tape.replay with the inputs given as blocks of rows (RowBlocks) is replay on the stacked array."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tape import small_expressions
from test_tape_batch import digits_masked_loss

import autograd
import nn
from autograd import Value, trace
from autograd.tape.rowblocks import RowBlocks

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


def _reads_by_rows(source: str) -> bool:
    """The oracle for the generator's own answer: whether ``source`` reads ``X`` only as rows (``X[...]``)
    and ``X.shape``, never whole, by walking its syntax tree."""
    tree = ast.parse(source)
    names = sum(isinstance(x, ast.Name) and x.id == "X" for x in ast.walk(tree))
    by_rows = sum(isinstance(x.value, ast.Name) and x.value.id == "X" and not isinstance(x.slice, ast.Tuple)
                  if isinstance(x, ast.Subscript) else isinstance(x, ast.Attribute) and x.attr == "shape"
                  and isinstance(x.value, ast.Name) and x.value.id == "X" for x in ast.walk(tree))
    return names == by_rows


def _by_rows(tape) -> bool:
    """What the batch plan was told by the generator, checked against the program's text."""
    plan = tape._plan(True)
    plan._program(False)
    assert plan._by_rows() == _reads_by_rows(plan.source())
    return plan._by_rows()


def _replays_equal(tape, blocks, params, input_grads=True):
    """Replay on ``blocks`` == replay on them stacked, bit for bit (C-order blocks: every read has the
    stacked array's memory layout, so the same kernels compute both)."""
    stacked = np.concatenate(blocks)
    got = tape.replay(blocks, params, input_grads=input_grads)
    want = tape.replay(stacked, params, input_grads=input_grads)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert np.array_equal(g, w, equal_nan=True)


@SETTINGS
@given(small_expressions(n_inputs=4), st.lists(st.integers(0, 4), min_size=1, max_size=3),
       st.lists(st.floats(-1, 1), min_size=2, max_size=2))
def test_random_graphs_replay_blocks_as_the_stacked_array(case, cuts, pdata):
    f, inputs = case
    params = [Value(v) for v in pdata]
    g = lambda a, b, c, d: f(a * params[0], b + params[1], c, d) * params[0]  # noqa: E731
    tape = trace(g, *inputs)
    X = np.array([[x + d for d in (0.0, 0.3, -0.5, 1.1, 2.0)] for x in inputs])
    _replays_equal(tape, np.split(X, sorted(cuts)), np.array([p.data for p in tape.params]))
    _by_rows(tape)  # the generator's answer agrees with the program's text


def test_a_read_spanning_blocks_and_a_whole_read():
    """A layer over rows 0-3 read from blocks of 2 and 3 rows (concatenated for that read); a layer
    reading every input (``X`` whole, a matrix product's operand: the blocks are stacked first)."""
    model = nn.MLP(4, [3], seed=0)
    spanning = trace(lambda *xs: autograd.sum(model(list(xs[:4]))) * xs[4], *[0.5] * 5)
    whole = trace(lambda *xs: autograd.sum(model(list(xs))), *[0.5] * 4)
    X = np.random.default_rng(0).normal(size=(5, 6))
    theta = np.array([p.data for p in model.parameters()])
    assert _by_rows(spanning) and not _by_rows(whole)
    _replays_equal(spanning, [X[:2], X[2:]], theta)
    _replays_equal(whole, [X[:1], X[1:4]], theta)


def test_row_blocks_read_as_the_array_they_stack_to():
    A = np.random.default_rng(0).normal(size=(13, 5))
    rng = np.random.default_rng(1)
    for cuts in ([3, 10], [0, 3, 3, 13], [1], [12], [5, 6, 7]):
        R = RowBlocks(np.split(A, cuts), 13, "test")
        assert R.shape == A.shape
        for a in range(-1, 15):
            for b in range(-1, 15):
                for step in (1, 2, 3, 5, -1):
                    assert np.array_equal(R[a:b:step], A[a:b:step]), (cuts, a, b, step)
        assert all(np.array_equal(R[i], A[i]) for i in range(13))
        for _ in range(30):
            idx = rng.integers(0, 13, size=rng.integers(1, 6)).astype(np.intp)
            assert np.array_equal(R[idx], A[idx])
    R = RowBlocks([A[:3], A[3:]], 13, "test")
    assert np.shares_memory(R[4:9], A) and np.shares_memory(R[1], A)  # inside one block: a view


def test_a_non_finite_input_in_a_block_raises_the_eager_error_naming_the_sample():
    tape = trace(lambda x, y, z: (x.log() + y) * z, 1.0, 1.0, 1.0)
    X = np.array([[1.0, 2.0, 0.0, 0.0], [1.0, np.inf, 1.0, 1.0], [3.0, 1.0, 2.0, 1.0]])
    errors = []
    for columns in (X, [X[:1], X[1:]], [X[:2], X[2:]]):
        with pytest.raises(ValueError) as caught:
            tape.replay(columns, np.empty(0))
        errors.append(str(caught.value))
    assert "batch sample 2" in errors[0] and errors[0] == errors[1] == errors[2]
    Y = X.copy()
    Y[0, 2:] = 1.0  # no error: inf carried on, as eager carries it
    _replays_equal(tape, [Y[:1], Y[1:]], np.empty(0))


@pytest.mark.parametrize("blocks", [
    [np.zeros((2, 4)), np.zeros((2, 4))],  # 4 rows for 3 inputs
    [np.zeros((1, 4)), np.zeros((2, 5))],  # two B
    [np.zeros((1, 4)), np.zeros(4), np.zeros(4)],  # a 1-D block
])
def test_wrong_blocks_are_a_one_line_error_naming_replay_and_the_shapes(blocks):
    tape = trace(lambda x, y, z: x * y + z, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"Tape\.replay: columns: blocks of rows") as caught:
        tape.replay(blocks, np.empty(0))
    message = str(caught.value)
    assert "\n" not in message and str(blocks[1].shape) in message and len(message) < 240


def test_fits_masked_tape_replays_blocks_as_the_stacked_array_bit_for_bit():
    """The graph fit traces fed as fit feeds it: a batch's pixel rows gathered and transposed, target
    masks from an identity matrix, against the transpose of one array with a row per sample."""
    X, y, _, tape = digits_masked_loss()
    theta = np.array([p.data for p in tape.params])
    rng = np.random.default_rng(1)
    for _ in range(3):
        pick = rng.integers(0, len(X), 9)
        blocks = [X[pick].T, np.eye(10)[y[pick]].T]
        rows = np.concatenate([X[pick], np.eye(10)[y[pick]]], axis=1)
        got, want = tape.replay(blocks, theta, finite=True), tape.replay(rows.T, theta, finite=True)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
