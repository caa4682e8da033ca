"""The lectures' worked examples, rebuilt as Value graphs, to their printed digits: LMU München, Machine Learning
Basics III (the ReLU network computing XOR); Imperial College London, Machine Learning part 4.2 (the network with
x = (4, -8, 4)); ETH Zürich, Introduction to Machine Learning tutorial, neural networks (the AND-table example)."""

import pytest

from autograd import Value, dot


def relu_layer(W, x, b=None):
    """Rows of W are the units' incoming weights."""
    return [dot(w, x, None if b is None else bi).relu() for w, bi in zip(W, b or [None] * len(W))]


@pytest.mark.parametrize("x1, x2, expected", [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_lmu_ml_basics_relu_network_computes_xor(x1, x2, expected):
    # f(x) = v^T relu(W^T x + b) with W = [[1, 1], [1, 1]], b = [0, -1], v = [1, -2]
    W = [[1.0, 1.0], [1.0, 1.0]]
    WT = [list(col) for col in zip(*W)]
    h = relu_layer(WT, [Value(x1), Value(x2)], [0.0, -1.0])
    f = dot([1.0, -2.0], h)
    assert f.data == expected


def imperial_worked_example_network():
    """Three inputs, hidden units a and b, output unit c; all ReLU. Weights from the slide."""
    w_a = [Value(0.25), Value(0.75), Value(0.75)]
    w_b = [Value(0.5), Value(0.125), Value(0.25, label="w_3b")]
    w_c = [Value(0.5), Value(0.125, label="w_bc")]
    return w_a, Value(1.0), w_b, Value(1.0), w_c, Value(0.5)


def test_imperial_worked_example_forward_loss_deltas_and_update():
    w_a, b_a, w_b, b_b, w_c, b_c = imperial_worked_example_network()
    x = [4.0, -8.0, 4.0]
    y = 2.0
    s_a, s_b = dot(w_a, x, b_a), dot(w_b, x, b_b)
    f_a, f_b = s_a.relu(), s_b.relu()
    s_c = dot(w_c, [f_a, f_b], b_c)
    f_c = s_c.relu()
    loss = 0.5 * (f_c - y) ** 2
    loss.backward()

    assert (f_a.data, f_b.data, f_c.data) == (0.0, 3.0, 0.875)
    assert round(loss.data, 2) == 0.63
    assert f_c.grad == -1.125  # dl/df_c = f_c - y
    assert s_c.grad == -1.125  # delta_c (relu' = 1 at s_c = 0.875)
    assert round(s_b.grad, 2) == -0.14  # delta_b = delta_c * w_bc
    assert s_b.grad == -1.125 * 0.125

    lr = 0.1
    w_3b = w_b[2]
    assert w_3b.grad == x[2] * s_b.grad  # dl/dw_3b = x_3 delta_b
    w_3b.data -= lr * w_3b.grad
    assert w_3b.data == pytest.approx(0.25 + 0.1 * 4 * 0.140625, abs=1e-15)


def eth_tutorial_and_network(W1, W2, x):
    z = [dot(row, x) for row in W1]
    v = [zi.relu() for zi in z]
    return z, v, dot(W2, v)


def test_eth_tutorial_and_example_gradients_update_and_new_output():
    W1 = [[Value(-0.9), Value(0.9)], [Value(0.0), Value(0.9)]]
    W2 = [Value(-0.9), Value(0.9)]
    x, y, lr = [1.0, 1.0], 1.0, 0.2

    z, v, f = eth_tutorial_and_network(W1, W2, x)
    loss = (y - f) ** 2
    loss.backward()

    assert [zi.data for zi in z] == pytest.approx([0.0, 0.9])
    assert f.data == pytest.approx(0.81, abs=1e-12)
    assert loss.data == pytest.approx(0.0361, abs=1e-12)
    assert [w.grad for w in W2] == pytest.approx([0.0, -0.342], abs=1e-12)
    # relu'(0) = 0 stops the gradient of the first hidden unit, as on the slide.
    assert [w.grad for row in W1 for w in row] == pytest.approx([0.0, 0.0, -0.342, -0.342], abs=1e-12)

    for w in [*W1[0], *W1[1], *W2]:
        w.data -= lr * w.grad
    assert [w.data for w in W2] == pytest.approx([-0.9, 0.9684], abs=1e-12)
    assert [w.data for row in W1 for w in row] == pytest.approx([-0.9, 0.9, 0.0684, 0.9684], abs=1e-12)

    _, _, f_new = eth_tutorial_and_network(W1, W2, x)
    assert round(f_new.data, 3) == 1.004
