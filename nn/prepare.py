"""``prepare_fit``: every check and every preparation ``nn.fit`` makes before its first epoch.

fit is the training loop; this is what it stands on.  ``prepare_fit`` takes fit's arguments, checks
each one (naming the function the user called), converts X and y to the numbers and labels the loss
trains on, holds out the validation data and returns a :class:`FitPlan`.  Nothing is trained and the
model is not changed, so it is also a cheap way to ask "would this fit call start?":

>>> import nn
>>> X, y = nn.datasets.demo_moons(labels="sign")
>>> model = nn.MLP(2, [8, 1], seed=0)
>>> plan = nn.prepare_fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
...                       batch_size=32, val_split=0.2, seed=0)
>>> plan.n, len(plan.xs_val), plan.size, plan.spec.labels
(80, 20, 32, 'sign')
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, cast

import numpy as np

from autograd import Value

from . import validate
from .checks import (
    Task,
    as_samples,
    as_targets,
    check_batchnorm_batches,
    check_optimizer_params,
    check_width,
    model_output,
    n_outputs,
    probe_loss,
    resolve_loss,
    resolve_metrics,
)
from .history import EarlyStopping
from .losses import LossSpec
from .module import Module
from .structure import Probed, fingerprint, modules_of, of_nn_layers, probed, remember_probe

__all__ = ["prepare_fit", "FitPlan", "FitOptions"]

Hook = Callable[[int, dict], Any]


@dataclass
class FitPlan:
    """fit's arguments, checked, and its data, prepared: what one training run needs.

    ``X``/``ys`` are the training samples (a float array; ``xs`` the same as lists of floats) and
    targets in the form the loss takes (class indices as ints, -1/+1, 0/1, rows...; ``y`` the same
    as an array);
    ``X_val``/``xs_val``/``ys_val`` the validation part (None without validation).  ``size`` is
    the number of samples per batch (``n`` at full batch);
    ``rng`` the generator of the shuffling, already used for the validation split.
    """

    model: Any
    params: list[Value]
    loss: Callable[[Any, Any], Value]
    spec: LossSpec | None  # the loss's declaration in nn.losses (None for a custom function)
    optimizer: Any
    epochs: int
    batch_size: int | None
    size: int
    schedule: Callable[[float], float] | None
    regularizer: Callable[[list[Value]], Value] | None
    early_stopping: EarlyStopping | None
    metrics: list[tuple[str, Callable[[list, list], float]]]
    progress: bool | str
    callbacks: list[Hook]
    compile: bool | None
    task: Task
    X: np.ndarray  # the training samples as a float array (what compiled training reads)
    ys: list[Any]
    y: np.ndarray  # the same targets as an array (what compiled training sorts to find the distinct ones)
    X_val: np.ndarray | None
    ys_val: list[Any] | None
    rng: np.random.Generator
    modules: list | None = None  # the model's modules (nn.structure.modules_of), walked once
    structure: tuple | None = None  # their fingerprint (nn.structure.fingerprint), None when not taken

    @functools.cached_property
    def xs(self) -> list[list[float]]:
        """The training samples as lists of floats (made on first use: eager training reads them)."""
        rows: list[list[float]] = self.X.tolist()
        return rows

    @functools.cached_property
    def xs_val(self) -> list[list[float]] | None:
        """The validation samples as lists of floats, or None."""
        return self.X_val.tolist() if self.X_val is not None else None

    def modules_in_training(self) -> list | None:
        """The modules prepare_fit walked, when they are still the model's once fit has put it in training
        mode: always, unless the model redefines ``train()`` (which may swap a module in); else None."""
        model = self.model
        if self.modules is not None and isinstance(model, Module) and type(model).train is Module.train:
            return self.modules
        return None

    @property
    def looks_each_epoch(self) -> bool:
        """Whether code outside fit's loop reads the model after every epoch (callbacks, early stopping,
        validation, a metric of the user's), so that compiled training must write its numbers back
        into the Values then, not only at the end."""
        return bool(self.callbacks) or self.early_stopping is not None or self.X_val is not None or \
            any(fn != self.task.accuracy for _, fn in self.metrics)

    @property
    def n(self) -> int:
        """The number of training samples."""
        return len(self.X)

    def batches(self) -> Iterator[np.ndarray]:
        """One epoch's batches of sample indices: in order at full batch (one array, the same every
        epoch), reshuffled otherwise."""
        if self.batch_size is None:
            yield self._every
            return
        order = self.rng.permutation(self.n)
        for lo in range(0, self.n, self.size):
            yield order[lo : lo + self.size]

    @functools.cached_property
    def _every(self) -> np.ndarray:
        return np.arange(self.n)


@dataclass(frozen=True)
class FitOptions:
    """fit's options, written once: :func:`nn.fit` and :func:`prepare_fit` take these keywords, with
    these defaults (their signatures are made from these fields); fit's docstring says what each means."""

    loss: str | Callable
    optimizer: Any
    epochs: int = 100
    batch_size: int | None = None
    schedule: Callable[[float], float] | None = None
    regularizer: Callable[[list[Value]], Value] | None = None
    val_data: tuple[Any, Any] | None = None
    val_split: float = 0.0
    early_stopping: EarlyStopping | int | None = None
    metrics: Sequence[str | Callable] = ("accuracy",)
    progress: bool | str = True
    callbacks: Iterable[Callable] = ()
    seed: int | None = None
    compile: bool | None = None


