"""Training in one call: ``nn.fit`` runs epochs of (mini-)batch gradient descent and returns a History.

>>> import nn
>>> from nn import datasets
>>> X, y = datasets.demo_moons(labels="sign")
>>> model = nn.MLP(2, [16, 16, 1], seed=0)                        # doctest: +SKIP
>>> history = nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=1.0),
...                  epochs=100, regularizer=lambda ps: nn.l2(ps, 2e-4),
...                  schedule=nn.schedules.Linear(1.0, 0.1, 100))  # doctest: +SKIP
>>> history.accuracy[-1]                                          # doctest: +SKIP
1.0

Each optimiser step goes through one small function, :func:`loss_and_grads` (forward the batch,
average the loss, add the penalty, backward); :func:`batch_step` chooses the implementation, which
is the single place a compiled version plugs in (``compile=True``).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from autograd import Value, no_grad

from . import losses as _losses

__all__ = [
    "fit",
    "History",
    "EarlyStopping",
    "DivergenceError",
    "evaluate",
    "predict",
    "predict_classes",
]

Outputs = list[Any]  # per sample: a float, or a list of floats for several outputs


class DivergenceError(ValueError):
    """The loss (or a parameter) became NaN or infinite: training stopped, the model kept its last
    finite parameters. ``.history`` holds the epochs completed, ``.epoch`` where it happened."""

    def __init__(self, message: str, history: History | None = None, epoch: int = 0) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch


# --- the one per-batch computation (the seam for compile=True) ----------------------------------------
def loss_and_grads(
    model: Any, loss: Callable, regularizer: Callable | None, params: list[Value], xs: list, ys: list
) -> tuple[float, Outputs]:
    """One batch: forward, mean loss (+ penalty), backward. Returns (objective, outputs as floats).

    Afterwards every parameter's ``.grad`` holds d(objective)/d(parameter) for this batch alone.
    """
    outputs = _forward_batch(model, xs)
    objective = _losses.mean_loss(loss, outputs, ys)
    if regularizer is not None:
        objective = objective + _penalty(regularizer, params)
    for p in params:
        p.grad = 0.0
    objective.backward()
    return objective.data, [_to_floats(o) for o in outputs]


def batch_step(
    model: Any,
    loss: Callable,
    regularizer: Callable | None,
    params: list[Value],
    compile: bool | None = False,
    targets: Sequence[Any] | None = None,
) -> Callable[[list, list], tuple[float, Outputs]]:
    """The function ``step(xs, ys) -> (objective, outputs)`` that fit calls once per batch.

    ``compile=False`` builds and walks a fresh graph per batch (:func:`loss_and_grads`).
    ``compile=True`` replays traced tapes over the batch (:mod:`nn.compiled`), falling back to the
    eager step with a warning when the model cannot (BatchNorm in training); ``None``: compile
    only when that is known to give the eager numbers (one of nn's own losses, a model of nn layers,
    at most 64 distinct ``targets``), silently eager otherwise.
    """
    if compile or compile is None:
        from .compiled import compiled_step

        step = compiled_step(model, loss, regularizer, params, explicit=bool(compile), targets=targets)
        if step is not None:
            return step
    return lambda xs, ys: loss_and_grads(model, loss, regularizer, params, xs, ys)


# --- History ----------------------------------------------------------------------------------------
class History:
    """Per-epoch records of a training run: ``history["loss"]``, ``history.val_loss``, ``.lr``, ``.time``.

    Keys: ``epoch`` (1, 2, ...), ``loss`` (mean objective over the epoch's batches, penalty
    included), ``lr`` (learning rate at the epoch's last step), ``time`` (seconds), each metric
    (``accuracy``, measured on the same forward passes as the loss) and, with validation data,
    ``val_loss`` and ``val_<metric>`` (measured after the epoch).
    """

    def __init__(self, records: dict[str, list] | None = None, **info: Any) -> None:
        self.records: dict[str, list] = {k: list(v) for k, v in (records or {}).items()}
        self.stop_reason: str = info.get("stop_reason", "")
        self.best_epoch: int | None = info.get("best_epoch")
        self.restored_best: bool = bool(info.get("restored_best", False))

    def append(self, logs: dict[str, float]) -> None:
        """Add one epoch's numbers."""
        for key, value in logs.items():
            self.records.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        try:
            return self.records[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.records)}") from None

    def __getattr__(self, key: str) -> list:
        if key.startswith("_") or key in ("records",):
            raise AttributeError(key)
        try:
            return self.records[key]
        except KeyError:
            raise AttributeError(f"History has no {key!r}; it has {', '.join(self.records)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records.get("epoch", []))

    def keys(self) -> list[str]:
        """The recorded series' names."""
        return list(self.records)

    def last(self) -> dict[str, float]:
        """The last epoch's numbers."""
        return {k: v[-1] for k, v in self.records.items() if v}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"records": {...}, "stop_reason": ..., "best_epoch": ...}``."""
        return {
            "records": self.records,
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "restored_best": self.restored_best,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or not isinstance(data.get("records"), dict):
            raise ValueError("History.from_dict: expected a dict with a 'records' dict")
        return cls(data["records"], **{k: v for k, v in data.items() if k != "records"})

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        """Read a History written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def plot(self, **kwargs: Any) -> Any:
        """Loss and metric curves as a matplotlib figure (see :func:`nn.plot.loss_curves`)."""
        from .plot import loss_curves

        return loss_curves(self, **kwargs)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if k not in ("epoch", "time"))
        return f"History({len(self)} epochs{', ' + last if last else ''})"


