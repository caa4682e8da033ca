"""State a user changes between two fits reaches the next compiled fit: every hyper-parameter of the model,
the loss and the regulariser that changes ``model(x)`` or the objective is seen (the cached tape is
traced again), so ``compile=True`` and the default give what eager training gives after the change."""

from __future__ import annotations

import functools
import random
import warnings

import numpy as np
import pytest

import nn
from nn import datasets

X, Y_SIGN = datasets.demo_moons(labels="sign")
Y_INDEX = datasets.demo_moons(labels="index")[1].astype(int)
X, Y_SIGN, Y_INDEX = X[:40], Y_SIGN[:40], Y_INDEX[:40]


def _fit(model, compile, loss, y, **kw):
    with warnings.catch_warnings():
        if compile:
            warnings.simplefilter("error")  # compile=True falls back with a warning: none may come
        nn.fit(model, X, y, loss=loss, optimizer=nn.optim.SGD(model.parameters(), lr=0.05), epochs=2,
               batch_size=10, seed=0, progress=False, compile=compile, **kw)


def _twice(make, change, compile, loss="mse", y=Y_SIGN, **kw):
    """Parameters after fit, ``change(model)``, fit again."""
    model = make()
    _fit(model, compile, loss, y, **kw)
    change(model)
    _fit(model, compile, loss, y, **kw)
    running = [v for bn in getattr(model, "norms", []) for v in bn.running_mean + bn.running_var]
    return np.array([p.data for p in model.parameters()] + running)


def _sees_the_change(make, change, loss="mse", y=Y_SIGN, compiles=(True, None), **kw):
    eager = _twice(make, change, False, loss, y, **kw)
    for compile in compiles:
        got = _twice(make, change, compile, loss, y, **kw)
        assert np.abs(got - eager).max() <= 1e-9, compile
    unchanged = _twice(make, lambda m: None, False, loss, y, **kw)
    assert unchanged.shape != eager.shape or np.abs(unchanged - eager).max() > 1e-6  # the test can fail


def _set_hyper(name, value, layer=0):
    def change(model):
        for n in model.layers[layer].neurons:
            n.activation.hyper[name] = value
    return change


def test_a_leaky_relu_alpha_changed_between_fits_is_trained_with():
    _sees_the_change(lambda: nn.MLP(2, [8, 1], activation="leaky_relu", seed=0), _set_hyper("alpha", 0.9))


def test_an_elu_alpha_changed_between_fits_is_trained_with():
    _sees_the_change(lambda: nn.MLP(2, [8, 1], activation="elu", seed=0), _set_hyper("alpha", 3.0))


def test_a_replaced_activation_object_is_trained_with():
    def change(model):
        for n in model.layers[0].neurons:
            n.activation = nn.activations.get_activation("leaky_relu", alpha=0.5)
    _sees_the_change(lambda: nn.MLP(2, [8, 1], activation="relu", seed=0), change)


SLOPE = 0.1


def _global_slope(x):
    return x.leaky_relu(SLOPE)


def test_a_custom_activation_reads_its_global_afresh_in_each_fit():
    global SLOPE

    def change(model):
        global SLOPE
        SLOPE = 0.8

    def make():
        global SLOPE
        SLOPE = 0.1
        return nn.MLP(2, [8, 1], activation=_global_slope, seed=0)

    try:
        _sees_the_change(make, change)
    finally:
        SLOPE = 0.1


def test_a_custom_activation_default_argument_changed_between_fits_is_trained_with():
    def act(x, alpha=[0.1]):  # noqa: B006 - the mutable default is the state under test
        return x.leaky_relu(alpha[0])

    def make():
        act.__defaults__[0][0] = 0.1
        return nn.MLP(2, [8, 1], activation=act, seed=0)

    _sees_the_change(make, lambda m: act.__defaults__[0].__setitem__(0, 0.7))


@pytest.mark.parametrize("before, after", [(0.5, 0.2), (0.0, 0.4), (0.4, 0.0)])
def test_a_dropout_p_changed_between_fits_is_trained_with(before, after):
    def make():
        model = nn.MLP(2, [8, 8, 1], dropout=0.5, seed=0)
        for d in model.dropouts:
            d.p = before
        return model

    def change(model):
        for d in model.dropouts:
            d.p = after
    _sees_the_change(make, change)


def test_a_removed_bias_is_trained_without():
    def change(model):
        for n in model.layers[1].neurons:
            n.b = None
    _sees_the_change(lambda: nn.MLP(2, [8, 1], seed=0), change)


@pytest.mark.parametrize("attr, value", [("eps", 0.5), ("momentum", 0.9)])
def test_a_batchnorm_setting_changed_between_fits_is_trained_with(attr, value):
    """BatchNorm trains eagerly (whole-batch statistics), by default silently: the change is seen
    (momentum in the running statistics, compared too)."""
    def change(model):
        for bn in model.norms:
            setattr(bn, attr, value)
    _sees_the_change(lambda: nn.MLP(2, [8, 1], batchnorm=True, seed=0), change, compiles=(None,))


MARGIN = 1.0


