"""Every public nn function names itself, the argument and the value when an argument is wrong, in one
bounded line; model building takes numpy integers for sizes; fit refuses data that is not real numbers."""

import numpy as np
import pytest

import nn
from nn import cli, datasets, init, losses

X, Y = datasets.xor(labels="sign")


def _model():
    return nn.MLP(2, [3, 1], seed=0)


def _fit(**kw):
    model = _model()
    args = dict(loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    args.update(kw)
    return nn.fit(model, args.pop("X", X), args.pop("y", Y), **args)


def _prepare(**kw):
    model = _model()
    return nn.prepare_fit(model, X, Y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), **kw)


BAD = [
    # (call, exception, the message's start)
    (lambda: _fit(epochs=0), ValueError, "fit: epochs must be an integer >= 1, got 0"),
    (lambda: _fit(loss="nope"), ValueError, "fit: no loss named 'nope'; known: absolute_error, bce"),
    (lambda: _fit(metrics=["f1"]), ValueError, "fit: no metric named 'f1'"),
    (lambda: _fit(schedule=0.1), TypeError, "fit: schedule must be a function t -> lr, got float 0.1"),
    (lambda: _fit(val_split=1.5), ValueError, "fit: val_split must be a fraction in [0, 1), got 1.5"),
    (lambda: _fit(optimizer="sgd"), TypeError, "fit: optimizer must be an nn.optim optimiser"),
    (lambda: _fit(callbacks=[3]), TypeError, "fit: each callback must be a function cb(epoch, logs), got int 3"),
    (lambda: _prepare(batch_size=-1), ValueError, "prepare_fit: batch_size must be an integer >= 1, got -1"),
    (lambda: nn.prepare_fit(_model(), X, Y, loss="nope", optimizer=None, caller="train"), ValueError,
     "train: no loss named 'nope'"),
    (lambda: nn.evaluate(_model(), X, Y, loss="nope"), ValueError, "evaluate: no loss named 'nope'; known: "),
    (lambda: nn.evaluate(_model(), X, Y, metrics=("accuracy", "f1")), ValueError, "evaluate: no metric named 'f1'"),
    (lambda: nn.evaluate(_model(), X, Y[:3]), ValueError, "evaluate: X has 4 samples but y has 3 labels"),
    (lambda: nn.predict(_model(), [[1.0, 2.0, 3.0]]), ValueError,
     "predict: samples have 3 features but the model expects 2 inputs"),
    (lambda: nn.predict(_model(), None), TypeError, "predict: X must be samples x features"),
    (lambda: nn.predict_classes(_model(), X, threshold="0.5"), TypeError,
     "predict_classes: threshold must be a real number, got str '0.5'"),
    (lambda: nn.predict_classes(_model(), [[1.0]]), ValueError, "predict_classes: samples have 1 feature"),
    (lambda: nn.MLP(2, [16, 0]), ValueError, "MLP: each of nouts must be a positive integer, got 0"),
    (lambda: nn.MLP(1, [3, 1])(1.0), TypeError, "MLP: a sample must be a list of 1 input ([x] for one number), got "
                                                "float 1.0"),
    (lambda: nn.MLP(2, [3, 1]).forward_batch([1.0, 2.0]), TypeError, "MLP: a sample must be a list of 2 inputs, got "
                                                                     "float 1.0"),
    (lambda: nn.Layer(2, 3)(1.0), TypeError, "Layer: a sample must be a list of 2 inputs, got float 1.0"),
    (lambda: nn.BatchNorm(1).forward_batch([1.0, 2.0]), TypeError, "BatchNorm: a sample must be a list of 1 feature, "
                                                                   "got float 1.0"),
    (lambda: nn.MLP(2, 3), ValueError, "MLP: nouts must be a non-empty list of layer sizes, got 3"),
    (lambda: nn.MLP(2, [3, 1], activation="relu6"), ValueError, "MLP: no activation named 'relu6'; known: "),
    (lambda: nn.MLP(2, [3, 1], init="xavier"), ValueError, "MLP: no initialiser named 'xavier'; known: "),
    (lambda: nn.MLP(2, [3, 1], batchnorm=True, bn_eps=0.0), ValueError, "MLP: bn_eps must be finite and > 0"),
    (lambda: nn.Layer(2, 1.5), ValueError, "Layer: nout must be a positive integer, got 1.5"),
    (lambda: nn.Layer(2, 1, activation=3), TypeError, "Layer: activation must be a name, a callable or an"),
    (lambda: nn.Neuron("2"), ValueError, "Neuron: nin must be a positive integer, got '2'"),
    (lambda: nn.Neuron(2, seed=1.5), TypeError, "Neuron: seed must be an integer or None, got float 1.5"),
    (lambda: nn.BatchNorm(3, momentum=2), ValueError, "BatchNorm: momentum must be in [0, 1], got 2.0"),
    (lambda: nn.Dropout(1.0), ValueError, "Dropout: p must be a number in [0, 1), got 1.0"),
    (lambda: datasets.labels_for("huber"), ValueError, "labels_for: no loss named 'huber'; known: "),
    (lambda: datasets.labels_for(None), TypeError, "labels_for: loss must be a loss name, got NoneType None"),
    (lambda: datasets.train_test_split(X, Y, test_size=2.0), ValueError, "train_test_split: test_size must be"),
    (lambda: datasets.train_test_split(X, Y, seed="0"), ValueError, "train_test_split: seed must be an integer"),
    (lambda: datasets.train_test_split(None, Y), TypeError, "train_test_split: X must be an array of samples"),
    (lambda: datasets.moons(1), ValueError, "moons: n must be an integer >= 2, got 1"),
    (lambda: datasets.moons(10, labels="signs"), ValueError, "moons: labels must be one of index, "),
    (lambda: datasets.blobs(10, centers=0), ValueError, "blobs: centers must be an integer >= 1, got 0"),
    (lambda: datasets.spirals(10, noise=-1), ValueError, "spirals: noise must be finite and >= 0, got -1.0"),
    (lambda: losses.get("nope"), KeyError, "losses.get: no loss named 'nope'"),
    (lambda: losses.mean_loss("nope", [1.0], [1.0]), KeyError, "mean_loss: no loss named 'nope'"),
    (lambda: losses.get(3), TypeError, "losses.get: loss must be a loss name or a function, got int 3"),
    (lambda: nn.get_activation("maxout", k=0), ValueError, "get_activation: maxout's k must be a positive integer"),
    (lambda: init.get_init(None), TypeError, "get_init: init must be a name or a callable"),
]