class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs
    (seed 004), then (``restore_best``) put back the parameters of the best epoch."""

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 1, got {patience!r}")
        if not isinstance(min_delta, numbers.Real) or not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be a finite number >= 0, got {min_delta!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, restore_best={self.restore_best})"


# --- fit ----------------------------------------------------------------------------------------------
def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable,
    optimizer: Any,
    epochs: int = 100,
    batch_size: int | None = None,
    schedule: Callable[[float], float] | None = None,
    regularizer: Callable[[list[Value]], Value] | None = None,
    val_data: tuple[Any, Any] | None = None,
    val_split: float = 0.0,
    early_stopping: EarlyStopping | int | None = None,
    metrics: Sequence[str | Callable] = ("accuracy",),
    progress: bool | str = True,
    callbacks: Iterable[Callable] = (),
    seed: int | None = None,
    compile: bool | None = None,
) -> History:
    """Train ``model`` on (X, y) and return the per-epoch :class:`History`.

    - ``loss``: a name ("hinge", "cross_entropy", "binary_cross_entropy", "mse", ...) or a
      per-sample function ``loss(prediction, target) -> Value``; the batch loss is the mean.
    - ``optimizer``: an ``nn.optim`` instance over the model's parameters.
    - ``batch_size``: None = full batch (gradient descent), 1 = stochastic gradient descent,
      k = mini-batches of k; samples are reshuffled every epoch unless full batch.
    - ``schedule``: ``t -> lr`` with t the number of optimiser steps so far (= epochs at full batch).
    - ``regularizer``: parameters -> penalty Value, e.g. ``lambda ps: nn.l2(ps, 1e-4)``.
    - ``val_data=(X_val, y_val)`` or ``val_split`` (a fraction of the shuffled data held out).
    - ``early_stopping``: an :class:`EarlyStopping` or a patience; watches ``val_loss``.
    - ``metrics``: "accuracy" and/or functions ``metric(outputs, targets) -> float``.
    - ``progress``: True (a tqdm bar in a terminal, one plain line per ~10 % of epochs elsewhere),
      "bar", "plain" or False (silent).
    - ``callbacks``: functions ``cb(epoch, logs)`` after each epoch; returning True stops training.
    - ``seed``: for the shuffling and the validation split (None, or an integer >= 0).
    - ``compile``: True trains through autograd's tape compiler (same numbers to ~1e-15, much
      faster; warns and trains eagerly when the model cannot); False builds a graph per batch.
      None (default) compiles only when that is safe: one of nn's own losses (a name or an
      ``nn.losses`` function), a model made of ``nn.layers`` without BatchNorm, at most 64 distinct
      targets; otherwise it trains eagerly, silently.  The loss is traced once per distinct target,
      so a custom loss with Python branches on the prediction (``if p.data < 1``) or side effects
      would be frozen at trace time: a custom loss trains eagerly unless you pass ``compile=True``.

    Raises ValueError for X/y of different lengths, samples of the wrong width, labels the loss
    cannot take, a BatchNorm model whose batches would hold a single sample, and
    :class:`DivergenceError` when the loss becomes non-finite (the model keeps its last finite
    parameters and running statistics: the whole state before the failed step).
    """
    epochs = _check_int("epochs", epochs, 1)
    if batch_size is not None:
        batch_size = _check_int("batch_size", batch_size, 1)
    if seed is not None:
        seed = _check_int("seed", seed, 0)
    if not isinstance(val_split, numbers.Real) or not 0.0 <= val_split < 1.0:
        raise ValueError(f"fit: val_split must be a fraction in [0, 1), got {val_split!r}")
    loss_fn, loss_name = _resolve_loss(loss)
    for name in ("step", "zero_grad"):
        if not callable(getattr(optimizer, name, None)):
            raise TypeError(
                f"fit: optimizer must be an nn.optim optimiser (with .step() and .lr), got {type(optimizer).__name__}"
            )
    if schedule is not None and not callable(schedule):
        raise TypeError(f"fit: schedule must be a function t -> lr, got {type(schedule).__name__}")
    if regularizer is not None and not callable(regularizer):
        raise TypeError(f"fit: regularizer must be a function params -> Value, got {type(regularizer).__name__}")
    if isinstance(early_stopping, numbers.Integral) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=int(early_stopping))
    elif early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"fit: early_stopping must be an EarlyStopping or a patience (int), got {early_stopping!r}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb) and not callable(getattr(cb, "on_epoch_end", None)):
            raise TypeError(f"fit: each callback must be a function cb(epoch, logs), got {cb!r}")

    params = model.parameters()
    Xa = _as_samples("fit", "X", X)
    ya = _as_targets("fit", "y", y, len(Xa), "X")
    n_out = _check_model_input(model, Xa, "fit")
    task = _Task(loss_name, ya, n_out, "fit")
    _probe_loss(model, loss_fn, loss_name, Xa, task.targets(ya[:1]))
    rng = np.random.default_rng(seed)

    if val_data is not None:
        if val_split:
            raise ValueError("fit: give either val_data or val_split, not both")
        if not isinstance(val_data, (tuple, list)) or len(val_data) != 2:
            raise ValueError("fit: val_data must be a pair (X_val, y_val)")
        Xv = _as_samples("fit", "val_data X", val_data[0])
        yv = _as_targets("fit", "val_data y", val_data[1], len(Xv), "val_data X")
        _check_width(model, Xv, Xa.shape[1], "val_data X")
        _Task(loss_name, yv, n_out, "fit (val_data)")
    elif val_split:
        n_val = int(round(val_split * len(Xa)))
        if n_val < 1 or n_val >= len(Xa):
            raise ValueError(
                f"fit: val_split={val_split} of {len(Xa)} samples leaves no validation or no training data"
            )
        order = rng.permutation(len(Xa))
        Xv, yv = Xa[order[-n_val:]], ya[order[-n_val:]]
        Xa, ya = Xa[order[:-n_val]], ya[order[:-n_val]]
    else:
        Xv = yv = None
    if early_stopping is not None and Xv is None:
        raise ValueError(
            "fit: early_stopping watches the validation loss: give val_data=(X_val, y_val) or val_split > 0"
        )

    metric_fns = _resolve_metrics(metrics, task)
    xs_all = Xa.tolist()
    ys_all = task.targets(ya)
    xs_val = Xv.tolist() if Xv is not None else None
    ys_val = task.targets(yv) if yv is not None else None
    n = len(xs_all)
    size = n if batch_size is None else min(batch_size, n)
    _check_batchnorm_batches(model, n, size, batch_size)
    step = batch_step(model, loss_fn, regularizer, params, compile=compile, targets=ys_all)
    buffers = _buffers(model)

    history = History()
    bar = _Progress(epochs, progress)
    best = (math.inf, None, 0)  # (val_loss, state, epoch)
    waited = 0
    t_step = 0
    if hasattr(model, "train"):
        model.train()
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = np.arange(n) if batch_size is None else rng.permutation(n)
            total, seen = 0.0, 0
            outs: list = [None] * n
            for lo in range(0, n, size):
                idx = order[lo : lo + size]
                xs = [xs_all[i] for i in idx]
                ys = [ys_all[i] for i in idx]
                if schedule is not None:
                    optimizer.lr = schedule(t_step)
                # The whole state before the step: parameters and running statistics (the forward
                # pass of a BatchNorm model moves them), so a failed step leaves no trace.
                saved = [p.data for p in params]
                saved_buffers = [values[i] for values, i in buffers]
                try:
                    value, batch_outs = step(xs, ys)
                    if not math.isfinite(value):
                        raise FloatingPointError(f"the loss is {value}")
                    optimizer.step()  # refuses non-finite gradients, changing nothing
                    if not all(math.isfinite(p.data) for p in params):
                        raise FloatingPointError("a parameter became non-finite after the step")
                    if not all(math.isfinite(values[i]) for values, i in buffers):
                        raise FloatingPointError("a running statistic (BatchNorm) became non-finite")
                except (ArithmeticError, ValueError) as error:
                    _restore(params, saved, buffers, saved_buffers)
                    if not _numeric_failure(error):
                        raise  # e.g. BatchNorm given a batch of one: a usage error, not divergence
                    what = str(error) if isinstance(error, FloatingPointError) else f"{type(error).__name__}: {error}"
                    raise _diverged(history, epoch, lo // size + 1, what) from error
                t_step += 1
                total += value * len(idx)
                seen += len(idx)
                for i, o in zip(idx, batch_outs):
                    outs[i] = o
            logs: dict[str, float] = {"epoch": epoch, "loss": total / seen}
            for name, fn in metric_fns:
                logs[name] = fn(outs, ys_all)
            if xs_val is not None:
                val_outs = _predict_lists(model, xs_val)
                val_loss = _eval_loss(loss_fn, regularizer, params, val_outs, ys_val)
                logs["val_loss"] = val_loss
                for name, fn in metric_fns:
                    logs["val_" + name] = fn(val_outs, ys_val)
            logs["lr"] = float(getattr(optimizer, "lr", float("nan")))
            logs["time"] = time.perf_counter() - start
            history.append(logs)
            bar.update(epoch, logs)

            stop = ""
            if early_stopping is not None:
                if logs["val_loss"] < best[0] - early_stopping.min_delta:
                    best = (logs["val_loss"], model.state_dict(), epoch)
                    waited = 0
                else:
                    waited += 1
                    if waited >= early_stopping.patience:
                        stop = "early_stopping"
            for cb in callbacks:
                hook = cb if callable(cb) else cb.on_epoch_end
                if hook(epoch, dict(logs)) is True:
                    stop = stop or "callback"
            if stop:
                history.stop_reason = stop
                break
        else:
            history.stop_reason = "completed"
    finally:
        bar.close()
    if early_stopping is not None and best[1] is not None:
        history.best_epoch = best[2]
        if early_stopping.restore_best:
            model.load_state_dict(best[1])
            history.restored_best = True
    return history


# --- evaluation -------------------------------------------------------------------------------------
def predict(model: Any, X: Any) -> np.ndarray:
    """The model's raw outputs for every row of X, without building graphs (eval mode).

    Shape (n,) for a model with one output, (n, k) for k outputs.
    """
    Xa = _as_samples("predict", "X", X)
    return np.array(_predict_lists(model, Xa.tolist()), dtype=float)


def predict_classes(model: Any, X: Any, threshold: float = 0.0) -> np.ndarray:
    """Class indices: argmax for several outputs, ``output > threshold`` for one (0 for scores and
    logits; use 0.5 for a model trained on 0/1 with a squared loss)."""
    out = predict(model, X)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(-1) > threshold).astype(np.int64)


def evaluate(
    model: Any, X: Any, y: Any, loss: str | Callable | None = None, metrics: Sequence[str | Callable] = ("accuracy",)
) -> dict[str, float]:
    """``{"loss": ..., "accuracy": ...}`` on (X, y) without training (the loss only if given)."""
    Xa = _as_samples("evaluate", "X", X)
    ya = _as_targets("evaluate", "y", y, len(Xa), "X")
    n_out = _check_model_input(model, Xa, "evaluate")
    loss_fn, loss_name = _resolve_loss(loss) if loss is not None else (None, None)
    task = _Task(loss_name, ya, n_out, "evaluate")
    outs = _predict_lists(model, Xa.tolist())
    ys = task.targets(ya)
    result = {}
    if loss_fn is not None:
        result["loss"] = _eval_loss(loss_fn, None, [], outs, ys)
    for name, fn in _resolve_metrics(metrics, task):
        result[name] = fn(outs, ys)
    return result


# --- internals --------------------------------------------------------------------------------------
class _Task:
    """What the labels are and how to score outputs against them, checked against the loss."""

    _KINDS = {
        "hinge": "sign",
        "perceptron": "sign",
        "binary_cross_entropy": "01",
        "cross_entropy": "index",
        "multiclass_hinge": "index",
        "multiclass_perceptron": "index",
    }

    _REGRESSION = ("squared_error", "half_squared_error", "absolute_error")

    def __init__(self, loss_name: str | None, y: np.ndarray, n_out: int, where: str) -> None:
        from .datasets import label_kind

        self.kind = label_kind(y)
        self.n_out = n_out
        want = self._KINDS.get(loss_name or "")
        shown = _values_preview(y)
        values = set(np.unique(y).tolist())
        if want in ("sign", "01") and y.ndim == 2:
            # A binary loss on several outputs sums over them: one label per output, per sample.
            ok = values <= {-1.0, 1.0} if want == "sign" else bool(((y >= 0) & (y <= 1)).all())
            form = "-1/+1" if want == "sign" else "0/1 (or probabilities in [0, 1])"
            fix = f"; convert with nn.datasets.to_labels(y, '{want}')" if self.kind == "onehot" and n_out == 1 else ""
            if not ok or y.shape[1] != n_out:
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects labels {form}, one per model output "
                    f"({n_out}), but y holds rows of width {y.shape[1]} with values like {sorted(values)[:4]}{fix}"
                )
        elif want == "sign":
            if not values <= {-1.0, 1.0}:  # {1} alone is also "01": either form accepts it
                fix = "nn.datasets.to_labels(y, 'sign')" if self.kind in ("01", "index", "onehot") else "labels -1/+1"
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects labels -1/+1, but y holds {shown}; convert with {fix}"
                )
            self.kind = "sign"
        elif want == "01":
            if values <= {-1.0, 1.0} and -1.0 in values:
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects labels 0/1 (or probabilities in [0, 1]), but y holds "
                    f"{shown}; convert with nn.datasets.to_labels(y, '01')"
                )
            if not ((y >= 0) & (y <= 1)).all():
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects labels 0/1 or probabilities in [0, 1], got {shown}"
                )
        if want == "index":
            if self.kind not in ("01", "index"):
                fix = (
                    "; convert with nn.datasets.to_labels(y, 'index')"
                    if self.kind in ("sign", "onehot")
                    else ""
                )
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects class indices 0..{n_out - 1} (one per model output), "
                    f"but y holds {shown}{fix}"
                )
            top = int(np.max(y))
            if top >= n_out:
                raise ValueError(
                    f"{where}: loss '{loss_name}' expects class indices 0..{n_out - 1} (the model has {n_out} "
                    f"output{'s' if n_out != 1 else ''}), but y has class {top}"
                )
        # One output is a score or a logit, positive for class 1 (as predict_classes), unless nn's
        # squared or absolute error regressed 0/1 targets directly (e.g. XOR): then 0.5 splits them.
        self.threshold = 0.0
        if loss_name in self._REGRESSION and self.kind == "01" and n_out == 1:
            self.threshold = 0.5
        self.want = want

    @property
    def classification(self) -> bool:
        return self.kind in ("01", "sign", "index", "onehot")

    def targets(self, y: np.ndarray) -> list:
        if self.want == "index" or (self.want is None and self.kind == "index" and self.n_out > 1):
            return [int(v) for v in y.reshape(-1)]
        return y.tolist()

    def accuracy(self, outputs: list, targets: list) -> float:
        hits = 0
        for o, t in zip(outputs, targets):
            hits += self._predicted(o) == self._true(t)
        return hits / len(outputs)

    def _predicted(self, o: Any) -> int:
        if isinstance(o, list):
            if len(o) > 1:
                return max(range(len(o)), key=o.__getitem__)
            o = o[0]
        return int(o > self.threshold)

    def _true(self, t: Any) -> int:
        if isinstance(t, list):
            if len(t) > 1:
                return max(range(len(t)), key=t.__getitem__)
            t = t[0]
        if self.kind == "sign":
            return int(t > 0)
        if self.kind == "01" and self.n_out == 1:
            return int(t > 0.5)
        return int(t)


def _resolve_loss(loss: Any) -> tuple[Callable, str | None]:
    if isinstance(loss, str):
        try:
            fn = _losses.get(loss)
        except KeyError as error:
            raise ValueError(f"fit: {error.args[0]}") from None
    elif callable(loss):
        fn = loss
    else:
        raise TypeError(f"fit: loss must be a loss name or a function loss(prediction, target), got {loss!r}")
    name = next((k for k, v in _losses.LOSSES.items() if v is fn), None)
    return fn, name


def _resolve_metrics(metrics: Sequence[Any], task: _Task) -> list[tuple[str, Callable]]:
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    out = []
    for m in metrics:
        if m == "accuracy":
            if task.classification:
                out.append(("accuracy", task.accuracy))
        elif callable(m):
            out.append((getattr(m, "__name__", "metric"), m))
        else:
            raise ValueError(f"fit: unknown metric {m!r}; use 'accuracy' or a function metric(outputs, targets)")
    return out


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"fit: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _as_samples(where: str, name: str, X: Any) -> np.ndarray:
    if isinstance(X, np.ndarray) and X.dtype != object:
        a = X.astype(float, copy=False)
    else:
        rows = list(X)
        widths = {len(r) if hasattr(r, "__len__") else 1 for r in rows}
        if len(widths) > 1:
            first = len(rows[0]) if hasattr(rows[0], "__len__") else 1
            bad = next(i for i, r in enumerate(rows) if (len(r) if hasattr(r, "__len__") else 1) != first)
            raise ValueError(
                f"{where}: {name} has samples of different widths: sample 0 has {first} values, sample {bad} has "
                f"{len(rows[bad]) if hasattr(rows[bad], '__len__') else 1}"
            )
        try:
            a = np.asarray(rows, dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: {name} must be numbers (samples x features): {error}") from None
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{where}: {name} must be 2-D (samples x features), got shape {a.shape}")
    if len(a) == 0:
        raise ValueError(f"{where}: {name} is empty (no samples)")
    bad = np.flatnonzero(~np.isfinite(a).all(axis=1))
    if bad.size:
        raise ValueError(f"{where}: {name} has a NaN or infinite value in sample {int(bad[0])}: {a[bad[0]].tolist()}")
    return a


def _as_targets(where: str, name: str, y: Any, n: int, x_name: str) -> np.ndarray:
    try:
        a = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {name} must be numbers (one label or target per sample): {error}") from None
    if a.ndim == 0:
        raise ValueError(f"{where}: {name} must hold one label per sample, got a single number")
    if len(a) != n:
        raise ValueError(
            f"{where}: {x_name} has {n} samples but {name} has {len(a)} labels; they must have the same length"
        )
    if not np.isfinite(a).all():
        i = int(np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))[0])
        raise ValueError(f"{where}: {name} has a NaN or infinite value at sample {i}")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a.reshape(-1)
    return a


def _input_width(model: Any) -> int | None:
    for attr in ("nin", "in_features", "n_inputs"):
        w = getattr(model, attr, None)
        if isinstance(w, int):
            return w
    layers = getattr(model, "layers", None)
    if isinstance(layers, (list, tuple)) and layers:
        return _input_width(layers[0])
    return None


def _check_width(model: Any, X: np.ndarray, width: int, name: str) -> None:
    if X.shape[1] != width:
        raise ValueError(f"fit: {name} has samples of width {X.shape[1]} but the training X has width {width}")


def _check_model_input(model: Any, X: np.ndarray, where: str) -> int:
    """Check the sample width against the model and return its number of outputs."""
    width = X.shape[1]
    expected = _input_width(model)
    if expected is not None and expected != width:
        raise ValueError(
            f"{where}: samples have {width} feature{'s' if width != 1 else ''} but the model expects {expected} "
            f"input{'s' if expected != 1 else ''} ({type(model).__name__}); X must have shape (n, {expected})"
        )
    try:
        out = _predict_lists(model, X[:1].tolist())[0]
    except (ValueError, TypeError, IndexError) as error:
        raise ValueError(
            f"{where}: the model cannot take a sample of width {width} (X has shape {X.shape}): {error}"
        ) from error
    return len(out) if isinstance(out, list) else 1


def _numeric_failure(error: Exception) -> bool:
    """An overflow, a NaN/inf or a domain error (log of a negative...): the numbers blew up."""
    if isinstance(error, ArithmeticError):
        return True
    text = str(error).lower()
    return any(word in text for word in ("nan", "inf", "finite", "overflow", "domain"))


def _probe_loss(model: Any, loss_fn: Callable, loss_name: str | None, X: np.ndarray, y0: list) -> None:
    """Run the loss on sample 0 so a loss/target mismatch is reported as such, not as divergence."""
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()  # one sample: BatchNorm's batch statistics need more, dropout must not draw
    try:
        with no_grad():
            loss_fn(_forward_batch(model, X[:1].tolist())[0], y0[0])
    except (TypeError, ValueError, IndexError) as error:
        name = f"'{loss_name}'" if loss_name else getattr(loss_fn, "__name__", "the loss")
        raise ValueError(f"fit: loss {name} cannot take the model's output with target {y0[0]!r}: {error}") from error
    finally:
        if was_training:
            model.train()


def _forward_batch(model: Any, xs: list) -> list:
    batch = getattr(model, "forward_batch", None)
    return batch(xs) if batch is not None else [model(x) for x in xs]


def _to_floats(o: Any) -> Any:
    if isinstance(o, Value):
        return o.data
    if isinstance(o, (list, tuple)):
        return [v.data if isinstance(v, Value) else float(v) for v in o]
    return float(o)


def _predict_lists(model: Any, xs: list) -> list:
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        if len(xs) >= _REPLAY_MIN and _replayable(model):
            try:
                return _replay(model, xs)
            except (ArithmeticError, ValueError, TypeError, KeyError):
                pass  # e.g. an overflow in one row: the per-sample path reports it precisely
        with no_grad():
            return [_to_floats(o) for o in _forward_batch(model, xs)]
    finally:
        if was_training:
            model.train()


_REPLAY_MIN = 64


def _replayable(model: Any) -> bool:
    """True for models built only from nn.layers modules, whose graph is the same for every input."""
    modules = getattr(model, "modules", None)
    return callable(modules) and all(type(m).__module__ == "nn.layers" for m in modules())


def _replay(model: Any, xs: list) -> list:
    """Evaluate many samples at once: trace one sample's graph and replay it over numpy columns."""
    from autograd import trace

    columns = np.asarray(xs, dtype=float).T
    tape = trace(lambda *inputs: model(list(inputs)), *columns[:, 0].tolist())
    out = tape.batch(*columns)
    cols = [np.asarray(c, dtype=float) for c in (out if isinstance(out, tuple) else (out,))]
    if not all(np.isfinite(c).all() for c in cols):
        raise FloatingPointError("non-finite output in the batch replay")
    return np.column_stack(cols).tolist() if isinstance(out, tuple) else cols[0].tolist()