def _hinge(scores, target, margin):
    return nn.losses.multiclass_hinge(scores, int(target), margin=margin)  # fit hands custom losses floats


def _hinge_with_global_margin(scores, target):
    return _hinge(scores, target, MARGIN)


def test_a_loss_reading_a_changed_global_is_trained_with():
    global MARGIN

    def change(model):
        global MARGIN
        MARGIN = 3.0

    def make():
        global MARGIN
        MARGIN = 1.0
        return nn.MLP(2, [8, 2], seed=0)

    try:
        _sees_the_change(make, change, loss=_hinge_with_global_margin, y=Y_INDEX, compiles=(True,))
    finally:
        MARGIN = 1.0


def test_a_partial_losss_changed_keyword_is_trained_with():
    loss = functools.partial(_hinge, margin=1.0)

    def make():
        loss.keywords["margin"] = 1.0
        return nn.MLP(2, [8, 2], seed=0)

    _sees_the_change(make, lambda m: loss.keywords.__setitem__("margin", 3.0), loss=loss, y=Y_INDEX,
                     compiles=(True,))


def test_a_closure_losss_changed_cell_is_trained_with():
    margin = [1.0]

    def loss(scores, target):
        return _hinge(scores, target, margin[0])

    def make():
        margin[0] = 1.0
        return nn.MLP(2, [8, 2], seed=0)

    _sees_the_change(make, lambda m: margin.__setitem__(0, 3.0), loss=loss, y=Y_INDEX, compiles=(True,))


LAM = 1e-3


def test_a_regularisers_changed_lambda_is_trained_with():
    global LAM

    def change(model):
        global LAM
        LAM = 0.3

    def make():
        global LAM
        LAM = 1e-3
        return nn.MLP(2, [8, 1], seed=0)

    def l2(ps):  # the array form
        return nn.l2(ps, LAM)

    def l2_and_l1(ps):  # traced as it is
        return nn.l2(ps, LAM) + nn.l1(ps, LAM)

    for regularizer in (l2, l2_and_l1):
        try:
            _sees_the_change(make, change, regularizer=regularizer)
        finally:
            LAM = 1e-3


def test_training_alone_does_not_re_trace(monkeypatch):
    """The key is the state a user sets, not the parameters' values: fits in a row trace once."""
    from nn import compiled

    traced = []
    real = compiled.CompiledModel._trace
    monkeypatch.setattr(compiled.CompiledModel, "_trace", lambda self, k: traced.append(k) or real(self, k))
    model = nn.MLP(2, [8, 1], activation="leaky_relu", dropout=0.2, seed=0)
    for _ in range(3):
        _fit(model, True, "mse", Y_SIGN)
    assert len(traced) == 1
    _set_hyper("alpha", 0.3)(model)
    _fit(model, True, "mse", Y_SIGN)
    assert len(traced) == 2


# --- the family: every model state a user can change between fits, drawn at random --------------------
def _random_change(rng):
    """(what to build, what to change, its description): one state a user can set between fits."""
    act, hyper = rng.choice([("leaky_relu", "alpha"), ("elu", "alpha"), ("relu", None), ("tanh", None)])
    kinds = ["dropout", "activation", "bias"] + (["hyper"] if hyper else [])
    kind, p, value = rng.choice(kinds), rng.choice([0.0, 0.3]), round(rng.uniform(0.05, 2.0), 3)
    width, seed, other = rng.choice([3, 6]), rng.randrange(100), rng.choice(["relu", "tanh", "sigmoid", "softplus"])

    def make():
        model = nn.MLP(2, [width, width, 1], activation=act, dropout=0.5, seed=seed)
        for d in model.dropouts:
            d.p = p
        return model

    def change(model):
        if kind == "hyper":
            _set_hyper(hyper, value, layer=rng_layer)(model)
        elif kind == "dropout":
            model.dropouts[rng_layer].p = 0.3 if p == 0.0 else 0.0
        elif kind == "activation":
            for n in model.layers[rng_layer].neurons[::2]:
                n.activation = nn.activations.get_activation(other)
        else:
            model.layers[rng_layer].neurons[0].b = None

    rng_layer = rng.choice([0, 1])
    return make, change, (act, kind, p, value, width, other, rng_layer)


@pytest.mark.parametrize("seed", range(12))
def test_compiled_fit_sees_every_kind_of_change_between_fits(seed):
    make, change, what = _random_change(random.Random(seed))
    eager = _twice(make, change, False, "mse", Y_SIGN)
    for compile in (True, None):
        got = _twice(make, change, compile, "mse", Y_SIGN)
        assert np.abs(got - eager).max() <= 1e-9, (what, compile)


