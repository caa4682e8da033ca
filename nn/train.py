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

fit runs the batches through a :class:`nn.trainer.Trainer`: :class:`nn.flat.FlatTrainer` (the traced
tape on flat arrays) when ``compile`` allows and the model can, else :class:`nn.trainer.EagerTrainer`,
which takes :func:`nn.step.train_step` (forward, mean loss + penalty, backward, optimiser) per batch.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

from .checks import numeric_failure
from .history import EarlyStopping, History
from .outputs import eval_loss, predict_lists
from .prepare import FitPlan, prepare_fit, takes_fit_options
from .progress import Progress
from .structure import state
from .trainer import EagerTrainer, Trainer

__all__ = ["fit", "DivergenceError"]

class DivergenceError(ValueError):
    """The loss (or a parameter) became NaN or infinite: training stopped, the model kept its last
    finite parameters. ``.history`` holds the epochs completed, ``.epoch`` where it happened."""

    def __init__(self, message: str, history: History | None = None, epoch: int = 0) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch


# --- fit ----------------------------------------------------------------------------------------------
@takes_fit_options
def fit(model: Any, X: Any, y: Any, **options: Any) -> History:
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
      faster), False builds a graph per batch, None (default) compiles only what is known to give
      the eager numbers: nn's own losses on a model of ``nn.layers`` (:func:`nn.compiled.why_not_compiled`).
      While a compiled fit runs the parameters live in a flat array (:mod:`nn.flat`); the Values
      are brought up to date whenever user code can look: after every epoch when there are
      callbacks, early stopping, validation or a metric function (they see current numbers), on
      any error and at the end.  Validation replays the training tape (no graph per epoch).  A callback
      that changes what was traced or read once (an activation, a Value replaced, ``model.eval()``, the
      loss, the regularizer, the optimizer's parameters) makes the rest of that fit train eagerly.

    The options are :class:`nn.prepare.FitOptions` (written once, there).  Every argument is checked
    first, by :func:`nn.prepare_fit` (which says what it raises); then
    :class:`DivergenceError` when the loss becomes non-finite (the model keeps the whole state
    before the failed step: parameters and running statistics).
    """
    plan = prepare_fit(model, X, y, caller="fit", **options)
    optimizer = plan.optimizer
    history, bar, watch = History(_record_keys(plan)), Progress(plan.epochs, plan.progress), _Watch(plan.early_stopping)
    _training_mode(plan)  # before the step is built: the compiled one traces dropout and BatchNorm as they train
    trainer = _trainer(plan)
    read_once = _read_once(plan, trainer)
    t = 0  # optimiser steps so far: the schedule's clock
    schedule, looks, callbacks = plan.schedule, plan.looks_each_epoch, plan.callbacks
    try:
        for epoch in range(1, plan.epochs + 1):
            start = time.perf_counter()
            total = 0.0
            for batch, idx in enumerate(plan.batches(), 1):
                if schedule is not None:
                    optimizer.lr = schedule(t)
                try:
                    value = trainer.step(idx)  # all or nothing: a failed step leaves no trace
                except (ArithmeticError, ValueError) as error:
                    if not numeric_failure(error):
                        raise  # e.g. BatchNorm given a batch of one: a usage error, not divergence
                    raise _diverged(history, epoch, batch, error) from error
                t += 1
                total += value * len(idx)
            if looks:
                trainer.sync()  # from here on user code can look at the model
            logs = _epoch_logs(plan, epoch, total / plan.n, trainer)
            logs["time"] = time.perf_counter() - start
            history.append(logs)
            bar.update(epoch, logs)
            stop = "early_stopping" if watch.update(logs, model, epoch) else ""
            for hook in callbacks:
                if hook(epoch, dict(logs)) is True:
                    stop = stop or "callback"
            if stop:
                history.stop_reason = stop
                break
            if callbacks:
                trainer.reload()  # a callback may have changed parameters or the optimiser's state
                trainer = _after_callbacks(plan, trainer, epoch, read_once)
        else:
            history.stop_reason = "completed"
    finally:
        trainer.sync()
        trainer.close()
        bar.close()
    watch.finish(history, model)
    return history


# --- fit's parts: one guarded step, an epoch's numbers, early stopping ---------------------------------
def _training_mode(plan: FitPlan) -> None:
    """``model.train()``; for an nn Module that does not redefine it, on the modules prepare_fit walked
    (the same list: that is all Module.train does, without walking the model again)."""
    walked = plan.modules_in_training()
    if walked is not None:
        for m in walked:
            m.training = True
    elif hasattr(plan.model, "train"):
        plan.model.train()


def _trainer(plan: FitPlan) -> Trainer:
    """What runs the batches: compiled training on flat arrays (:mod:`nn.flat`) when ``compile``
    allows and the model can, else :class:`nn.trainer.EagerTrainer` (a graph per batch)."""
    if plan.compile or plan.compile is None:
        from .compiled import flat_trainer

        trainer = flat_trainer(plan, explicit=bool(plan.compile))
        if trainer is not None:
            return trainer
    return EagerTrainer(plan)


def _read_once(plan: FitPlan, trainer: Trainer) -> tuple | None:
    """What compiled training read once, at its start, besides the traced graph: the regulariser's state
    (:func:`nn.structure.state`) and which Values the optimiser steps; None when nothing compares it
    (eager training, no callbacks)."""
    if isinstance(trainer, EagerTrainer) or not plan.callbacks:
        return None
    return state(plan.regularizer), tuple(getattr(plan.optimizer, "params", ()))  # Values: compared by identity


def _after_callbacks(plan: FitPlan, trainer: Trainer, epoch: int, read_once: tuple | None) -> Trainer:
    """The trainer for the epochs after ``epoch``'s callbacks.  Compiled training replays the graph traced
    from the model and the loss as they were, with the regulariser and the optimiser's parameters as they
    were (``read_once``): once a callback changed one (an activation, a parameter replaced by another Value,
    ``model.eval()``, a penalty's strength, a layer frozen), the rest of the fit trains eagerly, as eager fit
    does (with a warning when ``compile=True`` asked for the tape)."""
    if isinstance(trainer, EagerTrainer) or read_once is None:
        return trainer
    from .compiled import still_traced
    from .flat import FlatTrainer

    if not isinstance(trainer, FlatTrainer) or (still_traced(plan.model, plan.loss, trainer.compiled) and
                                                _read_once(plan, trainer) == read_once):
        return trainer
    trainer.close()  # the Values and the optimiser's state are current: synced before the callbacks, read back
    if plan.compile:
        warnings.warn(f"fit(compile=True): training eagerly from epoch {epoch + 1} on: a callback changed the "
                      f"model, the loss, the regularizer or the optimizer's parameters it had read", stacklevel=3)
    return EagerTrainer(plan)


def _record_keys(plan: FitPlan) -> dict[str, list]:
    """The series :func:`_epoch_logs` records, empty: a run that diverges in epoch 1 still has
    ``history.loss == []``."""
    names = [name for name, _ in plan.metrics]
    val = ["val_loss"] + ["val_" + name for name in names] if plan.xs_val is not None else []
    return {k: [] for k in ["epoch", "loss", *names, *val, "lr", "time"]}


def _epoch_logs(plan: FitPlan, epoch: int, loss: float, trainer: Trainer) -> dict[str, float]:
    """The epoch's record: loss, metrics on the same outputs, validation loss and metrics, lr.

    ``trainer.outputs()`` is a list (one float or list per sample) or, from compiled training, an
    array with a row per sample: accuracy reads it as it is; a metric of the user's gets
    ``trainer.rows()``, the outputs as the model gives them (lists, as in eager fit).
    ``trainer.predict(X_val)`` gives the validation outputs (compiled training replays its tape),
    or None to run the model (:func:`predict_lists`).
    """
    logs: dict[str, float] = {"epoch": epoch, "loss": loss}
    outs, rows, accuracy = trainer.outputs(), None, plan.task.accuracy
    for name, fn in plan.metrics:
        if fn == accuracy:
            logs[name] = fn(outs, plan.ys)
            continue
        rows = trainer.rows() if rows is None else rows
        logs[name] = fn(rows, plan.ys)
    if plan.xs_val is not None and plan.ys_val is not None:
        val_outs = trainer.predict(plan.X_val)
        if val_outs is None:
            val_outs = predict_lists(plan.model, plan.xs_val)
        logs["val_loss"] = eval_loss("fit", plan.loss, plan.regularizer, plan.params, val_outs, plan.ys_val)
        for name, fn in plan.metrics:
            logs["val_" + name] = fn(val_outs, plan.ys_val)
    logs["lr"] = float(getattr(plan.optimizer, "lr", float("nan")))
    return logs


class _Watch:
    """Early stopping: remembers the best validation loss and its state, counts epochs without progress."""

    def __init__(self, rule: EarlyStopping | None) -> None:
        self.rule = rule
        self.best: tuple[float, dict | None, int] = (math.inf, None, 0)  # (val_loss, state, epoch)
        self.waited = 0

    def update(self, logs: dict[str, float], model: Any, epoch: int) -> bool:
        """True when training should stop."""
        if self.rule is None:
            return False
        if logs["val_loss"] < self.best[0] - self.rule.min_delta:
            self.best = (logs["val_loss"], model.state_dict(), epoch)
            self.waited = 0
            return False
        self.waited += 1
        return self.waited >= self.rule.patience

    def finish(self, history: History, model: Any) -> None:
        """Record the best epoch and put its parameters back (``restore_best``)."""
        if self.rule is None or self.best[1] is None:
            return
        history.best_epoch = self.best[2]
        if self.rule.restore_best:
            model.load_state_dict(self.best[1])
            history.restored_best = True


def _diverged(history: History, epoch: int, batch: int, error: Exception) -> DivergenceError:
    history.stop_reason = "diverged"
    what = str(error) if isinstance(error, FloatingPointError) else f"{type(error).__name__}: {error}"
    return DivergenceError(
        f"fit: training diverged at epoch {epoch}, batch {batch}: {what}. Training stopped; the model keeps "
        f"its last finite parameters (try a smaller learning rate)",
        history,
        epoch,
    )
