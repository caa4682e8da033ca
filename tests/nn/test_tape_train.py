"""Training through the tape (nn.fit(compile=True)) equals eager training."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nn
from nn import datasets
from nn.compiled import why_not_compiled


def _train(compiled, optimizer, epochs=10, batch_size=None, dropout=0.0, **fit_kw):
    X, y = datasets.demo_moons(labels="sign")
    model = nn.MLP(2, [16, 16, 1], seed=0, dropout=dropout)
    params = model.parameters()
    opt = nn.optim.SGD(params, lr=0.5) if optimizer == "sgd" else nn.optim.Adam(params, lr=0.02)
    history = nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=epochs, batch_size=batch_size,
                     regularizer=lambda ps: nn.l2(ps, 1e-4), progress=False, seed=3, compile=compiled, **fit_kw)
    return np.array([p.data for p in params]), history


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_ten_epochs_through_the_tape_equal_eager(optimizer, batch_size):
    eager, h1 = _train(False, optimizer, batch_size=batch_size)
    taped, h2 = _train(True, optimizer, batch_size=batch_size)
    assert np.abs(eager - taped).max() <= 1e-9
    assert np.allclose(h1.loss, h2.loss, rtol=1e-12) and h1.accuracy == h2.accuracy
    assert np.abs(eager - _train(False, optimizer, epochs=9, batch_size=batch_size)[0]).max() > 1e-6


def test_dropout_masks_are_fresh_each_replay_and_match_eager():
    eager, h1 = _train(False, "sgd", epochs=4, dropout=0.3)
    taped, h2 = _train(True, "sgd", epochs=4, dropout=0.3)
    assert np.abs(eager - taped).max() <= 1e-9  # the same masks, drawn in the eager order
    assert np.allclose(h1.loss, h2.loss, rtol=1e-12)
    X, y = datasets.demo_moons(labels="sign")
    model = nn.MLP(2, [16, 16, 1], seed=0, dropout=0.5)
    frozen = nn.optim.SGD(model.parameters(), lr=0.0)
    h = nn.fit(model, X, y, loss="hinge", optimizer=frozen, epochs=3, progress=False, compile=True)
    assert len(set(h.loss)) == 3, "a frozen model's loss changes only if the masks do"


def test_batchnorm_trains_eagerly_with_a_clear_warning():
    X, y = datasets.demo_moons(labels="sign")
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [8, 1], seed=0, batchnorm=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=2,
                   progress=False, compile=compiled)
        runs.append([p.data for p in model.parameters()])
        messages = [str(w.message) for w in caught]
        assert any("BatchNorm" in m and "eagerly" in m for m in messages) == compiled
    assert runs[0] == runs[1]


def test_cross_entropy_on_digits_traces_one_tape_per_class():
    pytest.importorskip("sklearn", reason="load_digits needs scikit-learn")
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data[:120] / 16.0, d.target[:120]
    results = []
    for compiled in (False, True):
        model = nn.MLP(64, [12, 10], seed=1)
        nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.Adam(model.parameters(), lr=0.01),
               epochs=3, progress=False, compile=compiled)
        results.append(np.array([p.data for p in model.parameters()]))
    assert np.abs(results[0] - results[1]).max() <= 1e-9


def test_regression_with_many_distinct_targets_falls_back_to_eager():
    X = np.linspace(-1, 1, 80).reshape(-1, 1)
    y = np.sin(3 * X[:, 0])  # 80 distinct targets: more than the 64 tapes allowed
    runs = []
    for compiled in (False, True, None):
        model = nn.MLP(1, [8, 1], seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nn.fit(model, X, y, loss="mse", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=3,
                   progress=False, compile=compiled)
        runs.append([p.data for p in model.parameters()])
        # compile=None falls back silently (it never compiles past 64 targets); only compile=True warns
        assert any("distinct targets" in str(w.message) for w in caught) == (compiled is True)
        assert caught == [] or compiled is True
    assert runs[0] == runs[1] == runs[2]


def _branchy(p, t):
    # A custom loss with a Python branch on the prediction: a tape freezes the branch taken at trace time.
    return (p - t) ** 2 if p.data * t < 1 else p * 0.0


def test_custom_loss_trains_eagerly_unless_compile_is_true():
    X, y = datasets.demo_moons(labels="sign")
    runs = {}
    for compiled in (False, None, True):
        model = nn.MLP(2, [8, 1], seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the default's eager choice is silent
            nn.fit(model, X, y, loss=_branchy, optimizer=nn.optim.SGD(model.parameters(), lr=0.05), epochs=5,
                   batch_size=20, seed=0, progress=False, compile=compiled)
        runs[compiled] = np.array([p.data for p in model.parameters()])
    assert np.array_equal(runs[None], runs[False])
    assert np.abs(runs[True] - runs[False]).max() > 1e-3  # why the default must not compile it
    # nn's own losses, by name or as functions, still compile by default (the tape's numbers, not eager's)
    for loss in ("mse", nn.squared_error):
        assert why_not_compiled(nn.MLP(2, [8, 1]), explicit=False, loss=nn.losses.get(loss)) == ""
    assert "custom function" in why_not_compiled(nn.MLP(2, [8, 1]), explicit=False, loss=_branchy)
    assert why_not_compiled(nn.MLP(2, [8, 1]), explicit=True, loss=_branchy) == ""


def test_a_mini_batchs_blocks_of_inputs_train_as_one_stacked_array_and_as_eager(monkeypatch):
    """A mini-batch's tape inputs go to the replay as blocks of rows (the pixels, each dropout layer's
    masks, the target masks): fit trains bit for bit as when they are first stacked into one array
    (the transpose of an array with a row per sample), and as eager fit."""
    from nn.compiled import CompiledModel

    X, y = datasets.digits()
    X, y = X[:300], y[:300]

    def train(compiled):
        model = nn.MLP(64, [16, 16, 10], seed=0, dropout=0.2)
        nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
               epochs=2, batch_size=64, progress=False, seed=1, compile=compiled)
        return np.array([p.data for p in model.parameters()])

    blocks = train(True)
    fills = []
    inputs = CompiledModel.inputs

    def stacked(self, *args, **kw):
        got = inputs(self, *args, **kw)
        if type(got) is list:
            fills.append([b.shape for b in got])
            return np.concatenate([b.T for b in got], axis=1).T
        return got

    monkeypatch.setattr(CompiledModel, "inputs", stacked)
    assert np.array_equal(train(True), blocks)
    assert fills[0] == [(64, 64), (16, 64), (16, 64), (10, 64)]  # pixels, two dropout layers' masks, targets
    assert np.abs(train(False) - blocks).max() <= 1e-9


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_one_tape_per_target_takes_its_samples_columns_of_each_block(dropout):
    """Past MAX_MASKED targets each tape replays its own samples: their columns of every block."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 3)), (np.arange(120) % 20) / 10  # 20 distinct targets: a tape each
    from nn.compiled import _CACHE

    runs = [np.array([p.data for p in nn.MLP(3, [6, 1], seed=0).parameters()])]
    for compiled in (False, True):
        model = nn.MLP(3, [6, 1], seed=0, dropout=dropout)
        nn.fit(model, X, y, loss="mse", optimizer=nn.optim.SGD(model.parameters(), lr=0.05), epochs=3,
               batch_size=16, progress=False, seed=2, compile=compiled)
        runs.append(np.array([p.data for p in model.parameters()]))
    assert len(_CACHE[model].tapes()) == 20
    assert np.abs(runs[1] - runs[2]).max() <= 1e-12 and np.abs(runs[1] - runs[0]).max() > 1e-3
