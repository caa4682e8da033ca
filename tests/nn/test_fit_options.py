"""fit's options are written once (nn.prepare.FitOptions): fit and prepare_fit take exactly them."""

import inspect
from dataclasses import MISSING, fields

import pytest

import nn
from nn.prepare import FitOptions


def _options(f):
    return {name: (p.default, p.annotation) for name, p in inspect.signature(f).parameters.items()
            if p.kind is p.KEYWORD_ONLY and name != "caller"}


def test_fit_and_prepare_fit_take_the_options_of_one_declaration():
    declared = {f.name: (inspect.Parameter.empty if f.default is MISSING else f.default, f.type)
                for f in fields(FitOptions)}
    assert _options(nn.fit) == _options(nn.prepare_fit) == declared
    assert list(inspect.signature(nn.fit).parameters)[:3] == ["model", "X", "y"]


@pytest.mark.parametrize("f", [nn.fit, nn.prepare_fit])
def test_an_unknown_or_missing_option_names_the_function(f):
    model = nn.MLP(2, [1], seed=0)
    sgd = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=rf"^{f.__name__}\(\) got an unexpected keyword argument 'epoch'$"):
        f(model, [[0.0, 1.0]], [1.0], loss="mse", optimizer=sgd, epoch=3)
    with pytest.raises(TypeError, match=rf"^{f.__name__}\(\) missing 1 required keyword-only argument: 'loss'$"):
        f(model, [[0.0, 1.0]], [1.0], optimizer=sgd)
    assert model.parameters()[0].grad == 0.0  # nothing ran


def test_the_defaults_are_the_declared_ones():
    model = nn.MLP(2, [1], seed=0)
    plan = nn.prepare_fit(model, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0], loss="mse",
                          optimizer=nn.optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert plan.epochs == FitOptions.epochs == 100 and plan.batch_size is None and plan.compile is None
