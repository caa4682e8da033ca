"""The training playground: an ``nn.MLP`` trained on a 2-D data set with chalkgrad's own nn.

The model is ``nn.MLP`` on the chosen input features of (x1, x2), the loss one of ``nn.losses``
(hinge or binary cross-entropy for two classes, cross-entropy or multi-class hinge for three,
squared error for the regression set), the optimiser ``nn.optim.SGD`` or ``Adam``, the penalty
``nn.l2`` (lambda/2 * sum of w^2).  Each batch is one :func:`nn.train_step` (the step ``nn.fit``'s
eager trainer takes): eagerly (one graph per batch, ``backward()``) or, by default, with
``nn.SampleTapes``: the per-sample loss is traced once per target and replayed as straight-line
Python (the same rules from the op table, no graph built).
Every epoch's parameters are recorded (:mod:`.recording`), so any epoch can be shown again exactly.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import nn
from autograd import Value, trace
from autograd.viz import number_text
from nn import datasets

from .recording import Recording

__all__ = ["Playground", "FEATURES", "LOSSES", "OPTIMIZERS", "DATASETS", "TASKS", "make", "split"]

# The page's data sets, all made by nn.datasets (pure Python: the page has no numpy), and their default noise.
# Binary sets have labels -1 / +1; blobs3: three Gaussian blobs around a triangle's corners, labels 0 / 1 / 2;
# sine: regression of y = sin(pi x1) on x1 in [-1, 1] (x2 is 0: a 1-D curve).
DATASETS = ("xor", "moons", "circles", "spirals", "blobs3", "sine")
NOISE = {"xor": 0.02, "moons": 0.1, "circles": 0.05, "spirals": 0.1, "blobs3": 0.25, "sine": 0.1}
TASKS = {"blobs3": "multiclass", "sine": "regression"}  # the rest: "binary"
SPIRAL_TURNS = 1.25  # each arm winds 1.25 times around the centre: a network must bend its boundary often
TRIANGLE = [(0.6 * math.cos(math.pi / 2 + 2 * math.pi * k / 3), 0.6 * math.sin(math.pi / 2 + 2 * math.pi * k / 3))
            for k in range(3)]

OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = {"binary": ("hinge", "binary_cross_entropy"), "multiclass": ("cross_entropy", "multiclass_hinge"),
          "regression": ("squared_error",)}
# input features: name -> (how the page writes it, the Value expression of x1, x2)
FEATURES: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "x1": ("x₁", lambda a, b: a), "x2": ("x₂", lambda a, b: b),
    "x1sq": ("x₁²", lambda a, b: a * a), "x2sq": ("x₂²", lambda a, b: b * b), "x1x2": ("x₁x₂", lambda a, b: a * b),
    "sinx1": ("sin x₁", lambda a, b: a.sin()), "sinx2": ("sin x₂", lambda a, b: b.sin()),
}


def _widths(hidden: Any) -> list[int]:
    if not isinstance(hidden, str):
        return [int(w) for w in hidden]
    widths = hidden.replace(" ", "").split(",") if hidden.strip() else []
    if not all(w.isdigit() and int(w) > 0 for w in widths):
        raise ValueError("Playground: hidden layers must be widths separated by commas (e.g. 16, 16), "
                         f"got {hidden!r:.60}")
    return [int(w) for w in widths]


def _feature_names(features: Any) -> list[str]:
    names = [f for f in (features.replace(" ", "").split(",") if isinstance(features, str) else features) if f]
    bad = [f for f in names if f not in FEATURES]
    if bad or not names:
        raise ValueError(f"Playground: features must be some of {', '.join(FEATURES)}, got {features!r:.60}")
    return names


def _rows(a: Any) -> list:
    return a.tolist() if hasattr(a, "tolist") else list(a)  # numpy arrays in CPython, lists in the page


def make(name: str, n: int = 100, noise: float | None = None, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """``n`` points of data set ``name`` (one of DATASETS) and their labels, reproducible from ``seed``."""
    if name not in DATASETS:
        raise ValueError(f"make: dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    sd = NOISE[name] if noise is None else float(noise)
    if name == "sine":
        X, y = datasets.sine(n, sd, seed)
        return [[x / math.pi, 0.0] for x in _rows(X[:, 0] if hasattr(X, "shape") else [r[0] for r in X])], _rows(y)
    if name == "blobs3":
        X, y = datasets.blobs(n, centers=TRIANGLE, std=sd, seed=seed)
        return _rows(X), [float(v) for v in _rows(y)]
    if name == "xor":
        X, y = datasets.xor("sign", n=n, noise=sd, seed=seed)
    elif name == "spirals":
        X, y = datasets.spirals(n, classes=2, noise=sd, seed=seed, labels="sign", turns=SPIRAL_TURNS)
    else:
        X, y = getattr(datasets, name)(n, sd, seed=seed, labels="sign")
    return _rows(X), _rows(y)


def split(n: int, test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, test indices): a seeded shuffle of range(n), the first round(n * fraction) held out."""
    order = list(range(n))
    random.Random(f"split-{seed}").shuffle(order)
    k = round(n * test_fraction)
    return sorted(order[k:]), sorted(order[:k])


