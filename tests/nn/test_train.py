"""nn.fit: micrograd's demo, XOR, spirals, digits; batch variants, early stopping, bad inputs, progress."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nn
from autograd import Value
from nn import datasets


def sgd(model, lr=0.1):
    return nn.optim.SGD(model.parameters(), lr=lr)


def snapshot(model):
    return [p.data for p in model.parameters()]


# --- acceptance -----------------------------------------------------------------------------------------
def test_micrograd_demo_reaches_100_percent():
    X, y = datasets.demo_moons(labels="sign")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    history = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 1.0), epochs=100,
                     regularizer=lambda ps: nn.l2(ps, 2e-4), schedule=nn.schedules.Linear(1.0, 0.1, 100),
                     progress=False)
    assert len(history) == 100 and history.stop_reason == "completed"
    assert nn.evaluate(model, X, y)["accuracy"] == 1.0
    # the learning rate of step t is micrograd's 1.0 - 0.9 t/100 (one step per epoch at full batch)
    assert history.lr == pytest.approx([1.0 - 0.9 * t / 100 for t in range(100)])
    assert history.loss[-1] < 0.1 * history.loss[0]


def test_xor_is_learned_by_nine_of_ten_seeds():
    X, y = datasets.xor(labels="sign")
    solved = 0
    for seed in range(10):
        model = nn.MLP(2, [4, 1], activation="tanh", seed=seed)
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 0.5), epochs=500, progress=False)
        solved += nn.evaluate(model, X, y)["accuracy"] == 1.0
    assert solved >= 9


def test_xor_with_squared_error_on_01_targets():
    X, y = datasets.xor(labels="01")
    model = nn.MLP(2, [4, 1], activation="tanh", seed=1)
    history = nn.fit(model, X, y, loss="squared_error", optimizer=sgd(model, 0.2), epochs=500, progress=False)
    assert history.accuracy[-1] == 1.0  # outputs thresholded at 0.5 for 0/1 targets
    assert np.all(np.abs(nn.predict(model, X) - y) < 0.5)


def test_spirals_three_classes_train():
    X, y = datasets.spirals(150, classes=3, seed=0)
    model = nn.MLP(2, [16, 16, 3], seed=0)
    history = nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
                     epochs=30, batch_size=16, seed=0, progress=False)
    assert history.accuracy[-1] >= 0.9
    assert nn.evaluate(model, X, y)["accuracy"] >= 0.9


def test_digits_reach_95_percent_on_held_out_data():
    # The full 8x8 digits, a 64-32-10 tanh MLP, Adam, 6 epochs: about 2 s compiled (25-35 s eager here;
    # the same setting eagerly also gives 96.1 %).
    pytest.importorskip("sklearn", reason="digits() needs scikit-learn (the datasets extra)")
    X, y = datasets.digits()
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    Xtr, Xte = datasets.standardize(Xtr, Xte)
    model = nn.MLP(64, [32, 10], activation="tanh", seed=0)
    nn.fit(model, Xtr, ytr, loss="cross_entropy", optimizer=nn.optim.Adam(model.parameters(), lr=0.005),
           epochs=6, batch_size=32, seed=0, progress=False, compile=True)
    assert nn.evaluate(model, Xte, yte)["accuracy"] >= 0.95


# --- the three variants ---------------------------------------------------------------------------------
def _recording_loss(order):
    def loss(prediction, target):
        order.append(target)
        return nn.squared_error(prediction, target)
    return loss


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (1, 10), (3, 4), (100, 1)])
def test_batch_sizes_give_the_right_number_of_steps(batch_size, steps_per_epoch):
    X = np.linspace(-1, 1, 10).reshape(-1, 1)
    y = np.arange(10) / 10.0
    model = nn.MLP(1, [1], seed=0)
    seen_t = []
    sched = lambda t: seen_t.append(t) or 0.01  # noqa: E731
    order = []
    # The recording loss has Python side effects, which a traced loss runs only once: train eagerly.
    nn.fit(model, X, y, loss=_recording_loss(order), optimizer=sgd(model), epochs=3, batch_size=batch_size,
           schedule=sched, seed=0, progress=False, metrics=(), compile=False)
    assert seen_t == list(range(3 * steps_per_epoch))
    epochs = [order[i * 10 + 1 : (i + 1) * 10 + 1] for i in range(3)]  # order[0] is fit's probe of sample 0
    assert all(sorted(e) == sorted(y.tolist()) for e in epochs), "each epoch sees every sample once"
    if batch_size is None:
        assert epochs[0] == epochs[1] == y.tolist()
    elif batch_size < 10:
        assert epochs[0] != epochs[1], "reshuffled every epoch"


def test_full_batch_fit_is_plain_gradient_descent():
    X, y = datasets.and_(labels="sign")
    a = nn.MLP(2, [3, 1], activation="tanh", seed=5)
    b = nn.MLP(2, [3, 1], activation="tanh", seed=5)
    # Bitwise equality holds for the eager path; test_tape_train checks the compiled one to 1e-9.
    nn.fit(a, X, y, loss="hinge", optimizer=sgd(a, 0.3), epochs=5, progress=False,
           regularizer=lambda ps: nn.l2(ps, 0.01), compile=False)
    opt = sgd(b, 0.3)
    for _ in range(5):
        total = nn.mean_loss(nn.hinge, [b(x) for x in X.tolist()], y.tolist()) + nn.l2(b.parameters(), 0.01)
        opt.zero_grad()
        total.backward()
        opt.step()
    assert snapshot(a) == snapshot(b)


def test_same_seed_same_run_and_minibatches_learn():
    X, y = datasets.moons(60, noise=0.1, seed=0, labels="sign")
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [8, 1], seed=1)
        h = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 0.1), epochs=8, batch_size=8, seed=7,
                   progress=False)
        runs.append((h.loss, snapshot(model)))
    assert runs[0] == runs[1]
    assert runs[0][0][-1] < runs[0][0][0]


def test_history_records_and_round_trips(tmp_path):
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    h = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 0.5), epochs=4, val_data=(X, y), progress=False)
    assert h.keys() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert h["epoch"] == [1, 2, 3, 4] and all(t >= 0 for t in h.time)
    assert h.val_loss[-1] == pytest.approx(nn.evaluate(model, X, y, loss="hinge")["loss"])
    path = tmp_path / "history.json"
    h.save(path)
    back = nn.History.load(path)
    assert back.records == h.records and back.stop_reason == "completed"
    assert "4 epochs" in repr(h)
    with pytest.raises(KeyError, match="no 'nope'"):
        h["nope"]


def test_val_split_holds_out_data():
    X, y = datasets.moons(50, seed=0, labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    order = []
    h = nn.fit(model, X, y, loss=_recording_loss(order), optimizer=sgd(model), epochs=1, val_split=0.2, compile=False,
               progress=False, seed=0)
    assert len(order) == 1 + 40 + 10  # probe, 40 training samples, 10 validation samples
    assert "val_loss" in h


def test_callbacks_see_logs_and_can_stop():
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    seen = []

    def cb(epoch, logs):
        seen.append((epoch, sorted(logs)))
        return epoch == 3

    h = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=50, callbacks=[cb], progress=False)
    assert len(h) == 3 and h.stop_reason == "callback"
    assert seen[0] == (1, ["accuracy", "epoch", "loss", "lr", "time"])


def test_custom_metric_and_regression_without_accuracy():
    X, y = datasets.sine(40, noise=0.0, seed=0)
    model = nn.MLP(1, [8, 1], activation="tanh", seed=0)

    def mae(outputs, targets):
        return float(np.mean(np.abs(np.array(outputs) - np.array(targets))))

    h = nn.fit(model, X, y, loss="mse", optimizer=nn.optim.Adam(model.parameters(), lr=0.05), epochs=30,
               metrics=("accuracy", mae), progress=False)
    assert "accuracy" not in h  # real-valued targets: no accuracy
    assert h.mae[-1] < h.mae[0]


# --- early stopping -------------------------------------------------------------------------------------
def test_early_stopping_restores_the_best_weights():
    # Validation labels are the opposite of the training labels: as training succeeds the validation
    # loss rises, so the best epoch is early and the run stops `patience` epochs later.
    X, y = datasets.moons(40, noise=0.1, seed=0, labels="sign")
    model = nn.MLP(2, [8, 1], seed=3)
    states = {}
    h = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 0.2), epochs=200, val_data=(X, -y),
               early_stopping=nn.EarlyStopping(patience=4), progress=False,
               callbacks=[lambda epoch, logs: states.__setitem__(epoch, model.state_dict())])
    best = int(np.argmin(h.val_loss)) + 1
    assert h.stop_reason == "early_stopping" and h.best_epoch == best and h.restored_best
    assert len(h) == best + 4 < 200
    assert model.state_dict() == states[best] != states[len(h)]


def test_early_stopping_as_patience_and_without_restore():
    X, y = datasets.moons(40, noise=0.1, seed=0, labels="sign")
    model = nn.MLP(2, [8, 1], seed=3)
    h = nn.fit(model, X, y, loss="hinge", optimizer=sgd(model, 0.2), epochs=200, val_data=(X, -y),
               early_stopping=nn.EarlyStopping(patience=2, restore_best=False), progress=False)
    assert not h.restored_best and len(h) == h.best_epoch + 2
    with pytest.raises(ValueError, match="early_stopping watches the validation loss"):
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=2, early_stopping=3, progress=False)
    with pytest.raises(ValueError, match="patience"):
        nn.EarlyStopping(patience=0)


# --- bad inputs -----------------------------------------------------------------------------------------
@pytest.fixture
def moons_model():
    X, y = datasets.moons(20, seed=0, labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    return X, y, model


def _fit(model, X, y, **kw):
    kw.setdefault("loss", "hinge")
    kw.setdefault("epochs", 2)
    return nn.fit(model, X, y, optimizer=kw.pop("optimizer", sgd(model)), progress=False, **kw)


def test_length_mismatch(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match="X has 20 samples but y has 19 labels"):
        _fit(model, X, y[:19])


def test_wrong_sample_width(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match=r"samples have 3 features but the model expects 2 inputs"):
        _fit(model, np.hstack([X, X[:, :1]]), y)
    with pytest.raises(ValueError, match="different widths: sample 0 has 2 values, sample 1 has 3"):
        _fit(model, [[0.0, 1.0], [1.0, 2.0, 3.0]], [1, -1])


def test_non_finite_inputs(moons_model):
    X, y, model = moons_model
    X = X.copy()
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite value in sample 5"):
        _fit(model, X, y)
    with pytest.raises(ValueError, match="y has a NaN"):
        _fit(model, moons_model[0], np.where(np.arange(20) == 3, np.inf, y))


def test_non_finite_inputs_are_found_by_the_one_sum_and_huge_finite_ones_pass(moons_model):
    # X is checked by its sum: +inf and -inf together sum to NaN, and finite numbers whose sum
    # overflows are finite all the same (fit then diverges on them, it does not refuse them as data)
    X, y, model = moons_model
    X = X.copy()
    X[7, 0], X[9, 1] = np.inf, -np.inf
    with pytest.raises(ValueError, match="NaN or infinite value in sample 7"):
        _fit(model, X, y)
    X = moons_model[0].copy()
    X[:, 0] = 1e308
    with pytest.raises(nn.DivergenceError, match="the loss is inf"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "overflow in reduce": the losses' sum is inf
        _fit(model, X, y)
    with pytest.raises(ValueError, match="y has a NaN or infinite value at sample 2"):
        _fit(model, moons_model[0], np.where(np.arange(20) == 2, -np.inf, np.where(np.arange(20) == 4, np.inf, y)))


def test_01_labels_for_hinge_name_the_fix(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match=r"hinge' expects labels -1/\+1, but y holds \{0, 1\}.*to_labels\(y, 'sign'\)"):
        _fit(model, X, datasets.to_labels(y, "01"))


def test_sign_labels_for_cross_entropy(moons_model):
    X, y, _ = moons_model
    model = nn.MLP(2, [4, 2], seed=0)
    with pytest.raises(ValueError, match=r"cross_entropy' expects class indices 0..1.*\{-1, 1\}.*'index'"):
        _fit(model, X, y, loss="cross_entropy")
    with pytest.raises(ValueError, match="the model has 2 outputs\\), but y has class 2"):
        _fit(model, X, np.arange(20) % 3, loss="cross_entropy")


def test_sign_labels_for_binary_cross_entropy(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match=r"expects labels 0/1.*to_labels\(y, '01'\)"):
        _fit(model, X, y, loss="bce")


def test_unknown_loss_and_bad_arguments(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match="no loss named 'nope'"):
        _fit(model, X, y, loss="nope")
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        _fit(model, X, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        _fit(model, X, y, batch_size=0)
    with pytest.raises(ValueError, match="val_split"):
        _fit(model, X, y, val_split=1.0)
    with pytest.raises(TypeError, match="optimizer must be an nn.optim"):
        _fit(model, X, y, optimizer="sgd")
    with pytest.raises(ValueError, match="progress must be"):
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=1, progress="loud")


def test_custom_loss_that_rejects_the_output(moons_model):
    X, y, model = moons_model
    with pytest.raises(ValueError, match="loss .* cannot take the model's output"):
        _fit(model, X, y, loss=lambda p, t: nn.cross_entropy(p, int(t)))


def test_divergence_stops_and_keeps_the_last_finite_parameters():
    X = np.array([[1.0], [2.0], [3.0]])
    y = np.array([1.0, 2.0, 3.0])
    model = nn.MLP(1, [1], seed=0)
    states = {0: snapshot(model)}
    with pytest.raises(nn.DivergenceError, match=r"diverged at epoch (\d+), batch 1.*last finite parameters") as info:
        nn.fit(model, X, y, loss="mse", optimizer=sgd(model, 5.0), epochs=10_000, progress=False,
               callbacks=[lambda e, logs: states.__setitem__(e, snapshot(model))])
    err = info.value
    assert isinstance(err, ValueError) and err.history.stop_reason == "diverged"
    assert len(err.history) == err.epoch - 1 > 3
    assert all(math.isfinite(v) for v in snapshot(model))
    assert snapshot(model) == states[err.epoch - 1]  # the step that blew up was undone


def test_divergence_from_a_non_finite_loss():
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [2, 1], seed=0)
    calls = []

    def loss(prediction, target):  # finite at first, then infinite
        calls.append(1)
        return nn.hinge(prediction, target) * (float("inf") if len(calls) > 9 else 1.0)

    states = {}
    with pytest.raises(nn.DivergenceError, match="at epoch 3, batch 1: the loss is (inf|nan)"):
        nn.fit(model, X, y, loss=loss, optimizer=sgd(model), epochs=5, progress=False, compile=False,
               callbacks=[lambda e, logs: states.__setitem__(e, snapshot(model))])  # a stateful loss: eager
    assert snapshot(model) == states[2]  # calls: 1 probe + 4 per epoch, so epoch 3 is the first infinite one


# --- evaluation helpers ---------------------------------------------------------------------------------
def test_predict_batch_matches_one_sample_at_a_time():
    X, _ = datasets.blobs(100, centers=3, seed=0)
    model = nn.MLP(2, [8, 8, 3], activation="tanh", seed=0)
    fast = nn.predict(model, X)
    slow = np.array([[v.data for v in model(x)] for x in X.tolist()])
    assert fast.shape == (100, 3) and np.allclose(fast, slow, rtol=0, atol=1e-12)
    top2 = np.sort(slow, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-9  # a tie within the batch's rounding may go either way
    assert clear.mean() > 0.9 and np.array_equal(nn.predict_classes(model, X)[clear], slow.argmax(axis=1)[clear])
    single = nn.MLP(2, [4, 1], seed=0)
    assert nn.predict(single, X).shape == (100,)
    assert set(nn.predict_classes(single, X).tolist()) <= {0, 1}
    assert isinstance(nn.predict(single, X[:1])[0], float)


def test_predict_keeps_the_model_mode_and_builds_no_graph():
    model = nn.MLP(2, [4, 1], seed=0)
    nn.predict(model, np.zeros((80, 2)))
    assert model.training
    assert all(isinstance(p, Value) and p.grad == 0.0 for p in model.parameters())


# --- progress output ------------------------------------------------------------------------------------
def test_no_output_with_progress_false(capsys):
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=20, progress=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_plain_lines_when_not_a_terminal(capsys):
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=20, progress=True)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and "\r" not in err
    assert lines[0].startswith("epoch  1/20  loss ") and lines[-1].startswith("epoch 20/20")
    assert 2 < len(lines) <= 12 and "accuracy" in lines[-1]


def test_tqdm_bar_on_request(capsys):
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=5, progress="bar")
    err = capsys.readouterr().err
    assert "5/5" in err and "epoch" in err and "loss=" in err


def test_dropout_and_batchnorm_models_train_and_usage_errors_pass_through():
    X, y = datasets.moons(40, seed=0, labels="sign")
    for kw in (dict(batchnorm=True), dict(dropout=0.2)):
        model = nn.MLP(2, [8, 8, 1], seed=0, **kw)
        h = nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.Adam(model.parameters(), lr=0.01), epochs=15,
                   batch_size=8, val_split=0.25, seed=0, progress=False)
        assert model.training and h.loss[-1] < h.loss[0]
        model.eval()
        slow = np.array([model(x).data for x in X.tolist()])
        assert np.allclose(nn.predict(model, X), slow, rtol=0, atol=1e-12)  # batch replay = one by one
    model = nn.MLP(2, [8, 1], seed=0, batchnorm=True)
    with pytest.raises(ValueError, match="BatchNorm: training needs a batch of at least 2") as info:
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=1, batch_size=1, progress=False)
    assert not isinstance(info.value, nn.DivergenceError)


# --- label forms, accuracy thresholds, BatchNorm state (review fixes) ----------------------------------
def test_evaluate_without_a_loss_thresholds_logits_at_zero():
    # One output, 0/1 labels: the output is a logit or a score (as predict_classes), not a probability.
    model = nn.MLP(1, [1], seed=0)
    model.load_state_dict({"layers.0.neurons.0.w[0]": 1.0, "layers.0.neurons.0.b": 0.0})
    X = np.array([[0.2], [0.3], [-0.2], [0.7]])
    y = np.array([1.0, 1.0, 0.0, 1.0])
    assert nn.predict_classes(model, X).tolist() == [1, 1, 0, 1]
    assert nn.evaluate(model, X, y)["accuracy"] == 1.0
    assert nn.evaluate(model, X, y, loss="bce")["accuracy"] == 1.0
    # nn's squared error on 0/1 targets regresses them directly: 0.5 splits the classes.
    assert nn.evaluate(model, X, y, loss="mse")["accuracy"] == 0.5


def test_labels_that_fit_both_binary_forms_are_accepted_by_either():
    X, y = datasets.moons(20, seed=0, labels="sign")
    positives = X[y > 0], y[y > 0]  # {1}: both "01" and "-1/+1"
    for loss in ("hinge", "perceptron", "bce"):
        model = nn.MLP(2, [4, 1], seed=0)
        assert nn.evaluate(model, *positives, loss=loss)["accuracy"] == np.mean(nn.predict(model, positives[0]) > 0)
        _fit(model, *positives, loss=loss)
    with pytest.raises(ValueError, match=r"expects labels 0/1.*\{-1\}"):
        _fit(nn.MLP(2, [4, 1], seed=0), X[y < 0], y[y < 0], loss="bce")


def test_binary_losses_take_one_label_per_output():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[-1.0, 1.0], [1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    model = nn.MLP(2, [8, 2], seed=0)
    h = _fit(model, X, Y, loss="hinge", epochs=30, optimizer=sgd(model, 0.2))
    assert h.loss[-1] < h.loss[0]
    expected = np.mean([nn.hinge(list(map(Value, o)), t).data for o, t in zip(nn.predict(model, X).tolist(), Y)])
    assert nn.evaluate(model, X, Y, loss="hinge")["loss"] == pytest.approx(expected)
    _fit(nn.MLP(2, [4, 2], seed=0), X, (Y + 1) / 2, loss="bce")
    with pytest.raises(ValueError, match=r"expects labels -1/\+1, one per model output \(3\).*rows of width 2"):
        _fit(nn.MLP(2, [4, 3], seed=0), X, Y)
    with pytest.raises(ValueError, match=r"expects labels -1/\+1, one per model output.*\[0.0, 1.0, 2.0\]"):
        _fit(nn.MLP(2, [4, 2], seed=0), X, [[0, 2], [1, 1], [1, 1], [1, 1]])


def test_divergence_restores_batchnorm_running_statistics():
    X, y = datasets.demo_moons(labels="sign")
    model = nn.MLP(2, [8, 1], batchnorm=True, seed=0)
    before_step = []  # the schedule runs just before each step: record the whole state there

    def schedule(t):
        before_step.append(model.state_dict())
        return 1e6

    with pytest.raises(nn.DivergenceError):
        nn.fit(model, X, y, loss="mse", optimizer=sgd(model, 1e6), epochs=50, batch_size=20, progress=False,
               seed=0, schedule=schedule)
    assert len(before_step) > 1 and model.state_dict() == before_step[-1]  # running statistics included
    assert any(k.startswith("norms.0.running_") for k in before_step[-1])


def test_batchnorm_with_a_last_batch_of_one_fails_before_training():
    X, y = datasets.moons(101, seed=0, labels="sign")
    model = nn.MLP(2, [4, 1], batchnorm=True, seed=0)
    before = model.state_dict()
    steps = []
    with pytest.raises(ValueError, match=r"batch_size=10 splits the 101 training samples into 10 batches of 10 "
                                         r"and a last batch of 1"):
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=3, batch_size=10, progress=False,
               schedule=lambda t: steps.append(t) or 0.1)
    assert steps == [] and model.state_dict() == before
    with pytest.raises(ValueError, match="BatchNorm: training needs a batch of at least 2 samples, but batch_size=1"):
        nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=1, batch_size=1, progress=False)
    nn.fit(model, X, y, loss="hinge", optimizer=sgd(model), epochs=1, batch_size=10, val_split=0.01, seed=0,
           progress=False)  # 100 training samples: batches of 10


@pytest.mark.parametrize("seed", [-5, 1.5, "0", True])
def test_bad_seed_names_the_argument(moons_model, seed):
    X, y, model = moons_model
    with pytest.raises(ValueError, match=f"fit: seed must be an integer >= 0, got {seed!r}"):
        _fit(model, X, y, seed=seed, batch_size=10)


def test_numpy_integer_seed(moons_model):
    X, y, _ = moons_model
    runs = [_fit(nn.MLP(2, [4, 1], seed=0), X, y, seed=s, batch_size=5).loss for s in (3, np.int64(3))]
    assert runs[0] == runs[1]


def test_a_value_the_optimiser_holds_besides_the_model_gets_one_batch_of_gradient_per_step():
    X, y = datasets.moons(40, 0.1, seed=1, labels="sign")
    runs = {}
    for how in ("eager", "compiled", "manual"):
        m = nn.MLP(2, [4, 1], seed=0)
        s = Value(1.0)
        opt = nn.optim.SGD(m.parameters() + [s], lr=0.05)

        def loss(p, t, s=s):
            return nn.losses.squared_error(p * s, t)

        if how == "manual":
            for _ in range(4):
                total = nn.mean_loss(loss, [m(x) for x in X.tolist()], y.tolist())
                opt.zero_grad()
                total.backward()
                opt.step()
        else:
            nn.fit(m, X, y, loss=loss, optimizer=opt, epochs=4, batch_size=len(X), progress=False,
                   compile=how == "compiled")
        runs[how] = [s.data, s.grad] + [p.data for p in m.parameters()]
    np.testing.assert_allclose(runs["eager"], runs["manual"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(runs["compiled"], runs["manual"], rtol=1e-9, atol=1e-12)


def test_an_optimiser_made_for_another_model_is_refused_before_training():
    X, y = datasets.moons(40, 0.1, seed=1, labels="sign")
    old, m = nn.MLP(2, [4, 1], seed=0), nn.MLP(2, [4, 1], seed=1)
    before = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match=r"^fit: none of the optimizer's parameters .* belong to the model .*"
                                         r"was the optimizer made for another model\?"):
        nn.fit(m, X, y, loss="hinge", optimizer=nn.optim.SGD(old.parameters(), lr=0.1), epochs=3, progress=False)
    assert [p.data for p in m.parameters()] == before
    with pytest.raises(ValueError, match=r"^prepare_fit: none of the optimizer's parameters"):
        nn.prepare_fit(m, X, y, loss="hinge", optimizer=nn.optim.SGD(old.parameters(), lr=0.1))
    # A Value only the loss uses may be optimised alone (the model frozen): it is reached, so allowed.
    s = Value(1.0)
    h = nn.fit(m, X, y, loss=lambda p, t: nn.losses.squared_error(p * s, t), optimizer=nn.optim.SGD([s], lr=0.05),
               epochs=3, progress=False)
    assert s.data != 1.0 and h.loss[0] != h.loss[-1]
    assert [p.data for p in m.parameters()] == before


def test_divergence_in_the_first_epoch_leaves_a_history_with_empty_series():
    X, y = datasets.moons(40, 0.1, seed=1, labels="sign")
    m = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(nn.DivergenceError) as caught:
        nn.fit(m, X, y, loss="mse", optimizer=nn.optim.SGD(m.parameters(), lr=1e300), epochs=3, batch_size=1,
               progress=False, val_split=0.25)
    h = caught.value.history
    assert caught.value.epoch == 1 and len(h) == 0
    assert h.loss == [] and h["accuracy"] == [] and h.val_loss == [] and h.lr == []