def _eval_loss(loss_fn: Callable, regularizer: Callable | None, params: list, outs: list, ys: list) -> float:
    with no_grad():
        value = _losses.mean_loss(loss_fn, outs, ys).data
        if regularizer is not None:
            value += _penalty(regularizer, params).data
    return value


def _penalty(regularizer: Callable, params: list[Value]) -> Value:
    penalty = regularizer(params)
    if not isinstance(penalty, (Value, numbers.Real)):
        raise TypeError(f"fit: the regularizer must return a Value, got {type(penalty).__name__}")
    return penalty


def _buffers(model: Any) -> list[tuple[list, int]]:
    """(list, index) of every buffer entry (BatchNorm's running statistics), updated in place."""
    named = getattr(model, "_named_buffers", None)
    return [(values, i) for _, values, i in named()] if callable(named) else []


def _restore(params: list[Value], saved: list[float], buffers: list[tuple[list, int]] = (),
             saved_buffers: list[float] = ()) -> None:
    for p, v in zip(params, saved):
        p.data = v
        p.grad = 0.0
    for (values, i), v in zip(buffers, saved_buffers):
        values[i] = v


def _check_batchnorm_batches(model: Any, n: int, size: int, batch_size: int | None) -> None:
    """BatchNorm in training needs every batch to hold 2+ samples: say so before the first epoch."""
    from .layers import BatchNorm

    modules = model.modules() if callable(getattr(model, "modules", None)) else ()
    if not any(isinstance(m, BatchNorm) for m in modules):
        return
    last = n % size or size
    if last >= 2:
        return
    if size == 1:
        why = f"batch_size={batch_size} gives batches of 1" if batch_size is not None else "there is 1 training sample"
    else:
        why = (f"batch_size={batch_size} splits the {n} training samples into {n // size} batches of {size} "
               f"and a last batch of 1")
    raise ValueError(
        f"fit: BatchNorm: training needs a batch of at least 2 samples, but {why}; choose a batch_size "
        f"with n % batch_size != 1 (n = {n} training samples)"
    )