def task_of(dataset: str, labels: list[float]) -> str:
    if dataset != "custom":
        return TASKS.get(dataset, "binary")
    if set(labels) <= {-1.0, 1.0}:
        return "binary"
    return "multiclass" if all(v == int(v) and 0 <= v < 10 for v in labels) else "regression"


class Playground:
    """One model, one data set (split into training and test points), one optimiser; ``step()`` trains one epoch."""

    def __init__(self, dataset: str = "spirals", hidden: Any = "8, 8", activation: str = "tanh", lr: float = 0.03,
                 l2: float = 0.0, batch_size: int = 0, loss: str = "auto", optimizer: str = "momentum",
                 n: int = 200, noise: float | None = None, seed: int = 0, compiled: bool = True,
                 features: Any = "x1, x2", test: float = 0.3, points: Any = (), **ignored: Any) -> None:
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Playground: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if not 0 <= float(test) < 1:
            raise ValueError(f"Playground: test fraction must be from 0 to 0.9, got {test!r}")
        self.dataset, self.seed = dataset, int(seed)
        extra = [[float(p[0]), float(p[1])] for p in points]
        extra_y = [float(p[2]) for p in points]
        if dataset == "custom":
            if len(extra) < 2:
                raise ValueError("Playground: custom data needs at least 2 points (x1, x2, label per line)")
            X, y, train, test_idx = extra, extra_y, list(range(len(extra))), []
        else:
            X, y = make(dataset, int(n), noise, self.seed)
            train, test_idx = split(len(X), float(test), self.seed)
            train += range(len(X), len(X) + len(extra))  # points the user adds are training points
            X, y = X + extra, y + extra_y
        self.X, self.y, self.train, self.test = X, y, train, test_idx
        self.task = task_of(dataset, y)
        choices = LOSSES[self.task]
        # "auto", or pasted points whose labels chose another task: the task's first loss
        loss = choices[0] if loss == "auto" or (dataset == "custom" and loss not in choices) else loss
        if loss not in choices:
            raise ValueError(f"Playground: loss must be one of {', '.join(choices)} for {self.task} data, got {loss!r}")
        if self.task == "binary" and not set(y) <= {-1.0, 1.0}:
            raise ValueError("Playground: labels of two-class data must be -1 or +1")
        self.classes = int(max(y)) + 1 if self.task == "multiclass" else 1
        self.features = _feature_names(features)
        self.widths = _widths(hidden)
        self.model = nn.MLP(len(self.features), [*self.widths, self.classes], activation=activation, seed=self.seed)
        self.params = self.model.parameters()
        self.activation = activation
        self.loss_name, self.loss_fn = loss, nn.losses.get(loss)
        self.l2 = float(l2)
        self.batch_size = int(batch_size) if batch_size else 0
        if optimizer == "adam":
            self.opt: nn.optim.Optimizer = nn.optim.Adam(self.params, lr=lr)
        else:
            self.opt = nn.optim.SGD(self.params, lr=lr, momentum=0.9 if optimizer == "momentum" else 0.0)
        self.optimizer = optimizer
        self.compiled = bool(compiled)
        self.rng = random.Random(self.seed)
        self.epoch = 0
        self.losses: list[float] = []       # per epoch: mean training loss during the epoch (without the penalty)
        self.test_losses: list[float] = []  # per epoch: mean test loss at the epoch's start
        self.recording = Recording()
        self.recording.add(0, (p.data for p in self.params))
        self.tapes = nn.SampleTapes(self.forward, self.loss_fn)
        self._out = trace(lambda a, b: self.outputs(a, b), 0.0, 0.0)
        self._all = trace(lambda a, b: [v for layer in self.activations(a, b) for v in layer], 0.5, 0.5)

    # --- the network, on Values ----------------------------------------------------------------------
    def inputs(self, a: Any, b: Any) -> list[Any]:
        return [FEATURES[f][1](a, b) for f in self.features]

    def activations(self, a: Any, b: Any) -> list[list[Any]]:
        """[features, each layer's outputs]: what the network drawing shows, node by node."""
        layers = [self.inputs(a, b)]
        for layer in self.model.layers:
            layers.append(layer.activate(layer.preactivation(layers[-1])))
        return layers

    def outputs(self, a: Any, b: Any) -> Any:
        out = self.activations(a, b)[-1]
        return out[0] if self.classes == 1 else out

    def forward(self, x: list[Any]) -> Any:
        """The network on one sample [x1, x2] (numbers, or the Values a trace passes): what the training
        step calls."""
        a, b = (v if isinstance(v, Value) else Value(v) for v in x)
        return self.outputs(a, b)

    def target(self, label: float) -> Any:
        """The loss's target for a label (binary cross-entropy wants 0/1, the multi-class losses an index)."""
        if self.task == "multiclass":
            return int(label)
        return (label + 1.0) / 2.0 if self.loss_name == "binary_cross_entropy" else label

    def sample_loss(self, i: int) -> tuple[Value, list[list[Any]], list[list[Value]]]:
        """Sample i's loss as a graph, with the network's Values on the way: (loss, [features, each
        layer's outputs], each layer's weighted sums z)."""
        x1, x2 = (Value(v, label=f"x{k + 1}") for k, v in enumerate(self.X[i]))
        layers, zs = [self.inputs(x1, x2)], []
        for layer in self.model.layers:
            zs.append(layer.preactivation(layers[-1]))
            layers.append(layer.activate(zs[-1]))
        out = layers[-1][0] if self.classes == 1 else layers[-1]
        loss = self.loss_fn(out, self.target(self.y[i]))
        loss.label = "loss"
        return loss, layers, zs

    def mean_loss(self, indices: list[int]) -> float | None:
        """Mean loss (no penalty) over these points, forward only."""
        if not indices:
            return None
        return sum(self.tapes.value(self.X[i], self.target(self.y[i])) for i in indices) / len(indices)

    def train_batch(self, batch: list[int]) -> float:
        """One optimiser step on these training points (:func:`nn.train_step`); their mean loss, without
        the penalty, before the step."""
        regularizer = (lambda ps: nn.l2(ps, self.l2)) if self.l2 else None
        result = nn.train_step(self.forward, self.loss_fn, self.opt, [self.X[i] for i in batch],
                               [self.target(self.y[i]) for i in batch], params=self.params,
                               regularizer=regularizer, tapes=self.tapes if self.compiled else None)
        return result.loss

    # --- training ----------------------------------------------------------------------------------
    def train_epoch(self) -> None:
        """One epoch: the training points shuffled into batches of ``batch_size`` (0: one full batch)."""
        test_loss = self.mean_loss(self.test)
        order = list(self.train)
        b = self.batch_size or len(order)
        if b < len(order):
            self.rng.shuffle(order)
        losses = []
        for start in range(0, len(order), b):
            losses.append(self.train_batch(order[start:start + b]))
        self.epoch += 1
        self.losses.append(sum(losses) / len(losses))
        if test_loss is not None:
            self.test_losses.append(test_loss)
        self.recording.add(self.epoch, (p.data for p in self.params))

    def step(self) -> dict[str, Any]:
        self.train_epoch()
        return self.status()

    @contextlib.contextmanager
    def at_epoch(self, epoch: int | None) -> Iterator[int]:
        """The parameters as recorded at ``epoch`` (None: now) while the block runs; yields the epoch shown."""
        if epoch is None or epoch >= self.epoch:
            yield self.epoch
            return
        shown = self.recording.nearest(int(epoch))
        now = [p.data for p in self.params]
        for p, v in zip(self.params, self.recording.snapshots[shown]):
            p.data = v
        try:
            yield shown
        finally:
            for p, v in zip(self.params, now):
                p.data = v

    # --- what the page shows -----------------------------------------------------------------------
    def scores(self, points: list[list[float]]) -> list[Any]:
        """The model's output for each point (one float, or a list of class scores)."""
        out = self._out
        return [out(float(a), float(b)) for a, b in points]

    def correct(self, i: int, score: Any) -> bool:
        if self.task == "multiclass":
            return max(range(self.classes), key=lambda k: score[k]) == int(self.y[i])
        return (score > 0) == (self.y[i] > 0)

    def accuracy(self, indices: list[int] | None = None) -> float | None:
        """Fraction of these points (default: the training points) classified right; None for regression."""
        idx = self.train if indices is None else indices
        if self.task == "regression" or not idx:
            return None
        s = self.scores([self.X[i] for i in idx])
        return sum(self.correct(i, v) for i, v in zip(idx, s)) / len(idx)

    def status(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "loss": self.losses[-1] if self.losses else None,
                "test_loss": self.test_losses[-1] if self.test_losses else None,
                "accuracy": self.accuracy(), "test_accuracy": self.accuracy(self.test)}

    def grid(self, res: int, box: tuple[float, float, float, float]) -> list[Any]:
        """Outputs on a res x res grid over box = (xmin, xmax, ymin, ymax), rows from the top."""
        return self.scores(self.grid_points(res, box))

    def curve(self, res: int, box: tuple[float, float, float, float]) -> list[float]:
        """Regression: the prediction at res values of x1 across the box (x2 = 0)."""
        return self.scores([[box[0] + (box[1] - box[0]) * k / (res - 1), 0.0] for k in range(res)])

    @staticmethod
    def grid_points(res: int, box: tuple[float, float, float, float]) -> list[list[float]]:
        x0, x1, y0, y1 = box
        return [[x0 + (x1 - x0) * (i + 0.5) / res, y1 - (y1 - y0) * (j + 0.5) / res]
                for j in range(res) for i in range(res)]

    def node_grids(self, res: int, box: tuple[float, float, float, float]) -> list[list[list[float]]]:
        """Every node's output (features, then each layer's neurons) on a res x res grid: [layer][node][cell]."""
        sizes = [len(self.features), *self.widths, self.classes]
        cells = [self._all(a, b) for a, b in self.grid_points(res, box)]
        cells = [c if isinstance(c, tuple) else (c,) for c in cells]
        out, k = [], 0
        for size in sizes:
            out.append([[round(c[k + j], 4) for c in cells] for j in range(size)])
            k += size
        return out

    def weights(self) -> list[list[dict[str, Any]]]:
        """Per layer, per neuron: its weights and bias (the drawing's lines), with their parameter names."""
        names = {id(p): name for name, p in self.model.named_parameters()}
        return [[{"w": [w.data for w in neuron.w], "b": neuron.b.data if neuron.b is not None else 0.0,
                  "names": [names.get(id(w), "") for w in neuron.w],
                  "text": [number_text(w.data, 4) for w in neuron.w]} for neuron in layer.neurons]
                for layer in self.model.layers]

    def bounds(self, margin: float = 0.25) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.X]
        ys = [self.y[i] if self.task == "regression" else p[1] for i, p in enumerate(self.X)]
        return (min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin)

    def input_box(self, margin: float = 0.25) -> tuple[float, float, float, float]:
        """The input plane the heatmaps cover (for regression: x1 across the data, x2 around 0)."""
        x0, x1, y0, y1 = self.bounds(margin)
        return (x0, x1, -1.0, 1.0) if self.task == "regression" else (x0, x1, y0, y1)
