"""The playground's run as a script to take home: the same data, network, optimiser and epochs, trained with ``nn.fit``.

The script holds the data points themselves (the page's data sets are generated in the page), so it
runs with chalkgrad installed and nothing else.  At full batch it follows the page's run number for
number (the same initial weights from the seed, the same mean loss, penalty and updates).
"""

from __future__ import annotations

import json
from typing import Any

from .playground import Playground

__all__ = ["script"]

FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1sq": "x1 * x1", "x2sq": "x2 * x2", "x1x2": "x1 * x2",
                "sinx1": "math.sin(x1)", "sinx2": "math.sin(x2)"}


def _rows(points: list[list[float]]) -> str:
    return "[\n" + "".join(f"    {json.dumps(p)},\n" for p in points) + "]"


def script(pg: Playground, config: dict[str, Any], url: str = "") -> str:
    """Python source that rebuilds and retrains ``pg``'s network for ``pg.epoch`` epochs and prints its accuracy."""
    train_X = [pg.X[i] for i in pg.train]
    test_X = [pg.X[i] for i in pg.test]
    targets = [pg.target(pg.y[i]) for i in pg.train]
    test_targets = [pg.target(pg.y[i]) for i in pg.test]
    if pg.optimizer == "adam":
        opt = f"nn.optim.Adam(model.parameters(), lr={pg.opt.lr!r})"
    else:
        momentum = 0.9 if pg.optimizer == "momentum" else 0.0
        opt = f"nn.optim.SGD(model.parameters(), lr={pg.opt.lr!r}, momentum={momentum})"
    reg = f"lambda ps: nn.l2(ps, {pg.l2!r})" if pg.l2 else "None"
    if pg.task == "multiclass":
        right = "max(range(len(out)), key=lambda k: out[k].data) == t"
    elif pg.loss_name == "binary_cross_entropy":
        right = "(out.data > 0) == (t > 0.5)"
    else:
        right = "(out.data > 0) == (t > 0)"
    if pg.task == "regression":
        measure = ("def mean_squared_error(X, T):\n"
                   "    return sum((model(features(*x)).data - t) ** 2 for x, t in zip(X, T)) / len(X)\n")
    else:
        measure = (f"def accuracy(X, T):\n"
                   f"    return sum({right} for x, t in zip(X, T) for out in [model(features(*x))]) / len(X)\n")
    report = ("print(f\"training loss {mean_squared_error(X_train, y_train):.4f}\")"
              if pg.task == "regression" else
              "print(f\"training accuracy {accuracy(X_train, y_train):.4f}\")\n"
              "if X_test:\n    print(f\"test accuracy {accuracy(X_test, y_test):.4f}\")")
    feats = ", ".join(FEATURE_CODE[f] for f in pg.features)
    return f'''"""A network from chalkgrad's browser playground, trained with nn.fit.

Settings: {json.dumps(config, sort_keys=True)}
{("Link: " + url) if url else ""}
Run: python {pg.dataset}_playground.py   (needs chalkgrad: pip install -e . in its checkout)
"""

import math

import nn

X_train = {_rows(train_X)}
y_train = {json.dumps(targets)}
X_test = {_rows(test_X)}
y_test = {json.dumps(test_targets)}


def features(x1, x2):
    """The network's inputs, computed from the point (x1, x2)."""
    return [{feats}]


model = nn.MLP({len(pg.features)}, {[*pg.widths, pg.classes]!r}, activation={pg.activation!r}, seed={pg.seed})
optimizer = {opt}
history = nn.fit(model, [features(*x) for x in X_train], y_train, loss={pg.loss_name!r}, optimizer=optimizer,
                 epochs={pg.epoch}, batch_size={pg.batch_size or None}, regularizer={reg}, seed={pg.seed},
                 progress=False)

{measure}

{report}
'''
