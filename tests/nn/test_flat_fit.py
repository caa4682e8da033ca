"""Compiled fit on flat arrays: eager's numbers for every optimiser, Values up to date whenever user code looks,
no re-tracing on a second fit, the penalty's array form, and a failure that changes nothing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nn
from autograd import Value
from nn import compiled, datasets

OPTIMIZERS = [
    ("SGD", {"lr": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 1e-3}),
    ("AdamW", {"lr": 0.02}),
]


def _run(compile, name, kwargs, loss="hinge", reg=lambda ps: nn.l2(ps, 1e-3), **fit_kw):
    X, y = datasets.demo_moons(labels="sign" if loss == "hinge" else "index")
    model = nn.MLP(2, [8, 8, 1 if loss == "hinge" else 2], seed=1)
    opt = getattr(nn.optim, name)(model.parameters(), **kwargs)
    h = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=6, batch_size=16, regularizer=reg, progress=False,
               seed=2, compile=compile, **fit_kw)
    return model, opt, h


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
def test_compiled_fit_equals_eager_fit_for_every_optimiser(name, kwargs):
    eager, opt_e, h_e = _run(False, name, kwargs)
    flat, opt_f, h_f = _run(True, name, kwargs)
    a = np.array([p.data for p in eager.parameters()])
    b = np.array([p.data for p in flat.parameters()])
    assert np.abs(a - b).max() <= 1e-9
    assert np.allclose(h_e.loss, h_f.loss, rtol=1e-12) and h_e.accuracy == h_f.accuracy
    # The optimiser's state is the same state, written back into its lists
    assert opt_e.t == opt_f.t == 6 * 7
    for k in opt_e.state:
        assert np.abs(np.array(opt_e.state[k]) - np.array(opt_f.state[k])).max() <= 1e-9
    # ... and the gradients of the last batch, as eager fit leaves them
    assert np.abs(np.array([p.grad for p in eager.parameters()]) -
                  np.array([p.grad for p in flat.parameters()])).max() <= 1e-9


def test_cross_entropy_with_a_custom_regulariser_and_elastic_net_match_eager():
    for reg in (lambda ps: nn.elastic_net(ps, 1e-3, 1e-3), lambda ps: 0.5 * nn.l1(ps[:5], 1e-2)):
        eager, _, h_e = _run(False, "Adam", {"lr": 0.02}, loss="cross_entropy", reg=reg)
        flat, _, h_f = _run(True, "Adam", {"lr": 0.02}, loss="cross_entropy", reg=reg)
        assert np.abs(np.array([p.data for p in eager.parameters()]) -
                      np.array([p.data for p in flat.parameters()])).max() <= 1e-9
        assert np.allclose(h_e.loss, h_f.loss, rtol=1e-12)


def test_callbacks_see_the_current_parameters_and_what_they_change_is_heard():
    X, y = datasets.demo_moons(labels="sign")
    seen = []

    def look(epoch, logs):
        seen.append([p.data for p in model.parameters()])
        if epoch == 2:  # a callback that edits the model: training continues from its edit
            for p in model.parameters():
                p.data = 0.5 * p.data
            opt.lr = 0.05

    results = []
    for compile in (False, True):
        model = nn.MLP(2, [8, 1], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        seen = []
        nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=4, batch_size=25, progress=False, seed=0,
               compile=compile, callbacks=[look])
        results.append((np.array(seen), np.array([p.data for p in model.parameters()]), opt.state["velocity"]))
    (seen_e, end_e, vel_e), (seen_f, end_f, vel_f) = results
    assert np.abs(seen_e - seen_f).max() <= 1e-12 and np.abs(end_e - end_f).max() <= 1e-12
    assert np.abs(np.array(vel_e) - np.array(vel_f)).max() <= 1e-12


def test_a_second_fit_on_the_same_model_does_not_re_trace(monkeypatch):
    X, y = datasets.demo_moons(labels="index")
    model = nn.MLP(2, [8, 2], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    traced = []
    real = compiled.CompiledModel._trace
    monkeypatch.setattr(compiled.CompiledModel, "_trace", lambda self, k: traced.append(k) or real(self, k))
    for _ in range(3):
        nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2, progress=False, compile=True)
    assert traced == [None]  # one tape for both classes (targets as masks), traced once for three fits
    nn.fit(model, X[y == 0], y[y == 0], loss="cross_entropy", optimizer=opt, epochs=1, progress=False, compile=True)
    assert traced == [None]  # a subset of the traced targets reuses it too
    model.layers[0].neurons[3].activation = nn.activations.get_activation("tanh")  # another graph: traced again
    nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, progress=False, compile=True)
    assert traced == [None, None]


def test_divergence_keeps_the_last_finite_parameters_and_state_as_eager_fit_does():
    X, y = datasets.demo_moons(labels="sign")
    runs = []
    for compile in (False, True):
        model = nn.MLP(2, [8, 1], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=1e306, momentum=0.5)
        with pytest.raises(nn.DivergenceError, match="epoch 1, batch 2: ") as info:
            nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=3, batch_size=10, progress=False, seed=0,
                   compile=compile)
        assert info.value.epoch == 1 and info.value.history.stop_reason == "diverged"
        assert all(np.isfinite(p.data) and p.grad == 0.0 for p in model.parameters()) and opt.t == 1
        runs.append(([p.data for p in model.parameters()], opt.state["velocity"]))
    for a, b in zip(runs[0], runs[1]):
        assert np.allclose(a, b, rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("when", ["before", "callback"])
@pytest.mark.parametrize("batch_size", [None, 10])
def test_a_nan_parameter_ends_compiled_fit_as_eager_fit(when, batch_size):
    """The replays are told the parameters are finite only when they are: a NaN set before fit or by a
    callback is read, and training stops where and as eager training stops."""
    X, y = datasets.demo_moons(labels="sign")
    errors = []
    for compile in (False, True):
        model = nn.MLP(2, [4, 1], seed=0)

        def poison(epoch=2, logs=None, m=model):
            if epoch == 2:
                m.layers[0].neurons[1].w[0].data = float("nan")

        if when == "before":
            poison()
        with pytest.raises(nn.DivergenceError) as info:
            nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=4,
                   batch_size=batch_size, progress=False, seed=0, compile=compile,
                   callbacks=[poison] if when == "callback" else [])
        errors.append((str(info.value), info.value.epoch))
    assert errors[0] == errors[1] and errors[0][1] == (1 if when == "before" else 3)


def _tanh_first_layer(model):
    for neuron in model.layers[0].neurons:
        neuron.activation = nn.get_activation("tanh")


def _replace_a_weight(model):
    model.layers[0].neurons[0].w[1] = Value(0.5)


def _eval_mode(model):
    model.eval()


@pytest.mark.parametrize("change", [_tanh_first_layer, _replace_a_weight, _eval_mode])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_a_callback_that_changes_the_models_graph_is_heard_by_compiled_fit(change, batch_size):
    """A callback that changes what model(x) computes (an activation, a weight replaced by another Value,
    model.eval() with dropout) changes the rest of the training, compiled as eager: the graph traced
    before it is not replayed after it."""
    X, y = datasets.moons(40, 0.1, seed=1, labels="index")
    results = []
    for compile in (False, True):
        model = nn.MLP(2, [5, 2], dropout=0.3, seed=1)

        def edit(epoch, logs, m=model):
            if epoch == 2:
                change(m)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                       epochs=4, batch_size=batch_size, progress=False, seed=0, compile=compile, callbacks=[edit])
        results.append((np.array([p.data for p in model.parameters()]), h.loss, [str(w.message) for w in caught]))
    (end_e, loss_e, said_e), (end_f, loss_f, said_f) = results
    assert np.abs(end_e - end_f).max() <= 1e-9 and np.allclose(loss_e, loss_f, rtol=1e-9, atol=0.0)
    assert said_e == [] and said_f == ["fit(compile=True): training eagerly from epoch 3 on: a callback changed the "
                                       "model, the loss, the regularizer or the optimizer's parameters it had read"]


_STRENGTH = {"l2": 0.1}  # a penalty's strength, read by the regulariser at each step and changed by a callback


@pytest.mark.parametrize("penalty", [lambda ps: nn.l2(ps, _STRENGTH["l2"]),
                                     lambda ps: _STRENGTH["l2"] * sum(p * p for p in ps)], ids=["l2", "custom"])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_a_callback_that_changes_the_regulariser_is_heard_by_compiled_fit(penalty, batch_size):
    """The regulariser is called at every eager step: a callback that changes what it computes (its strength
    decayed to 0) changes the rest of the training, compiled as eager."""
    X, y = datasets.moons(40, 0.1, seed=1, labels="index")
    results = []
    for compile in (False, True):
        _STRENGTH["l2"] = 0.1
        model = nn.MLP(2, [5, 2], seed=1)

        def decay(epoch, logs):
            if epoch == 2:
                _STRENGTH["l2"] = 0.0

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "fit.compile=True.: training eagerly from epoch 3 on")
            h = nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                       epochs=4, batch_size=batch_size, progress=False, seed=0, compile=compile, regularizer=penalty,
                       callbacks=[decay])
        results.append((np.array([p.data for p in model.parameters()]), h.loss))
    (end_e, loss_e), (end_f, loss_f) = results
    assert np.abs(end_e - end_f).max() <= 1e-9 and np.allclose(loss_e, loss_f, rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_a_callback_that_changes_what_the_optimiser_steps_is_heard_by_compiled_fit(name, batch_size):
    """A callback that freezes the first layer (the optimiser's list of parameters cut to the last layer's,
    its state with it) trains only the last layer from then on, compiled as eager."""
    X, y = datasets.moons(40, 0.1, seed=1, labels="index")
    results = []
    for compile in (False, True):
        model = nn.MLP(2, [5, 2], seed=1)
        opt = getattr(nn.optim, name)(model.parameters(), lr=0.05)

        def freeze(epoch, logs, m=model, o=opt):
            if epoch == 2:
                o.params[:] = m.layers[1].parameters()
                for k in o.state:
                    o.state[k] = o.state[k][-len(o.params):]

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "fit.compile=True.: training eagerly from epoch 3 on")
            h = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, batch_size=batch_size,
                       progress=False, seed=0, compile=compile, callbacks=[freeze])
        results.append((np.array([p.data for p in model.parameters()]), h.loss))
    (end_e, loss_e), (end_f, loss_f) = results
    assert np.abs(end_e - end_f).max() <= 1e-9 and np.allclose(loss_e, loss_f, rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("kw", [{"dropout": 0.3}, {"activation": "swish"}, {"activation": "maxout"}])
def test_a_callback_that_only_looks_keeps_fit_compiled(kw):
    """What an epoch of training changes (numbers, dropout masks drawn) is not a change of the graph: with a
    callback that only looks, compiled fit replays its tape to the end (no warning that it trains eagerly)."""
    X, y = datasets.moons(40, 0.1, seed=1, labels="index")
    model = nn.MLP(2, [5, 2], seed=1, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.Adam(model.parameters()), epochs=3, batch_size=8,
               progress=False, seed=0, compile=True, regularizer=lambda ps: nn.l2(ps, 1e-3),
               callbacks=[lambda epoch, logs: None])


def test_a_parameter_replaced_in_place_is_trained_by_compiled_fit_as_by_eager_fit():
    X, y = datasets.moons(40, 0.1, seed=1, labels="sign")
    weights = {}
    for compile in (True, False):
        m = nn.MLP(2, [4, 1], seed=0)
        nn.fit(m, X, y, loss="hinge", optimizer=nn.optim.SGD(m.parameters(), lr=0.1), epochs=2, progress=False,
               compile=compile)
        m.layers[0].neurons[0].w[0] = Value(1.0)  # the list stays the same object, its item is new
        nn.fit(m, X, y, loss="hinge", optimizer=nn.optim.SGD(m.parameters(), lr=0.1), epochs=5, progress=False,
               compile=compile)
        weights[compile] = [p.data for p in m.parameters()]
    assert weights[True][0] != 1.0  # the new Value was trained, not the detached old one
    np.testing.assert_allclose(weights[True], weights[False], rtol=1e-9, atol=1e-12)


def test_validation_in_compiled_fit_replays_the_training_tape_and_matches_eager(monkeypatch):
    import nn.train

    X, y = datasets.demo_moons(labels="index")
    asked = []
    real = nn.train.predict_lists
    monkeypatch.setattr(nn.train, "predict_lists", lambda model, xs: asked.append(len(xs)) or real(model, xs))
    runs = []
    for compile in (False, True):
        asked.clear()
        model = nn.MLP(2, [8, 2], seed=0, dropout=0.3)  # dropout: off for validation, as in eval mode
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        h = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, batch_size=16, val_split=0.25,
                   regularizer=lambda ps: nn.l2(ps, 1e-3), progress=False, seed=3, compile=compile)
        runs.append((h, len(asked)))
    (h_e, asked_e), (h_f, asked_f) = runs
    assert asked_e == 4 and asked_f == 0  # eager runs the model on the validation set; compiled replays its tape
    np.testing.assert_allclose(h_f.val_loss, h_e.val_loss, rtol=1e-9)
    assert h_f.val_accuracy == h_e.val_accuracy and h_f.loss == pytest.approx(h_e.loss, rel=1e-12)


def test_a_metric_of_the_users_sees_the_current_parameters_in_compiled_fit():
    X, y = datasets.demo_moons(labels="sign")
    seen = {}
    for compile in (False, True):
        model = nn.MLP(2, [8, 1], seed=0)

        def first_weight(outputs, targets, model=model):  # user code reading the model: it must see current Values
            return model.parameters()[0].data

        h = nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.2), epochs=3,
                   progress=False, compile=compile, metrics=["accuracy", first_weight])
        seen[compile] = h.first_weight
    assert len(set(seen[True])) == 3  # it moved every epoch: not the numbers from before fit
    np.testing.assert_allclose(seen[True], seen[False], rtol=1e-12)


def test_full_batch_compiled_fit_without_user_code_ends_with_eager_numbers():
    X, y = datasets.demo_moons(labels="index")
    ends = []
    for compile in (False, True):
        model = nn.MLP(2, [8, 2], seed=0)
        opt = nn.optim.Adam(model.parameters(), lr=0.05)
        h = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=5, progress=False, compile=compile)
        ends.append((np.array([p.data for p in model.parameters()]), np.array([p.grad for p in model.parameters()]),
                     h.accuracy, opt.state["m"]))
    (w_e, g_e, acc_e, m_e), (w_f, g_f, acc_f, m_f) = ends
    assert np.abs(w_e - w_f).max() <= 1e-9 and np.abs(g_e - g_f).max() <= 1e-9 and acc_e == acc_f
    assert np.abs(np.array(m_e) - np.array(m_f)).max() <= 1e-9


def test_fit_probes_the_model_eagerly_once_per_structure_loss_and_first_target(monkeypatch):
    import nn.prepare

    probes = []
    real = nn.prepare.model_output
    monkeypatch.setattr(nn.prepare, "model_output", lambda *a: probes.append(1) or real(*a))
    X, y = datasets.demo_moons(labels="index")
    model = nn.MLP(2, [8, 2], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    def fit(X=X, y=y, loss="cross_entropy"):
        nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=1, progress=False, compile=True)
        return len(probes)

    assert fit() == 1 and fit() == 1  # the second fit on the unchanged model knows its answers
    assert fit(X[y == 1], y[y == 1]) == 2  # another first target: the loss is run on it once
    assert fit(loss="multiclass_hinge") == 3  # another loss too
    model.layers[1].neurons[0].w[0] = Value(0.5)  # another structure: probed again
    assert fit() == 4
    with pytest.raises(ValueError, match="samples have 3 features but the model expects 2"):
        fit(np.ones((4, 3)), np.zeros(4, dtype=int))  # the width is still checked against the model
    with pytest.raises(ValueError, match=r"class indices 0\.\.1 \(the model has 2 outputs\), but y has class 6"):
        fit(X, y + 5)  # a known structure does not hide a label problem


def test_a_full_batch_fit_inside_a_callback_does_not_disturb_the_outer_fits_inputs():
    X, y = datasets.demo_moons(labels="index")
    results = []
    for inner in (False, True):
        model = nn.MLP(2, [8, 2], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        other = (X[::-1] * 3.0, 1 - y[::-1])  # another data set, same shapes

        def refit(epoch, logs, model=model, opt=opt, inner=inner, other=other):
            if inner and epoch == 2:  # same model, same graph, other data: it refills the shared input columns
                saved = [p.data for p in model.parameters()]
                nn.fit(model, *other, loss="cross_entropy", optimizer=opt, epochs=1, progress=False, compile=True)
                for p, v in zip(model.parameters(), saved):
                    p.data = v

        h = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, progress=False, compile=True,
                   callbacks=[refit])
        results.append(h.loss)
    np.testing.assert_allclose(results[1][2:], results[0][2:], rtol=1e-12)  # the outer fit kept its own data