@pytest.mark.parametrize("call, error, start", BAD, ids=[b[2].split(":")[0] + ": " + b[2].split(": ")[1][:30]
                                                       for b in BAD])
def test_a_bad_argument_names_the_function_called(call, error, start):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert message.startswith(start), message
    assert "\n" not in message and len(message) < 400


@pytest.mark.parametrize("argv, start", [
    (["train", "--loss", "huber"], "python -m nn train: error: argument --loss: no loss named 'huber'; known: "),
    (["train", "--activation", "relu6"], "python -m nn train: error: argument --activation: no activation named"),
    (["train", "--optimizer", "lbfgs"], "python -m nn train: error: argument --optimizer: invalid choice: 'lbfgs'"),
    (["predict", "missing.json", "1"], "python -m nn predict: error: no such model file: 'missing.json'"),
    (["info", "missing.json"], "python -m nn info: error: no such model file: 'missing.json'"),
])
def test_cli_errors_name_the_subcommand(argv, start, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and err[-1].startswith(start)


# --- issue 13, item 10: numpy integers and integer arrays as layer sizes --------------------------------
def test_mlp_takes_numpy_integers_and_integer_arrays_as_sizes():
    a = nn.MLP(2, [16, np.int64(3)], seed=0)
    b = nn.MLP(np.int32(2), np.array([3, 1]), seed=0)
    assert a.nouts == [16, 3] and all(type(n) is int for n in a.nouts)
    assert b.nin == 2 and b.nouts == [3, 1] and type(b.nin) is int
    assert len(a([0.5, -0.5])) == 3 and b([0.5, -0.5]).data == nn.MLP(2, [3, 1], seed=0)([0.5, -0.5]).data
    assert a.config()["nouts"] == [16, 3]  # JSON-ready: plain ints
    with pytest.raises(ValueError, match=r"^MLP: nouts must be a non-empty list of layer sizes \(1-D\)"):
        nn.MLP(2, np.array([[3, 1]]))


# --- issue 13, "Also": fit with X that is not a table of real numbers ------------------------------------
@pytest.mark.parametrize("bad, error, message", [
    (None, TypeError, "fit: X must be samples x features (a 2-D array or a list of samples), got NoneType None"),
    (3.0, TypeError, "fit: X must be samples x features (a 2-D array or a list of samples), got float 3.0"),
    (np.array([["0", "1"], ["1", "0"], ["a", "b"], ["1", "1"]]), ValueError,
     "fit: X must be numbers, got text (dtype <U1) such as '0'"),
    ([["0", "1"], ["1", "0"], ["0", "0"], ["1", "1"]], ValueError, "fit: X must be numbers, got text"),
    (X + 1j, ValueError, "fit: X must be real numbers, got complex values; pass X.real or abs(X)"),
    ([[1 + 0j, 0], [0, 1], [0, 0], [1, 1]], ValueError, "fit: X must be real numbers, got complex values"),
])
def test_fit_refuses_x_that_is_not_real_numbers(bad, error, message):
    model = _model()
    before = model.state_dict()
    with pytest.raises(error) as info:
        nn.fit(model, bad, Y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert str(info.value).startswith(message), str(info.value)
    assert model.state_dict() == before


def test_complex_labels_are_refused_not_truncated():
    with pytest.raises(ValueError, match=r"^fit: y must be real numbers, got complex values"):
        _fit(y=Y + 0j)


def test_prepare_fit_called_directly_names_prepare_fit_in_its_errors():
    X, y = datasets.moons(40, 0.1, seed=1, labels="sign")
    m = nn.MLP(2, [4, 1], seed=0)
    opt = nn.optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"^prepare_fit: epochs"):
        nn.prepare_fit(m, X, y, loss="hinge", optimizer=opt, epochs=0)
    with pytest.raises(ValueError, match=r"^fit: epochs"):
        nn.fit(m, X, y, loss="hinge", optimizer=opt, epochs=0, progress=False)


# --- assigning an activation after construction (PyTorch habit): one line naming the chalkgrad way -------------
def _state(model):
    out = model([1.0] * model.nin)
    outputs = out if isinstance(out, list) else [out]
    return repr(model), [p.data for p in model.parameters()], [v.data for v in outputs]


@pytest.mark.parametrize("build, name, value, message", [
    (lambda: nn.Layer(3, 4, seed=0), "activation", "tanh",
     "Layer: activation cannot be assigned after construction, got 'tanh'; "
     "build a new layer with it: Layer(3, 4, activation='tanh')"),
    (lambda: nn.Layer(3, 4, seed=0), "activation", nn.activations.tanh,
     "Layer: activation cannot be assigned after construction, got <function tanh at "),
    (lambda: nn.MLP(2, [16, 16, 1], seed=0), "activation", "tanh",
     "MLP: activation cannot be assigned after construction, got 'tanh'; "
     "build a new model with it: MLP(2, [16, 16, 1], activation='tanh')"),
    (lambda: nn.MLP(2, [3, 2], seed=0), "output_activation", "sigmoid",
     "MLP: output_activation cannot be assigned after construction, got 'sigmoid'; "
     "build a new model with it: MLP(2, [3, 2], output_activation='sigmoid')"),
])
def test_assigning_an_activation_names_the_constructor_and_changes_nothing(build, name, value, message):
    model = build()
    before = _state(model)
    with pytest.raises(AttributeError) as info:
        setattr(model, name, value)
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text and len(text) < 400
    assert _state(model) == before and name not in vars(model)
    if isinstance(value, str):  # the suggested call builds what was asked for
        rebuilt = eval(text.split("with it: ", 1)[1], {"Layer": nn.Layer, "MLP": nn.MLP})
        layers = rebuilt.layers if isinstance(rebuilt, nn.MLP) else [rebuilt]
        assert (layers[0] if name == "activation" else layers[-1]).activation.name == value
