"""nn.plot: figures returned (never shown), decision regions match predictions, autograd derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from nn import datasets

matplotlib = pytest.importorskip("matplotlib", reason="nn.plot needs matplotlib (the plot extra)")
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nn import plot  # noqa: E402


@pytest.fixture(autouse=True)
def never_show(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("nn.plot must not call show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def test_decision_boundary_two_classes(tmp_path):
    X, y = datasets.moons(40, seed=0, labels="sign")
    model = nn.MLP(2, [4, 1], seed=0)
    fig = plot.decision_boundary(model, X, y, resolution=30)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    accuracy = nn.evaluate(model, X, y)["accuracy"]
    assert ax.get_title() == f"decision boundary (accuracy {accuracy:.0%})"
    assert len(ax.collections) >= 2  # filled regions and the scattered points
    path = tmp_path / "b.png"
    fig.savefig(path)
    assert matplotlib.image.imread(path).shape[2] in (3, 4)


def test_decision_regions_follow_the_model():
    # A hand-set linear model: output = x1 (class 1 right of the y axis).
    model = nn.MLP(2, [1], seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 0.0, 0.0
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    fig = plot.decision_boundary(model, X, [0, 1], resolution=21, margin=0.0)
    regions = fig.axes[0].collections[0]  # the filled contours: one level per class
    class0 = np.vstack(regions.allsegs[0])
    class1 = np.vstack(regions.allsegs[1])
    step = 2.0 / 20  # grid spacing: the boundary is drawn between two grid points
    assert class0[:, 0].max() <= step + 1e-9 and class1[:, 0].min() >= -step - 1e-9
    assert class0[:, 0].min() == -1.0 and class1[:, 0].max() == 1.0
    assert fig.axes[0].get_title().endswith("(accuracy 100%)")


def test_decision_boundary_multiclass_and_errors():
    X, y = datasets.blobs(30, centers=3, seed=0)
    model = nn.MLP(2, [4, 3], seed=0)
    fig, ax = plt.subplots()
    assert plot.decision_boundary(model, X, y, ax=ax, resolution=20, title="blobs") is fig
    assert ax.get_title() == "blobs"
    with pytest.raises(ValueError, match=r"needs 2-D inputs \(shape \(n, 2\)\), got shape \(30, 3\)"):
        plot.decision_boundary(nn.MLP(3, [1], seed=0), np.hstack([X, X[:, :1]]), y)
    with pytest.raises(ValueError, match="30 samples but y has 29"):
        plot.decision_boundary(model, X, y[:29])


def test_loss_curves_from_history_and_dict():
    X, y = datasets.xor(labels="sign")
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    h = nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.5), epochs=5,
               val_data=(X, y), progress=False)
    fig = h.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, metric_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines][:2] == ["train", "validation"]
    assert list(loss_ax.lines[0].get_ydata()) == h.loss
    assert "accuracy" in metric_ax.get_title()
    fig = plot.loss_curves({"loss": [3.0, 2.0, 1.0]})
    assert len(fig.axes) == 1 and list(fig.axes[0].lines[0].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="non-empty 'loss'"):
        plot.loss_curves({"loss": []})


def test_activation_plot_derivatives_come_from_autograd():
    fig = plot.activation_plot(["tanh", "sigmoid", "relu", "softplus"], points=81)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["tanh", "sigmoid", "relu", "softplus"]
    exact = {
        "tanh": lambda x: 1 - np.tanh(x) ** 2,
        "sigmoid": lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
        "relu": lambda x: (x > 0).astype(float),
        "softplus": lambda x: 1 / (1 + np.exp(-x)),
    }
    for ax in fig.axes:
        if not ax.get_title():
            continue
        (f_line,) = [ln for ln in ax.lines if ln.get_label() == "f(x)" or ln.get_linestyle() == "-"][-1:]
        d_line = [ln for ln in ax.lines if ln.get_linestyle() == "--"][0]
        xs = np.asarray(d_line.get_xdata())
        assert np.allclose(d_line.get_ydata(), exact[ax.get_title()](xs), atol=1e-12)
        assert len(f_line.get_ydata()) == 81
    with pytest.raises(ValueError, match="at least one"):
        plot.activation_plot([])


def test_missing_matplotlib_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"matplotlib.*chalkgrad\[plot\]"):
        plot.loss_curves({"loss": [1.0]})