def _diverged(history: History, epoch: int, batch: int, what: str) -> DivergenceError:
    history.stop_reason = "diverged"
    return DivergenceError(
        f"fit: training diverged at epoch {epoch}, batch {batch}: {what}. Training stopped; the model keeps "
        f"its last finite parameters (try a smaller learning rate)",
        history,
        epoch,
    )


def _values_preview(y: np.ndarray) -> str:
    if y.ndim == 2:
        return f"one-hot rows of width {y.shape[1]}" if set(np.unique(y).tolist()) <= {0.0, 1.0} else "rows of numbers"
    values = np.unique(y)
    shown = ", ".join(f"{v:g}" for v in values[:6])
    return "{" + shown + (", ..." if len(values) > 6 else "") + "}"


class _Progress:
    """A tqdm bar in an interactive terminal; plain lines (about ten) in logs, CI and notebooks."""

    def __init__(self, epochs: int, progress: bool | str) -> None:
        self.epochs = epochs
        self.bar = None
        stream = sys.stderr
        if progress is True:
            interactive = hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
            progress = "bar" if interactive else "plain"
        if progress not in (False, None, "bar", "plain"):
            raise ValueError(f"fit: progress must be True, False, 'bar' or 'plain', got {progress!r}")
        self.mode = progress or None
        self.every = max(1, epochs // 10)
        if self.mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=epochs, unit="epoch", file=stream, dynamic_ncols=True, leave=True)

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        shown = {k: v for k, v in logs.items() if k not in ("epoch", "time")}
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()}, refresh=False)
            self.bar.update(1)
        elif self.mode == "plain" and (epoch % self.every == 0 or epoch == self.epochs or epoch == 1):
            parts = "  ".join(f"{k} {v:.4g}" for k, v in shown.items())
            print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  {parts}  ({logs['time']:.2f}s)",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