# --- state outside the modules' attributes: the op table, a custom Module's class and globals ----------
def test_a_builtin_op_replaced_between_fits_is_trained_with():
    """defop("tanh", replace=True) between two fits: the next compiled fit builds with the new tanh, as
    eager training and model(x) do (the cached tape held the old one)."""
    from autograd import defop, ops
    from autograd.table import BUILTINS

    builtin = BUILTINS["tanh"]

    def make():
        ops.register(builtin)
        return nn.MLP(2, [8, 1], activation="tanh", seed=0)

    def doubled_tanh(model):
        defop("tanh", forward=lambda m, x: 2.0 * builtin.forward(m, x),
              partials=lambda m, out, x: tuple(2.0 * d for d in builtin.partials(m, out / 2.0, x)), replace=True)

    try:
        _sees_the_change(make, doubled_tanh)
    finally:
        ops.register(builtin)


SCALE = 1.0


class _Scaled(nn.Module):
    """A user's own model: an MLP times a class attribute and a global, read when called."""

    factor = 1.0

    def __init__(self):
        self.inner = nn.MLP(2, [4, 1], seed=0)
        self.nin = 2

    def __call__(self, x):
        return self.inner(x) * (_Scaled.factor * SCALE)

    def parameters(self):
        return self.inner.parameters()


def _scaled(factor=1.0, scale=1.0):
    global SCALE
    _Scaled.factor, SCALE = factor, scale
    return _Scaled()


def test_a_custom_modules_class_attribute_changed_between_fits_is_trained_with():
    try:
        _sees_the_change(_scaled, lambda m: setattr(_Scaled, "factor", 3.0), compiles=(True,))
    finally:
        _scaled()


def test_a_custom_module_reading_a_changed_global_is_trained_with():
    try:
        _sees_the_change(_scaled, lambda m: _scaled(scale=3.0), compiles=(True,))
    finally:
        _scaled()


def test_a_custom_model_fitted_twice_is_traced_once(monkeypatch):
    from nn import compiled

    traced = []
    real = compiled.CompiledModel._trace
    monkeypatch.setattr(compiled.CompiledModel, "_trace", lambda self, k: traced.append(k) or real(self, k))
    model = _scaled()
    for _ in range(3):
        _fit(model, True, "mse", Y_SIGN)
    assert len(traced) == 1


class _Margin:
    """A loss object whose class holds its margin."""

    margin = 1.0

    def __call__(self, out, y):
        return (out - y * _Margin.margin) ** 2


def test_a_loss_objects_class_attribute_changed_between_fits_is_trained_with():
    def make():
        _Margin.margin = 1.0
        return nn.MLP(2, [4, 1], seed=0)

    try:
        _sees_the_change(make, lambda m: setattr(_Margin, "margin", 3.0), loss=_Margin(), compiles=(True,))
    finally:
        _Margin.margin = 1.0


CLASS_WEIGHTS = np.array([1.0, 1.0])


def _weighted(out, y):
    return (out - y) ** 2 * float(CLASS_WEIGHTS[0 if y < 0 else 1])


def test_a_loss_reading_a_changed_global_array_is_trained_with():
    global CLASS_WEIGHTS

    def make():
        global CLASS_WEIGHTS
        CLASS_WEIGHTS = np.array([1.0, 1.0])
        return nn.MLP(2, [4, 1], seed=0)

    def reweight(model):
        global CLASS_WEIGHTS
        CLASS_WEIGHTS = np.array([1.0, 5.0])

    try:
        _sees_the_change(make, reweight, loss=_weighted, compiles=(True,))
        _sees_the_change(make, lambda m: CLASS_WEIGHTS.__setitem__(1, 5.0), loss=_weighted, compiles=(True,))
    finally:
        CLASS_WEIGHTS = np.array([1.0, 1.0])


def test_a_loss_lambda_written_again_in_each_fit_is_traced_once(monkeypatch):
    """A notebook cell that calls fit(..., loss=lambda ...) again makes a new, equal function each time:
    the same graph, not traced again."""
    from nn import compiled

    traced = []
    real = compiled.CompiledModel._trace
    monkeypatch.setattr(compiled.CompiledModel, "_trace", lambda self, k: traced.append(k) or real(self, k))
    model = nn.MLP(2, [4, 1], seed=0)
    for _ in range(3):
        _fit(model, True, lambda out, y: (out - y) ** 2, Y_SIGN)
    assert len(traced) == 1
    _fit(model, True, lambda out, y: 2.0 * (out - y) ** 2, Y_SIGN)  # another loss: traced with it
    assert len(traced) == 2


class _InADict(nn.Module):
    """A model that keeps its body where the walk of modules does not look (a dict, as torch's ModuleDict)."""

    def __init__(self):
        self.blocks = {"body": nn.MLP(2, [6, 1], activation="leaky_relu", seed=0)}
        self._spare = nn.MLP(2, [6, 1], activation="leaky_relu", seed=1)  # a '_' attribute: not a child either
        self.nin = 2

    def __call__(self, x):
        return self.blocks["body"](x) + self._spare(x)

    def parameters(self):
        return self.blocks["body"].parameters() + self._spare.parameters()


@pytest.mark.parametrize("where", ["dict", "underscore"])
def test_a_change_in_a_module_kept_in_a_dict_or_private_attribute_is_trained_with(where):
    def change(model):
        _set_hyper("alpha", 0.9)(model.blocks["body"] if where == "dict" else model._spare)

    _sees_the_change(_InADict, change, compiles=(True,))
