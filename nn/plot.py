"""Pictures for teaching: decision boundaries, loss curves, activations and their derivatives.

Every function returns a matplotlib ``Figure`` and never calls ``show()``; matplotlib (the ``plot``
extra) is imported only when a function runs.

>>> from nn import plot                                     # doctest: +SKIP
>>> fig = plot.decision_boundary(model, X, y)               # doctest: +SKIP
>>> fig.savefig("boundary.png")                             # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["decision_boundary", "loss_curves", "activation_plot"]

_INSTALL_HINT = "pip install 'chalkgrad[plot]' (or: pip install matplotlib)"


def _pyplot() -> Any:
    # matplotlib picks a headless backend (Agg) by itself when there is no display.
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"nn.plot needs matplotlib: {_INSTALL_HINT}") from None
    return plt


def _new_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    plt = _pyplot()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    *,
    ax: Any = None,
    resolution: int = 200,
    margin: float = 0.5,
    threshold: float = 0.0,
    title: str | None = None,
) -> Any:
    """Colour the plane by the class the model predicts and scatter the data on top (2-D inputs).

    One output: class 1 where ``output > threshold`` (0 for hinge scores and logits); several
    outputs: the argmax. Labels may be 0/1, -1/+1, class indices or one-hot rows.
    """
    from .datasets import to_labels
    from .evaluate import predict

    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: needs 2-D inputs (shape (n, 2)), got shape {X.shape}")
    labels = to_labels(y, "index")
    if len(labels) != len(X):
        raise ValueError(f"decision_boundary: X has {len(X)} samples but y has {len(labels)} labels")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = predict(model, grid)
    if out.ndim == 2 and out.shape[1] > 1:
        zone = out.argmax(axis=1)
    else:
        zone = (out.reshape(-1) > threshold).astype(int)
    k = int(max(labels.max(), zone.max())) + 1
    fig, ax = _new_axes(ax, (5.5, 4.5))
    cmap = "coolwarm" if k <= 2 else "tab10"
    vmax = 1 if k <= 2 else 9
    ax.contourf(gx, gy, zone.reshape(gx.shape), levels=np.arange(-0.5, k + 0.5), cmap=cmap, vmin=0, vmax=vmax,
                alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=0, vmax=vmax, s=22, edgecolors="k", linewidths=0.5)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    predicted = predict(model, X)
    if predicted.ndim == 2 and predicted.shape[1] > 1:
        hits = predicted.argmax(axis=1) == labels
    else:
        hits = (predicted.reshape(-1) > threshold).astype(int) == labels
    ax.set_title(title if title is not None else f"decision boundary (accuracy {hits.mean():.0%})")
    fig.tight_layout()
    return fig


def loss_curves(history: Any, *, title: str | None = None, held_out: str = "validation") -> Any:
    """Training (and validation) loss per epoch, and each metric on a second panel if there is one.

    ``history`` is an ``nn.History`` or a dict of lists such as ``{"loss": [...], "val_loss": [...]}``.
    ``held_out`` names the ``val_`` series in the legends ("test" when fit's ``val_data`` was the test
    set).  Epochs are whole numbers, and so are the ticks.
    """
    records = getattr(history, "records", history)
    if not isinstance(records, dict) or not records.get("loss"):
        raise ValueError("loss_curves: expected a History (or dict) with a non-empty 'loss' series")
    epochs = records.get("epoch") or list(range(1, len(records["loss"]) + 1))
    metrics = [k for k in records if k not in ("epoch", "loss", "val_loss", "lr", "time") and not k.startswith("val_")]
    plt = _pyplot()
    panels = 2 if metrics else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 3.8), squeeze=False)
    ax = axes[0][0]
    dots = {"marker": "o", "markersize": 4} if len(epochs) <= 20 else {}  # one epoch is a point, not a line
    ax.plot(epochs, records["loss"], label="train", **dots)
    if records.get("val_loss"):
        ax.plot(epochs[: len(records["val_loss"])], records["val_loss"], label=held_out, **dots)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if min(records["loss"]) > 0 and max(records["loss"]) / min(records["loss"]) > 50:
        ax.set_yscale("log")
    ax.legend()
    ax.set_title(title or "loss")
    best = getattr(history, "best_epoch", None)
    if best:
        ax.axvline(best, color="grey", linestyle=":", label="best")
    if metrics:
        ax = axes[0][1]
        for m in metrics:
            ax.plot(epochs, records[m], label=f"train {m}", **dots)
            if records.get("val_" + m):
                ax.plot(epochs[: len(records["val_" + m])], records["val_" + m], label=f"{held_out} {m}", **dots)
        ax.set_xlabel("epoch")
        ax.set_title(", ".join(metrics))
        ax.legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # 3 epochs: 1, 2, 3, not 1.25, 1.5, ...
    fig.tight_layout()
    return fig


def activation_plot(
    names: Sequence[str] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish"),
    *,
    xlim: tuple[float, float] = (-4.0, 4.0),
    points: int = 401,
) -> Any:
    """Each activation and its derivative side by side; the derivative comes from autograd's backward.

    Names are those of ``nn.activations`` ("relu", "tanh", "leaky_relu", ...).
    """
    from autograd import Value

    from .activations import get_activation

    if isinstance(names, str):
        names = [names]
    acts = [(name, get_activation(name)) for name in names]
    if not acts:
        raise ValueError("activation_plot: give at least one activation name")
    xs = np.linspace(xlim[0], xlim[1], points)
    plt = _pyplot()
    cols = min(3, len(acts))
    rows = -(-len(acts) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    for k, (name, act) in enumerate(acts):
        fs, ds = [], []
        for x in xs:
            v = Value(float(x))
            out = act(v)
            out.backward()
            fs.append(out.data)
            ds.append(v.grad)
        ax = axes[k // cols][k % cols]
        ax.axhline(0, color="0.8", linewidth=0.8)
        ax.axvline(0, color="0.8", linewidth=0.8)
        ax.plot(xs, fs, label="f(x)")
        ax.plot(xs, ds, "--", label="f'(x) (autograd)")
        ax.set_title(name)
        ax.set_xlim(*xlim)
        if k == 0:
            ax.legend(fontsize="small")
    for k in range(len(acts), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.tight_layout()
    return fig