_OPTIONS = {f.name: f for f in fields(FitOptions)}


def fit_options(caller: str, given: dict[str, Any]) -> FitOptions:
    """``given`` keywords as :class:`FitOptions`; a TypeError naming ``caller`` as Python's own would."""
    for name in given:
        if name not in _OPTIONS:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
    for name, f in _OPTIONS.items():
        if name not in given and f.default is MISSING:
            raise TypeError(f"{caller}() missing 1 required keyword-only argument: {name!r}")
    return FitOptions(**given)


def takes_fit_options(f: Callable) -> Callable:
    """``f(..., **options)`` with the signature that names each of :class:`FitOptions` (help(), the docs)."""
    sig = inspect.signature(f)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    at = next((i for i, p in enumerate(params) if p.kind is p.KEYWORD_ONLY), len(params))
    options = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=o.type,
                                 default=inspect.Parameter.empty if o.default is MISSING else o.default)
               for name, o in _OPTIONS.items()]
    f.__signature__ = sig.replace(parameters=params[:at] + options + params[at:])  # type: ignore[attr-defined]
    return f


@takes_fit_options
def prepare_fit(model: Any, X: Any, y: Any, *, caller: str = "prepare_fit", **options: Any) -> FitPlan:
    """Check fit's arguments and prepare its data; returns a :class:`FitPlan` (arguments as in
    :func:`nn.fit`, the options of :class:`FitOptions`).  Raises ValueError or TypeError starting with
    ``caller`` for the first problem found: a bad argument, X/y of different lengths or the wrong width,
    labels the loss cannot take, a BatchNorm model whose batches would hold a single sample.  The model
    is not changed."""
    o = fit_options(caller, options)
    epochs = validate.integer(caller, "epochs", o.epochs, minimum=1)
    batch_size = o.batch_size
    if batch_size is not None:
        batch_size = validate.integer(caller, "batch_size", batch_size, minimum=1)
    seed = o.seed
    if seed is not None:
        seed = validate.integer(caller, "seed", seed, minimum=0)
    val_split = validate.interval(caller, "val_split", o.val_split, 0.0, 1.0, high_open=True, what="a fraction")
    loss_fn, spec = resolve_loss(caller, o.loss)
    optimizer, schedule, regularizer, early_stopping = o.optimizer, o.schedule, o.regularizer, o.early_stopping
    if not all(callable(getattr(optimizer, name, None)) for name in ("step", "zero_grad")):
        raise validate.fail(caller, "optimizer", "an nn.optim optimiser (with .step() and .lr)", optimizer, TypeError)
    if schedule is not None:
        validate.function(caller, "schedule", schedule, "a function t -> lr")
    if regularizer is not None:
        validate.function(caller, "regularizer", regularizer, "a function params -> Value")
    if isinstance(early_stopping, numbers.Integral) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=int(early_stopping))
    elif early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise validate.fail(caller, "early_stopping", "an EarlyStopping or a patience (int)", early_stopping,
                            TypeError)
    hooks = [_hook(caller, cb) for cb in o.callbacks]

    Xa = as_samples(caller, "X", X)
    ya = as_targets(caller, "y", y, len(Xa), "X")
    modules = modules_of(model)
    # Only a model of nn's own layers is remembered: a custom module may change with no attribute changing
    structure = fingerprint(modules) if of_nn_layers(modules) else None
    task, y0, known = _probe(caller, model, Xa, ya, loss_fn, spec, structure)
    params = _parameters(model, known)
    check_optimizer_params(caller, model, params, optimizer, loss_fn, regularizer, Xa, y0)
    rng = np.random.default_rng(seed)
    Xa, ya, Xv, yv = _hold_out(caller, model, Xa, ya, o.val_data, val_split, rng, spec, task.n_out)
    if early_stopping is not None and Xv is None:
        raise ValueError(
            f"{caller}: early_stopping watches the validation loss: give val_data=(X_val, y_val) or val_split > 0"
        )
    metric_fns = resolve_metrics(caller, o.metrics, task)
    n = len(Xa)
    size = n if batch_size is None else min(batch_size, n)
    check_batchnorm_batches(caller, modules, n, size, batch_size)
    return FitPlan(
        model=model, params=model.parameters() if params is None else params,
        loss=loss_fn, spec=spec, optimizer=optimizer, epochs=epochs,
        batch_size=batch_size, size=size, schedule=schedule, regularizer=regularizer,
        early_stopping=early_stopping, metrics=metric_fns, progress=o.progress, callbacks=hooks, compile=o.compile,
        task=task, X=Xa, ys=task.targets(ya), y=ya, X_val=Xv, ys_val=task.targets(yv) if yv is not None else None,
        rng=rng, modules=modules, structure=structure,
    )


