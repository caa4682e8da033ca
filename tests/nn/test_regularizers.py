"""nn.regularizers: l2 (LMU München, Machine Learning Basics III), l1, elastic_net: values, gradients, PyTorch
parity, weight decay, errors."""

from __future__ import annotations

import doctest
import math

import pytest

import nn
from autograd import Value
from nn import regularizers
from nn.optim import SGD

W = [0.5, -1.25, 2.0, -0.3]
PENALTIES = [
    ("l2", lambda ws: nn.l2(ws, 0.1), lambda t: 0.05 * (t * t).sum()),
    ("l1", lambda ws: nn.l1(ws, 0.1), lambda t: 0.1 * t.abs().sum()),
    ("elastic_net", lambda ws: nn.elastic_net(ws, 0.1, 0.3), lambda t: 0.1 * t.abs().sum() + 0.15 * (t * t).sum()),
]
IDS = [name for name, _, _ in PENALTIES]


def test_l2_is_the_lectures_lambda_over_two_theta_squared():
    ws = [Value(x) for x in W]
    penalty = nn.l2(ws, 0.1)
    assert penalty.data == pytest.approx(0.1 / 2 * sum(x * x for x in W), rel=1e-15)
    penalty.backward()
    assert [w.grad for w in ws] == pytest.approx([0.1 * x for x in W], rel=1e-15)


def test_the_sum_over_parameters_is_one_node():
    ws = [Value(x) for x in W]
    penalty = nn.l2(ws, 0.1)
    sums = [p for p in penalty.parents if p.op == "sum"]
    assert len(sums) == 1 and len(sums[0].parents) == len(W)
    penalty = nn.l1(ws, 0.1)
    assert [p.op for p in penalty.parents if p.op == "sum"] == ["sum"]


def test_l1_and_elastic_net_values_and_gradients():
    ws = [Value(x) for x in W]
    nn.l1(ws, 0.2).backward()
    assert [w.grad for w in ws] == [0.2, -0.2, 0.2, -0.2]
    z = Value(0.0)
    nn.l1([z], 0.2).backward()
    assert z.grad == 0.0  # abs'(0) = 0
    ws = [Value(x) for x in W]
    net = nn.elastic_net(ws, 0.1, 0.3)
    assert net.data == pytest.approx(0.1 * sum(map(abs, W)) + 0.15 * sum(x * x for x in W), rel=1e-15)


@pytest.mark.parametrize("name,ours,_", PENALTIES, ids=IDS)
def test_gradients_match_finite_differences(name, ours, _):
    ws = [Value(x) for x in W]
    ours(ws).backward()
    h = 1e-6
    for i in range(len(W)):
        up, dn = list(W), list(W)
        up[i] += h
        dn[i] -= h
        fd = (ours([Value(x) for x in up]).data - ours([Value(x) for x in dn]).data) / (2 * h)
        assert ws[i].grad == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name,ours,theirs", PENALTIES, ids=IDS)
def test_matches_pytorch_float64(name, ours, theirs):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    ws = [Value(x) for x in W]
    value = ours(ws)
    value.backward()
    t = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    ref = theirs(t)
    ref.backward()
    assert value.data == pytest.approx(ref.item(), rel=1e-14)
    assert [w.grad for w in ws] == pytest.approx(t.grad.tolist(), rel=1e-14)


def test_l2_penalty_equals_sgd_weight_decay():
    def loss(w):
        return (w[0] * 2.0 - 1.0) ** 2 + (w[1] + w[0]) ** 2

    a = [Value(x) for x in W[:2]]
    b = [Value(x) for x in W[:2]]
    with_penalty = SGD(a, lr=0.05)
    with_decay = SGD(b, lr=0.05, weight_decay=0.3)
    for _ in range(20):
        for opt, ws, extra in ((with_penalty, a, True), (with_decay, b, False)):
            opt.zero_grad()
            total = loss(ws) + nn.l2(ws, 0.3) if extra else loss(ws)
            total.backward()
            opt.step()
    assert [w.data for w in a] == pytest.approx([w.data for w in b], abs=1e-13)
    assert a[0].data != W[0]


def test_accepts_a_model_a_single_value_and_an_empty_list():
    class Model:
        def parameters(self):
            return [Value(3.0), Value(4.0)]

    assert nn.l2(Model(), 2.0).data == 25.0
    assert nn.l1(Value(-2.0), 0.5).data == 1.0
    assert nn.l2([], 0.1).data == 0.0
    assert nn.l2((Value(x) for x in W), 0.0).data == 0.0


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: nn.l2([Value(1.0)], -0.1), ValueError, "l2: lam must be finite and >= 0, got -0.1"),
        (lambda: nn.l1([Value(1.0)], math.nan), ValueError, "l1: lam must be finite and >= 0, got nan"),
        (lambda: nn.elastic_net([Value(1.0)], 0.1, "0.2"), TypeError, "elastic_net: lam2 must be a real number"),
        (lambda: nn.l2([Value(1.0), 2.0], 0.1), TypeError, r"l2: parameter 1 must be a Value \(a plain number"),
        (lambda: nn.l2(5, 0.1), TypeError, "expected a list of Values or a model"),
        (lambda: nn.l2([Value(1.0)], True), TypeError, "lam must be a real number, got bool"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_docstring_examples():
    result = doctest.testmod(regularizers)
    assert result.attempted > 0 and result.failed == 0
    assert set(regularizers.__all__) <= set(dir(nn))


@pytest.mark.parametrize("name, make, _torch", PENALTIES, ids=IDS)
def test_array_form_gives_the_value_and_gradient_of_the_graph(name, make, _torch):
    """What compiled fit evaluates on its flat parameter array is the eager penalty and its gradient."""
    np = pytest.importorskip("numpy")
    w0 = W + [0.0]  # |w| at its kink: the op table's derivative (0) on both sides
    ws = [Value(x) for x in w0]
    form = regularizers.array_form(make, ws)
    assert isinstance(form, regularizers.Penalty) and form.name == name and form.params == ws
    penalty = make(ws)
    penalty.backward()
    value, grad = form.value_and_grad(np.array(w0))
    assert value == pytest.approx(penalty.data, rel=1e-15)
    assert grad.tolist() == pytest.approx([w.grad for w in ws], rel=1e-15, abs=0.0)
    assert [w.data for w in ws] == w0  # the array form reads the array, not the Values


def test_array_form_is_none_for_anything_but_one_penalty_call():
    ws = [Value(x) for x in W]
    assert regularizers.array_form(lambda ps: 2.0 * nn.l2(ps, 0.1), ws) is None
    assert regularizers.array_form(lambda ps: nn.l2(ps, 0.1) + nn.l1(ps, 0.1), ws) is None
    assert regularizers.array_form(lambda ps: sum(p * p for p in ps), ws) is None
    form = regularizers.array_form(lambda ps: nn.l1(ps[1:3], 0.5), ws)
    assert form is not None and form.params == ws[1:3]
