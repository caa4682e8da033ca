"""nn.train_step, the one per-batch step (fit's eager trainer, the notebooks and the playground take it),
the Trainer protocol both of fit's trainers implement, and nn's explicit namespace."""

from __future__ import annotations

import inspect

import pytest

import nn
from autograd import Value
from nn import datasets
from nn.flat import FlatTrainer
from nn.trainer import EagerTrainer, Trainer


def _line(w):
    return lambda x: w[0] * x[0] + w[1]


def test_train_step_replaces_stale_gradients_and_steps_once():
    w = [Value(0.5), Value(-1.0)]
    for p in w:
        p.grad = 123.0  # stale: must be replaced, not added to
    opt = nn.optim.SGD(w, lr=0.1)
    result = nn.train_step(_line(w), nn.squared_error, opt, [[1.0], [2.0]], [0.0, 1.0], params=w,
                           regularizer=lambda ps: 0.5 * ps[0] * ps[0])
    # residuals of 0.5x - 1 - y: -0.5 and -1.0; squared_error is (p - t)^2
    assert result.loss == pytest.approx((0.25 + 1.0) / 2)
    assert result.objective == pytest.approx(result.loss + 0.125)
    assert result.outputs == [-0.5, 0.0]
    g0, g1 = (2 * -0.5 * 1 + 2 * -1.0 * 2) / 2 + 0.5, (2 * -0.5 + 2 * -1.0) / 2
    assert [p.grad for p in w] == pytest.approx([g0, g1])
    assert [p.data for p in w] == pytest.approx([0.5 - 0.1 * g0, -1.0 - 0.1 * g1])


def test_sample_tapes_give_the_eager_step_s_numbers():
    X, y = datasets.demo_moons(labels="sign")
    runs = []
    for traced in (False, True):
        model = nn.MLP(2, [6, 1], activation="tanh", seed=0)
        opt = nn.optim.Adam(model.parameters(), lr=0.01)
        tapes = nn.SampleTapes(model, nn.hinge) if traced else None
        losses = [nn.train_step(model, nn.hinge, opt, X[:20].tolist(), y[:20].tolist(),
                                regularizer=lambda ps: nn.l2(ps, 1e-3), tapes=tapes).objective for _ in range(3)]
        runs.append((losses, [p.data for p in model.parameters()]))
        if traced:
            assert set(tapes.tapes) == {-1.0, 1.0}  # one tape per distinct target
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-12)
    assert runs[0][1] == pytest.approx(runs[1][1], rel=1e-9, abs=1e-12)


def test_tapes_of_another_loss_and_a_regularizer_without_a_value_are_named():
    w = [Value(1.0)]
    opt = nn.optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="train_step: tapes were traced with another loss"):
        nn.train_step(_line(w + [Value(0.0)]), nn.hinge, opt, [[1.0]], [1.0], params=w,
                      tapes=nn.SampleTapes(_line(w + [Value(0.0)]), nn.squared_error))
    with pytest.raises(TypeError, match="train_step: the regularizer must return a Value, got str"):
        nn.train_step(lambda x: w[0] * x[0], nn.squared_error, opt, [[1.0]], [0.0], params=w,
                      regularizer=lambda ps: "x")
    assert w[0].data == 1.0


def test_a_non_finite_loss_steps_nothing():
    w = [Value(1.0)]
    opt = nn.optim.SGD(w, lr=0.1, momentum=0.9)
    with pytest.raises(FloatingPointError, match="the loss is inf"):
        nn.train_step(lambda x: w[0] * x[0], lambda p, t: p * float("inf"), opt, [[1.0]], [0.0], params=w)
    assert w[0].data == 1.0 and opt.t == 0


def test_both_trainers_implement_the_trainer_protocol():
    for method, proto in inspect.getmembers(Trainer, inspect.isfunction):
        if method.startswith("_"):
            continue
        wanted = list(inspect.signature(proto).parameters)
        for cls in (EagerTrainer, FlatTrainer):
            assert list(inspect.signature(getattr(cls, method)).parameters) == wanted, (cls, method)


def test_nn_exports_every_public_name_of_its_submodules_and_no_internal_module():
    import importlib

    for name in ("activations", "layers", "losses", "module", "regularizers", "serialize", "torch_bridge",
                 "history", "step", "train", "prepare", "evaluate"):
        assert set(importlib.import_module(f"nn.{name}").__all__) <= set(nn.__all__), name
    assert not {"checks", "outputs", "validate"} & set(nn.__all__)
    assert len(nn.__all__) == len(set(nn.__all__))
    for name in nn.__all__:
        getattr(nn, name)
