"""The training playground: an ``nn.MLP`` trained on a 2-D data set with chalkgrad's own nn.

The model is ``nn.MLP``, the loss one of ``nn.losses`` (hinge on labels -1/+1, or binary
cross-entropy on logits), the optimiser ``nn.optim.SGD`` or ``Adam``, the penalty ``nn.l2``.
Gradients come from the engine either eagerly (one graph per batch, ``backward()``) or, by default,
from ``autograd.trace``: the per-sample loss is traced once per label and replayed as straight-line
Python (the same rules from the op table, no graph built), which makes a step several times faster.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, cast

import autograd
import nn
from autograd import Value, trace
from autograd.viz import draw_dot

from . import toydata

__all__ = ["Playground", "LOSSES", "OPTIMIZERS"]

LOSSES = ("hinge", "binary_cross_entropy")
OPTIMIZERS = ("sgd", "momentum", "adam")


class Playground:
    """One model, one data set, one optimiser; ``step()`` trains one epoch of mini-batches."""

    def __init__(self, dataset: str = "moons", hidden: Any = (8, 8), activation: str = "tanh",
                 lr: float = 0.3, l2: float = 0.0, batch_size: int = 0, loss: str = "hinge",
                 optimizer: str = "momentum", n: int = 100, noise: float | None = None, seed: int = 0,
                 compiled: bool = True) -> None:
        if loss not in LOSSES:
            raise ValueError(f"Playground: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Playground: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if isinstance(hidden, str):
            widths = hidden.replace(" ", "").split(",") if hidden.strip() else []
            if not all(w.isdigit() for w in widths):
                raise ValueError(f"Playground: hidden layers must be widths separated by commas (e.g. 16, 16), "
                                 f"got {hidden!r:.60}")
            hidden = [int(w) for w in widths]
        self.X, self.y = toydata.make(dataset, n, noise, seed)
        self.model = nn.MLP(2, [*hidden, 1], activation=activation, seed=seed)
        self.params = self.model.parameters()
        self.loss_name, self.loss_fn = loss, nn.losses.get(loss)
        self.l2 = float(l2)
        self.batch_size = int(batch_size) if batch_size else 0
        if optimizer == "adam":
            self.opt: nn.optim.Optimizer = nn.optim.Adam(self.params, lr=lr)
        else:
            self.opt = nn.optim.SGD(self.params, lr=lr, momentum=0.9 if optimizer == "momentum" else 0.0)
        self.compiled = bool(compiled)
        self.rng = random.Random(seed)
        self.epoch = 0
        self.losses: list[float] = []
        self._tapes: dict[float, Any] = {}
        # the score, for the heatmap: one output, so the tape returns one float
        self._out = cast(Callable[[float, float], float], trace(lambda x1, x2: self.model([x1, x2]), 0.0, 0.0))
        self._penalty = trace(lambda: nn.l2(self.params, self.l2)) if self.l2 else None

    # --- the loss ----------------------------------------------------------------------------------
    def target(self, label: float) -> float:
        """The loss's target for a label -1/+1 (binary cross-entropy wants 0/1)."""
        return label if self.loss_name == "hinge" else (label + 1.0) / 2.0

    def sample_loss(self, i: int) -> Value:
        """Sample i's loss as a graph (what the page draws when a point is clicked)."""
        x = [Value(v, label=f"x{k + 1}") for k, v in enumerate(self.X[i])]
        out = self.model(x)
        assert isinstance(out, Value)  # the model has one output
        out.label = "score"
        loss = self.loss_fn(out, self.target(self.y[i]))
        loss.label = "loss"
        return loss

    def _tape(self, label: float) -> Any:
        tape = self._tapes.get(label)
        if tape is None:
            y = self.target(label)
            tape = self._tapes[label] = trace(lambda x1, x2: self.loss_fn(self.model([x1, x2]), y), 0.0, 0.0)
        return tape

    def _gradients(self, batch: list[int]) -> float:
        """Mean loss (+ penalty) over the batch; every parameter's .grad set to its gradient."""
        for p in self.params:
            p.grad = 0.0
        if self.compiled:
            total = 0.0
            for i in batch:
                (x1, x2), label = self.X[i], self.y[i]
                total += self._tape(label).value_and_grad(x1, x2)[0]
            scale = 1.0 / len(batch)
            for p in self.params:
                p.grad *= scale
            objective = total * scale
            if self._penalty is not None:
                objective += self._penalty.value_and_grad()[0]
            return objective
        preds = [self.model(self.X[i]) for i in batch]
        graph = nn.mean_loss(self.loss_fn, preds, [self.target(self.y[i]) for i in batch])
        if self.l2:
            graph = graph + nn.l2(self.params, self.l2)
        graph.backward()
        return graph.data

    # --- training ----------------------------------------------------------------------------------
    def train_epoch(self) -> None:
        """One epoch: the data shuffled into batches of ``batch_size`` (0: one full batch), one update each."""
        order = list(range(len(self.X)))
        b = self.batch_size or len(order)
        if b < len(order):
            self.rng.shuffle(order)
        losses = []
        for start in range(0, len(order), b):
            losses.append(self._gradients(order[start:start + b]))
            self.opt.step()
        self.epoch += 1
        self.losses.append(sum(losses) / len(losses))

    def step(self) -> dict[str, Any]:
        """One epoch, then the status the page shows (epoch, mean loss, training accuracy)."""
        self.train_epoch()
        return self.status()

    def scores(self, points: list[list[float]]) -> list[float]:
        """The model's score for each point (positive: class +1)."""
        out = self._out
        return [out(float(a), float(b)) for a, b in points]

    def accuracy(self) -> float:
        """Fraction of training points on the right side of the decision boundary."""
        s = self.scores(self.X)
        return sum((v > 0) == (label > 0) for v, label in zip(s, self.y)) / len(self.y)

    def status(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "loss": self.losses[-1] if self.losses else None,
                "accuracy": self.accuracy()}

    def grid(self, res: int, box: tuple[float, float, float, float]) -> list[float]:
        """Scores on a res x res grid over box = (xmin, xmax, ymin, ymax), rows from the top."""
        x0, x1, y0, y1 = box
        xs = [x0 + (x1 - x0) * (i + 0.5) / res for i in range(res)]
        out = self._out
        return [out(x, y) for j in range(res) for x in xs for y in (y1 - (y1 - y0) * (j + 0.5) / res,)]

    def bounds(self, margin: float = 0.25) -> tuple[float, float, float, float]:
        xs, ys = [p[0] for p in self.X], [p[1] for p in self.X]
        return (min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin)

    def sample_graph(self, i: int) -> dict[str, Any]:
        """DOT of sample i's loss with the gradients of one backward pass: layers top to bottom, a box per neuron."""
        saved = [p.grad for p in self.params]
        try:
            loss = self.sample_loss(i)
            for p in self.params:
                p.grad = 0.0
            loss.backward()
            dot = draw_dot(loss, max_nodes=None, compact=True, cluster=True, rankdir="TB").source
        finally:
            for p, g in zip(self.params, saved):
                p.grad = g
        return {"dot": dot, "index": i, "x": self.X[i], "label": self.y[i], "loss": loss.data,
                "nodes": len(autograd.topological_order(loss))}