def _probe(caller: str, model: Any, Xa: np.ndarray, ya: np.ndarray, loss_fn: Callable, spec: LossSpec | None,
           structure: tuple | None) -> tuple[Task, Any, Probed | None]:
    """(the task, sample 0's target, what is remembered): one eager forward pass of sample 0 checks the
    width and counts the outputs, and the loss runs on that output with sample 0's target.  A second fit
    on an unchanged model of nn layers (same structure, width, loss and first target) skips both: the
    earlier probe answered them."""
    width = Xa.shape[1]
    known = probed(model, structure, width)
    out0 = None
    if known is None:
        out0 = model_output(caller, model, Xa)
        known = Probed(structure or (), width, n_outputs(out0))
    task = Task(caller, spec, ya, known.n_out)
    y0 = task.targets(ya[:1])[0]
    if not known.took(loss_fn, y0):
        probe_loss(caller, loss_fn, spec, model_output(caller, model, Xa) if out0 is None else out0, y0)
        known.ran(loss_fn, y0)
    if structure is None:
        return task, y0, None
    remember_probe(model, known)
    return task, y0, known


def _parameters(model: Any, known: Probed | None) -> list[Value] | None:
    """``model.parameters()``; for an nn Module whose structure is unchanged since the last fit, the list
    found then (Module.parameters reads only the attributes the fingerprint covers)."""
    if not callable(getattr(model, "parameters", None)):
        return None
    plain = isinstance(model, Module) and type(model).parameters is Module.parameters
    if plain and known is not None and known.params is not None:
        return list(known.params)
    params: list[Value] = model.parameters()
    if plain and known is not None:
        known.params = list(params)
    return params


def _hook(caller: str, cb: Any) -> Hook:
    """A callback as a function ``cb(epoch, logs)`` (objects with ``on_epoch_end`` too)."""
    hook = cb if callable(cb) else getattr(cb, "on_epoch_end", None)
    if callable(hook):
        return cast(Hook, hook)
    raise validate.fail(caller, "each callback", "a function cb(epoch, logs)", cb, TypeError)


def _hold_out(
    caller: str, model: Any, Xa: np.ndarray, ya: np.ndarray, val_data: Any, val_split: float,
    rng: np.random.Generator, spec: LossSpec | None, n_out: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(X, y, X_val, y_val): val_data checked like X and y, or the last ``val_split`` of a shuffle."""
    if val_data is not None:
        if val_split:
            raise ValueError(f"{caller}: give either val_data or val_split, not both")
        if not isinstance(val_data, (tuple, list)) or len(val_data) != 2:
            raise validate.fail(caller, "val_data", "a pair (X_val, y_val)", val_data)
        Xv = as_samples(caller, "val_data X", val_data[0])
        yv = as_targets(caller, "val_data y", val_data[1], len(Xv), "val_data X")
        check_width(caller, Xv, Xa.shape[1], "val_data X")
        Task(f"{caller} (val_data)", spec, yv, n_out)
        return Xa, ya, Xv, yv
    if not val_split:
        return Xa, ya, None, None
    n_val = int(round(val_split * len(Xa)))
    if n_val < 1 or n_val >= len(Xa):
        raise ValueError(
            f"{caller}: val_split={val_split} of {len(Xa)} samples leaves no validation or no training data"
        )
    order = rng.permutation(len(Xa))
    return Xa[order[:-n_val]], ya[order[:-n_val]], Xa[order[-n_val:]], ya[order[-n_val:]]
