"""Each loss is declared once (nn.losses.REGISTRY); labels_for, fit, evaluate and the CLI read that
declaration, so a loss cannot be known to one of them and unknown to another."""

import inspect

import numpy as np
import pytest

import nn
from nn import cli, datasets, losses

NOT_LOSSES = ["huber", "svm", "nll", "bce_with_logits", "binary_cross_entropy_with_logits", "mean_loss", "l2", ""]


def _cli_loss(name):
    """The name the CLI's --loss turns ``name`` into (argparse exits 2 on an unknown one)."""
    return cli.build_parser().parse_args(["train", "--loss", name]).loss


def test_every_loss_function_is_declared_once():
    functions = {name for name in losses.__all__ if inspect.isfunction(getattr(losses, name))} - {"mean_loss"}
    assert functions == set(losses.REGISTRY)
    assert all(spec.fn is getattr(losses, name) for name, spec in losses.REGISTRY.items())
    aliases = [a for spec in losses.REGISTRY.values() for a in spec.aliases]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(losses.REGISTRY)
    for spec in losses.REGISTRY.values():
        assert spec.labels in ("sign", "01", "index", "real") and spec.output in ("score", "logits", "value")


@pytest.mark.parametrize("name", losses.names())
def test_labels_for_the_cli_and_fit_agree_on_every_name(name):
    spec = losses.spec(name)
    assert losses.get(name) is spec.fn
    assert datasets.labels_for(name) == spec.labels
    assert datasets.labels_for(name.upper().replace("_", "-")) == spec.labels  # one normalisation everywhere
    assert _cli_loss(name) == spec.name
    # fit trains on labels of the declared form (two classes; "real": -1/+1 scores), one epoch of XOR.
    X, y_index = datasets.xor()
    form = spec.labels if spec.labels != "real" else "sign"
    n_out = 2 if spec.labels == "index" else 1
    model = nn.MLP(2, [4, n_out], seed=0)
    y = datasets.to_labels(y_index, form)
    history = nn.fit(model, X, y, loss=name, optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=1,
                     progress=False)
    assert len(history) == 1 and np.isfinite(history.loss[0])
    assert set(nn.evaluate(model, X, y, loss=name)) == {"loss", "accuracy"}


@pytest.mark.parametrize("name", NOT_LOSSES)
def test_no_one_answers_for_a_name_the_registry_lacks(name, capsys):
    with pytest.raises(ValueError, match=f"^labels_for: no loss named '{name}'; known: "):
        datasets.labels_for(name)
    with pytest.raises(KeyError, match=f"^losses.get: no loss named '{name}'"):
        losses.get(name)
    with pytest.raises(SystemExit):
        _cli_loss(name)
    assert f"argument --loss: no loss named '{name}'; known: {', '.join(losses.names())}" in capsys.readouterr().err
    X, y = datasets.xor()
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match=f"^fit: no loss named '{name}'"):
        nn.fit(model, X, y, loss=name, optimizer=nn.optim.SGD(model.parameters(), lr=0.1), progress=False)
    with pytest.raises(ValueError, match=f"^evaluate: no loss named '{name}'"):
        nn.evaluate(model, X, y, loss=name)


def test_the_cli_builds_every_optimizer_and_schedule_it_accepts():
    parser = cli.build_parser()
    params = nn.MLP(2, [2, 1], seed=0).parameters()
    for name, build in cli.OPTIMIZERS.items():
        assert parser.parse_args(["train", "--optimizer", name]).optimizer == name
        opt = build(params, 0.1)
        assert opt.lr == 0.1 and callable(opt.step)
    for name, build in cli.SCHEDULES.items():
        assert parser.parse_args(["train", "--schedule", name]).schedule == name
        schedule = build(0.1, 100)
        assert (schedule is None) == (name == "constant")
        assert schedule is None or schedule(0) == pytest.approx(0.1)
