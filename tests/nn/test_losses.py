"""nn.losses: values, gradients (finite differences and PyTorch float64), stability, batches, errors."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value
from nn import losses

# (loss name, prediction(s), target, kwargs): points away from the kinks of the piecewise losses.
CASES = [
    ("squared_error", [0.875], 2.0, {}),
    ("squared_error", [1.5, -0.3], [0.2, 0.1], {}),
    ("half_squared_error", [0.875], 2.0, {}),
    ("half_squared_error", [1.5, -0.3, 4.0], [0.2, 0.1, -1.0], {}),
    ("absolute_error", [0.875], 2.0, {}),
    ("absolute_error", [1.5, -0.3], [0.2, 0.1], {}),
    ("hinge", [0.3], 1, {}),
    ("hinge", [0.3], -1, {}),
    ("hinge", [2.0, -0.4], [1, 1], {}),
    ("perceptron", [0.3], -1, {}),
    ("perceptron", [-0.7, 0.4], [1, -1], {}),
    ("multiclass_hinge", [0.2, 1.1, -0.5], 0, {}),
    ("multiclass_hinge", [0.2, 1.1, -0.5], 1, {}),
    ("multiclass_hinge", [0.2, 1.1, -0.5, 0.9], 2, {"margin": 0.5}),
    ("multiclass_perceptron", [0.2, 1.1, -0.5], 2, {}),
    ("binary_cross_entropy", [0.3], 1, {}),
    ("binary_cross_entropy", [0.3], 0, {}),
    ("binary_cross_entropy", [-1.7], 0.25, {}),
    ("binary_cross_entropy", [2.0, -0.5], [1, 0.6], {}),
    ("binary_cross_entropy", [1000.0], 1, {}),
    ("binary_cross_entropy", [1000.0], 0, {}),
    ("binary_cross_entropy", [-1000.0], 1, {}),
    ("binary_cross_entropy", [-1000.0, 1000.0], [0.5, 0.5], {}),
    ("cross_entropy", [0.2, -1.3, 2.5], 0, {}),
    ("cross_entropy", [0.2, -1.3, 2.5], 2, {}),
    ("cross_entropy", [0.7], 0, {}),
    ("cross_entropy", [1000.0, -1000.0, 0.0], 0, {}),
    ("cross_entropy", [1000.0, -1000.0, 0.0], 1, {}),
    ("cross_entropy", [1000.0, -1000.0, 0.0], 2, {}),
]
MULTICLASS = {"multiclass_hinge", "multiclass_perceptron", "cross_entropy"}
IDS = [f"{name}-{xs}-{y}" for name, xs, y, _ in CASES]


def _call(name, xs, y, kw):
    """The loss on Values made from xs; a one-element list is passed as a scalar prediction."""
    vs = [Value(x) for x in xs]
    pred = vs if (name in MULTICLASS or len(vs) > 1) else vs[0]
    return getattr(losses, name)(pred, y, **kw), vs


def _grads(name, xs, y, kw):
    out, vs = _call(name, xs, y, kw)
    out.backward()
    return out.data, [v.grad for v in vs]


def _central_differences(name, xs, y, kw, h=1e-6):
    g = []
    for i in range(len(xs)):
        up = list(xs)
        dn = list(xs)
        up[i] += h
        dn[i] -= h
        g.append((_call(name, up, y, kw)[0].data - _call(name, dn, y, kw)[0].data) / (2 * h))
    return g


@pytest.mark.parametrize("name,xs,y,kw", CASES, ids=IDS)
def test_gradient_matches_finite_differences(name, xs, y, kw):
    value, grads = _grads(name, xs, y, kw)
    assert math.isfinite(value)
    assert all(math.isfinite(g) for g in grads)
    for g, fd in zip(grads, _central_differences(name, xs, y, kw)):
        assert g == pytest.approx(fd, rel=1e-6, abs=1e-6)


def _torch_loss(torch, name, z, y, kw):
    F = torch.nn.functional
    if name in ("multiclass_hinge", "multiclass_perceptron"):
        margin = kw.get("margin", 1.0 if name == "multiclass_hinge" else 0.0)
        wrong = torch.cat([z[:y], z[y + 1:]])
        return torch.clamp(margin + wrong.max() - z[y], min=0.0)
    if name == "cross_entropy":
        return F.cross_entropy(z.unsqueeze(0), torch.tensor([y]))
    t = torch.tensor(y if isinstance(y, list) else [y], dtype=torch.float64)
    return {
        "squared_error": lambda: F.mse_loss(z, t, reduction="sum"),
        "half_squared_error": lambda: 0.5 * F.mse_loss(z, t, reduction="sum"),
        "absolute_error": lambda: F.l1_loss(z, t, reduction="sum"),
        "hinge": lambda: torch.clamp(1.0 - t * z, min=0.0).sum(),
        "perceptron": lambda: torch.clamp(-t * z, min=0.0).sum(),
        "binary_cross_entropy": lambda: F.binary_cross_entropy_with_logits(z, t, reduction="sum"),
    }[name]()


@pytest.mark.parametrize("name,xs,y,kw", CASES, ids=IDS)
def test_matches_pytorch_float64(name, xs, y, kw):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    z = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = _torch_loss(torch, name, z, y, kw)
    ref.backward()
    value, grads = _grads(name, xs, y, kw)
    assert value == pytest.approx(ref.item(), rel=1e-12, abs=1e-300)
    assert grads == pytest.approx(z.grad.tolist(), rel=1e-12, abs=1e-15)


def test_lecture_worked_example():
    # Imperial College London, Machine Learning part 4.2: f_c = 0.875, y = 2, loss 1/2 (f - y)^2 = 0.63,
    # dl/df = f - y = -1.125
    f = Value(0.875)
    loss = nn.half_squared_error(f, 2)
    loss.backward()
    assert loss.data == 0.6328125
    assert f.grad == -1.125
    assert nn.squared_error(Value(0.875), 2).data == 2 * 0.6328125


def test_extreme_logits_are_finite_and_exact():
    z = Value(1000.0)
    loss = nn.binary_cross_entropy(z, 0)
    loss.backward()
    assert (loss.data, z.grad) == (1000.0, 1.0)
    z = Value(1000.0)
    loss = nn.binary_cross_entropy(z, 1)
    loss.backward()
    assert (loss.data, z.grad) == (0.0, 0.0)
    zs = [Value(1000.0), Value(-1000.0), Value(0.0)]
    loss = nn.cross_entropy(zs, 1)
    loss.backward()
    assert loss.data == 2000.0
    assert [v.grad for v in zs] == pytest.approx([1.0, -1.0, 0.0], abs=1e-300)


def test_small_bce_loss_keeps_relative_accuracy():
    # log(1 + e^-40) ~ 4.25e-18: computing softplus(z) - y z would round this to 0.
    assert nn.binary_cross_entropy(Value(40.0), 1).data == pytest.approx(math.exp(-40), rel=1e-12)


def test_kink_conventions():
    # max(0, .) splits the gradient at the kink, so a perceptron started at f = 0 still learns.
    f = Value(0.0)
    nn.perceptron(f, 1).backward()
    assert f.grad == -0.5
    f = Value(1.0)
    nn.hinge(f, 1).backward()
    assert f.grad == -0.5
    f = Value(2.0)
    nn.absolute_error(f, 2.0).backward()
    assert f.grad == 0.0


def test_multiclass_hinge_uses_largest_wrong_score():
    s = [Value(0.2), Value(1.1), Value(-0.5), Value(0.9)]
    loss = nn.multiclass_hinge(s, 0)
    loss.backward()
    assert loss.data == pytest.approx(1.0 + 1.1 - 0.2)
    assert [v.grad for v in s] == [-1.0, 1.0, 0.0, 0.0]
    assert nn.multiclass_perceptron([Value(3.0), Value(1.0)], 0).data == 0.0


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-60, 60), y=st.sampled_from([0, 1]))
def test_binary_cross_entropy_is_two_class_cross_entropy(z, y):
    a, b = Value(z), Value(z)
    bce = nn.binary_cross_entropy(a, y)
    ce = nn.cross_entropy([Value(0.0), b], y)
    bce.backward()
    ce.backward()
    assert bce.data == pytest.approx(ce.data, rel=1e-9, abs=1e-12)
    assert a.grad == pytest.approx(b.grad, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(st.floats(-50, 50), min_size=2, max_size=6), data=st.data())
def test_cross_entropy_gradient_is_softmax_minus_onehot(xs, data):
    y = data.draw(st.integers(0, len(xs) - 1))
    vs = [Value(x) for x in xs]
    nn.cross_entropy(vs, y).backward()
    top = max(xs)
    e = [math.exp(x - top) for x in xs]
    expected = [ei / sum(e) - (i == y) for i, ei in enumerate(e)]
    assert [v.grad for v in vs] == pytest.approx(expected, abs=1e-12)
    assert sum(v.grad for v in vs) == pytest.approx(0.0, abs=1e-12)


def test_numbers_are_accepted_as_predictions_and_values_as_regression_targets():
    assert nn.squared_error(3, 1).data == 4.0
    y = Value(1.0)
    f = Value(3.0)
    nn.squared_error(f, y).backward()
    assert (f.grad, y.grad) == (4.0, -4.0)


# --- batches ---------------------------------------------------------------------------------------
def test_mean_loss_averages_as_one_sum_node():
    preds = [[Value(0.2), Value(-1.3)], [Value(2.0), Value(0.5)], [Value(0.1), Value(0.1)]]
    targets = [0, 1, 1]
    loss = nn.mean_loss(nn.cross_entropy, preds, targets)
    per = [nn.cross_entropy(p, t).data for p, t in zip(preds, targets)]
    assert loss.data == pytest.approx(sum(per) / 3, rel=1e-15)
    assert loss.op == "mul" and loss.parents[0].op == "sum"
    loss.backward()
    # d mean / d z = (softmax - onehot) / batch size
    p0 = 1 / (1 + math.exp(-1.5))
    assert preds[0][0].grad == pytest.approx((p0 - 1) / 3, rel=1e-12)
    total = nn.mean_loss("cross_entropy", preds, targets, reduction="sum")
    assert total.data == pytest.approx(sum(per), rel=1e-15)


def test_mean_loss_matches_pytorch_mean_reduction():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    xs = [[0.2, -1.3, 2.5], [1000.0, -1000.0, 0.0], [0.5, 0.5, -0.1]]
    ys = [2, 1, 0]
    vs = [[Value(x) for x in row] for row in xs]
    loss = nn.mean_loss(nn.cross_entropy, vs, ys)
    loss.backward()
    z = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(z, torch.tensor(ys))
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-12)
    assert [[v.grad for v in row] for row in vs] == [pytest.approx(r, abs=1e-15) for r in z.grad.tolist()]
    fs = [Value(0.3), Value(-1.2)]
    bce = nn.mean_loss("bce", fs, [1, 0])
    bce.backward()
    z = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor([1.0, 0.0], dtype=torch.float64))
    ref.backward()
    assert bce.data == pytest.approx(ref.item(), rel=1e-12)
    assert [f.grad for f in fs] == pytest.approx(z.grad.tolist(), rel=1e-12)


def test_mean_loss_errors():
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        nn.mean_loss(nn.squared_error, [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="empty"):
        nn.mean_loss(nn.squared_error, [], [])
    with pytest.raises(ValueError, match="reduction"):
        nn.mean_loss(nn.squared_error, [1.0], [1.0], reduction="max")


def test_get_by_name_and_alias():
    assert losses.get("cross_entropy") is nn.cross_entropy
    assert losses.get("MSE") is nn.squared_error
    assert losses.get("binary-cross-entropy") is nn.binary_cross_entropy
    assert losses.get(nn.hinge) is nn.hinge
    with pytest.raises(KeyError, match="no loss named 'hubber'.*cross_entropy"):
        losses.get("hubber")
    with pytest.raises(TypeError, match="loss name or a function"):
        losses.get(3)
    assert set(losses.__all__) <= set(dir(nn))


# --- bad inputs --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: nn.hinge(Value(0.5), 0), ValueError, r"hinge: target must be -1 or \+1, got 0.0"),
        (lambda: nn.perceptron(Value(0.5), 2), ValueError, r"perceptron: target must be -1 or \+1, got 2.0"),
        (lambda: nn.hinge(Value(0.5), Value(1.0)), TypeError, r"hinge: target must be a plain number"),
        (lambda: nn.binary_cross_entropy(Value(0.5), -1), ValueError, r"got -1.0 \(labels -1/\+1"),
        (lambda: nn.binary_cross_entropy(Value(0.5), 1.5), ValueError, r"target must be in \[0, 1\].*1.5"),
        (lambda: nn.binary_cross_entropy(Value(0.5), math.nan), ValueError, "must be finite, got nan"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0), Value(3.0)], 3), ValueError,
         r"cross_entropy: target class index 3 is out of range for 3 classes \(0..2\)"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], -1), ValueError, "index -1 is out of range"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], 1.0), TypeError,
         "target must be an int class index in \\[0, 1\\], got float 1.0"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], True), TypeError, "got bool True"),
        (lambda: nn.cross_entropy(Value(1.0), 0), TypeError, "sequence of scores"),
        (lambda: nn.cross_entropy([], 0), ValueError, "at least 1 class score"),
        (lambda: nn.multiclass_hinge([Value(1.0)], 0), ValueError, "at least 2 class score"),
        (lambda: nn.squared_error([Value(1.0), Value(2.0)], [1.0]), ValueError,
         r"squared_error: 2 prediction\(s\) but 1 target\(s\)"),
        (lambda: nn.squared_error("3", 1.0), TypeError, "prediction must be a Value or a real number, got str"),
        (lambda: nn.absolute_error(Value(1.0), None), TypeError, "target must be a real number, got NoneType"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_docstring_examples():
    result = doctest.testmod(losses)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("spec", [s for s in nn.losses.REGISTRY.values() if s.picked is not None], ids=lambda s: s.name)
def test_a_picked_form_equals_the_loss_of_the_target_its_mask_picks(spec):
    """``LossSpec.picked`` (what compiled training traces) must give the loss and the gradients of the
    target whose mask is 1, exactly, also for targets in any order and a subset of the classes."""

    rng = np.random.default_rng(0)
    targets = [3, 0, 4, 1]  # the distinct targets in the order fit met them
    for _ in range(20):
        logits = rng.normal(0, 5, 5).tolist()
        for k in range(len(targets)):
            z1, z2 = [Value(v) for v in logits], [Value(v) for v in logits]
            want = spec.fn(z1, targets[k])
            got = spec.picked(z2, [1.0 if j == k else 0.0 for j in range(len(targets))], targets)
            want.backward()
            got.backward()
            assert got.data == want.data
            assert [v.grad for v in z2] == [v.grad for v in z1]
