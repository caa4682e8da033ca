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

import math
import numbers
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from autograd import Value

from . import losses as _losses
from .checks import (
    _as_samples,
    _as_targets,
    _check_batchnorm_batches,
    _check_int,
    _check_model_input,
    _check_width,
    _numeric_failure,
    _probe_loss,
    _resolve_loss,
    _resolve_metrics,
    _Task,
)
from .history import EarlyStopping, History
from .outputs import _eval_loss, _forward_batch, _penalty, _predict_lists, _to_floats
from .progress import _Progress

__all__ = ["fit", "DivergenceError"]

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


def _diverged(history: History, epoch: int, batch: int, what: str) -> DivergenceError:
    history.stop_reason = "diverged"
    return DivergenceError(
        f"fit: training diverged at epoch {epoch}, batch {batch}: {what}. Training stopped; the model keeps "
        f"its last finite parameters (try a smaller learning rate)",
        history,
        epoch,
    )


