"""What fit and evaluate check about the data: shapes, widths, numbers, labels against the loss, batches."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

from autograd import Value, no_grad
from autograd.internal import reachable

from . import losses, validate
from .outputs import eval_mode
from .step import forward_batch, penalty, to_floats

__all__: list[str] = []  # shared within nn (fit, prepare_fit, evaluate); not part of nn's namespace


class Task:
    """What the labels are and how to score outputs against them, checked against the loss's
    declaration (``nn.losses.REGISTRY``): its label form and how its output is read."""

    def __init__(self, caller: str, spec: losses.LossSpec | None, y: np.ndarray, n_out: int) -> None:
        from .datasets import label_kind

        distinct = np.unique(y)
        self.labels = (y, distinct)  # the labels given and their distinct values (compiled fit sorts them once)
        values = set(distinct.tolist())
        self.kind = label_kind(y, distinct=values)
        self.n_out = n_out
        want = spec.labels if spec is not None and spec.labels != "real" else None
        name = spec.name if spec is not None else ""
        if want in ("sign", "01") and y.ndim == 2:
            # A binary loss on several outputs sums over them: one label per output, per sample.
            ok = values <= {-1.0, 1.0} if want == "sign" else bool(((y >= 0) & (y <= 1)).all())
            form = "-1/+1" if want == "sign" else "0/1 (or probabilities in [0, 1])"
            fix = f"; convert with nn.datasets.to_labels(y, '{want}')" if self.kind == "onehot" and n_out == 1 else ""
            if not ok or y.shape[1] != n_out:
                raise ValueError(
                    f"{caller}: loss '{name}' expects labels {form}, one per model output "
                    f"({n_out}), but y holds rows of width {y.shape[1]} with values like {sorted(values)[:4]}{fix}"
                )
        elif want == "sign":
            if not values <= {-1.0, 1.0}:  # {1} alone is also "01": either form accepts it
                fix = "nn.datasets.to_labels(y, 'sign')" if self.kind in ("01", "index", "onehot") else "labels -1/+1"
                raise ValueError(
                    f"{caller}: loss '{name}' expects labels -1/+1, but y holds {values_preview(y)}; convert with {fix}"
                )
            self.kind = "sign"
        elif want == "01":
            if values <= {-1.0, 1.0} and -1.0 in values:
                raise ValueError(
                    f"{caller}: loss '{name}' expects labels 0/1 (or probabilities in [0, 1]), but y holds "
                    f"{values_preview(y)}; convert with nn.datasets.to_labels(y, '01')"
                )
            if not ((y >= 0) & (y <= 1)).all():
                raise ValueError(
                    f"{caller}: loss '{name}' expects labels 0/1 or probabilities in [0, 1], got {values_preview(y)}"
                )
        if want == "index":
            if self.kind not in ("01", "index"):
                fix = (
                    "; convert with nn.datasets.to_labels(y, 'index')"
                    if self.kind in ("sign", "onehot")
                    else ""
                )
                raise ValueError(
                    f"{caller}: loss '{name}' expects class indices 0..{n_out - 1} (one per model output), "
                    f"but y holds {values_preview(y)}{fix}"
                )
            top = int(np.max(y))
            if top >= n_out:
                raise ValueError(
                    f"{caller}: loss '{name}' expects class indices 0..{n_out - 1} (the model has {n_out} "
                    f"output{'s' if n_out != 1 else ''}), but y has class {top}"
                )
        # One output is a score or a logit, positive for class 1 (as predict_classes), unless it
        # estimates the target itself (a squared or absolute error on 0/1, e.g. XOR): then 0.5 splits them.
        self.threshold = 0.0
        if spec is not None and spec.output == "value" and self.kind == "01" and n_out == 1:
            self.threshold = 0.5
        self.want = want
        self._given: dict[int, tuple[list, np.ndarray]] = {}  # id -> (a list targets() made, its array)
        self._classes: dict[int, tuple[list, np.ndarray]] = {}  # id -> (targets, their classes): accuracy's

    @property
    def classification(self) -> bool:
        return self.kind in ("01", "sign", "index", "onehot")

    def targets(self, y: np.ndarray) -> list:
        if self.want == "index" or (self.want is None and self.kind == "index" and self.n_out > 1):
            values: list = y.reshape(-1).astype(np.int64).tolist()  # Python ints, as int(v) gives
        else:
            values = y.tolist()
        self._given[id(values)] = (values, y)  # the array it came from: accuracy reads that, not the list
        return values

    def accuracy(self, outputs: list | np.ndarray, targets: list) -> float:
        """The fraction of outputs whose class is the target's; ``outputs`` may be an array (n, n_out)."""
        if isinstance(outputs, np.ndarray):
            same = np.count_nonzero(self._predicted_array(outputs) == self._true_array(targets))
            return int(same) / len(outputs)
        hits = 0
        for o, t in zip(outputs, targets):
            hits += self._predicted(o) == self._true(t)
        return hits / len(outputs)

    def _predicted_array(self, o: np.ndarray) -> np.ndarray:
        # (one output: a bool per sample, which compares with the classes 0 and 1 as they are)
        return o.argmax(axis=1) if o.shape[1] > 1 else o[:, 0] > self.threshold

    def _true_array(self, targets: list) -> np.ndarray:
        cached = self._classes.get(id(targets))
        if cached is not None and cached[0] is targets:  # the same training (or validation) targets every epoch
            return cached[1]
        given = self._given.get(id(targets))
        t = np.asarray(given[1] if given is not None and given[0] is targets else targets, dtype=float)
        if t.ndim == 2 and t.shape[1] > 1:
            true = t.argmax(axis=1)
        else:
            t = t.reshape(-1)
            true = (t > 0) if self.kind == "sign" else (t > 0.5) if self.kind == "01" and self.n_out == 1 else t
            true = true.astype(int)
        self._classes[id(targets)] = (targets, true)
        return true

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


def resolve_loss(caller: str, loss: Any) -> tuple[Callable, losses.LossSpec | None]:
    """The loss function and its declaration (None for a custom function)."""
    if isinstance(loss, str):
        found = losses.spec(loss, caller)
        assert found is not None
        return found.fn, found
    if callable(loss):
        return loss, losses.spec(loss)
    raise validate.fail(caller, "loss", "a loss name or a function loss(prediction, target)", loss, TypeError)


def resolve_metrics(caller: str, metrics: Any, task: Task) -> list[tuple[str, Callable]]:
    """(name, metric(outputs, targets)) pairs; "accuracy" only where the labels are classes."""
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
            raise ValueError(
                f"{caller}: no metric named {validate.show(m)}; use 'accuracy' or a function metric(outputs, targets)"
            )
    return out


def _numbers(caller: str, name: str, data: Any, what: str) -> np.ndarray:
    """``data`` as a float array; text and complex numbers are refused, never parsed or truncated."""
    if data is None or isinstance(data, (str, bytes, numbers.Number)) or not hasattr(data, "__iter__"):
        raise validate.fail(caller, name, what, data, TypeError)
    a = data if isinstance(data, np.ndarray) else np.asarray(data)
    if a.dtype.kind in "USaV":
        raise ValueError(f"{caller}: {name} must be numbers, got text (dtype {a.dtype}) such as "
                         f"{validate.show(a.reshape(-1)[0].item()) if a.size else '[]'}")
    if a.dtype.kind == "c" or (a.dtype == object and any(isinstance(v, complex) for v in a.reshape(-1))):
        raise ValueError(f"{caller}: {name} must be real numbers, got complex values; pass {name}.real or "
                         f"abs({name}) if that is what you mean")
    try:
        return a.astype(float, copy=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{caller}: {name} must be numbers ({what}): {error}") from None


def as_samples(caller: str, name: str, X: Any) -> np.ndarray:
    """X as a finite 2-D float array (a single feature per sample becomes a column)."""
    what = "samples x features (a 2-D array or a list of samples)"
    listed = not isinstance(X, np.ndarray) or X.dtype == object
    if listed and hasattr(X, "__iter__") and not isinstance(X, (str, bytes)):
        rows = list(X)
        widths = {len(r) if hasattr(r, "__len__") else 1 for r in rows}
        if len(widths) > 1:
            first = len(rows[0]) if hasattr(rows[0], "__len__") else 1
            bad = next(i for i, r in enumerate(rows) if (len(r) if hasattr(r, "__len__") else 1) != first)
            raise ValueError(
                f"{caller}: {name} has samples of different widths: sample 0 has {first} values, sample {bad} has "
                f"{len(rows[bad]) if hasattr(rows[bad], '__len__') else 1}"
            )
        X = rows
    a = _numbers(caller, name, X, what)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{caller}: {name} must be 2-D (samples x features), got shape {a.shape}")
    if len(a) == 0:
        raise ValueError(f"{caller}: {name} is empty (no samples)")
    if all_finite(a):  # the usual case; which sample is bad only when one is
        return a
    bad_rows = np.flatnonzero(~np.isfinite(a).all(axis=1))
    if bad_rows.size:
        raise ValueError(f"{caller}: {name} has a NaN or infinite value in sample {int(bad_rows[0])}: "
                         f"{validate.show(a[bad_rows[0]].tolist())}")
    return a


def all_finite(a: np.ndarray) -> bool:
    """Whether every number of the float array ``a`` is finite, in one pass that makes no array (a data set
    of 60,000 images is checked in each fit call): their sum is finite when they all are, as a NaN or an
    infinity carries through a sum; when it is not (a non-finite number, or finite ones overflowing the
    sum), ``np.isfinite`` decides."""
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(np.add.reduce(a, axis=None)):
            return True
    return bool(np.isfinite(a).all())


def as_targets(caller: str, name: str, y: Any, n: int, x_name: str) -> np.ndarray:
    """y as a finite float array of ``n`` labels or targets (a column becomes 1-D)."""
    if y is not None and isinstance(y, numbers.Number) and not isinstance(y, bool):
        raise ValueError(f"{caller}: {name} must hold one label per sample, got a single number")
    a = _numbers(caller, name, y, "one label or target per sample")
    if a.ndim == 0:
        raise ValueError(f"{caller}: {name} must hold one label per sample, got a single number")
    if len(a) != n:
        raise ValueError(
            f"{caller}: {x_name} has {n} samples but {name} has {len(a)} labels; they must have the same length"
        )
    if not all_finite(a):
        i = int(np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))[0])
        raise ValueError(f"{caller}: {name} has a NaN or infinite value at sample {i}")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a.reshape(-1)
    return a


def input_width(model: Any) -> int | None:
    """The number of inputs a model declares (``nin``...), or None when it does not say."""
    for attr in ("nin", "in_features", "n_inputs"):
        w = getattr(model, attr, None)
        if isinstance(w, int):
            return w
    layers = getattr(model, "layers", None)
    if isinstance(layers, (list, tuple)) and layers:
        return input_width(layers[0])
    return None


def check_width(caller: str, X: np.ndarray, width: int, name: str) -> None:
    """Validation samples must have the training samples' width."""
    if X.shape[1] != width:
        raise ValueError(f"{caller}: {name} has samples of width {X.shape[1]} but the training X has width {width}")


def check_model_input(caller: str, model: Any, X: np.ndarray) -> int:
    """Check the sample width against the model and return its number of outputs."""
    return n_outputs(model_output(caller, model, X))


def model_output(caller: str, model: Any, X: np.ndarray) -> Any:
    """The model's output for sample 0 (eval mode, no graph), after checking the sample width against
    the model: a ValueError naming the width when it cannot take the sample.  fit runs this one probe
    for the width, the number of outputs and the loss check (:func:`probe_loss`)."""
    width = X.shape[1]
    expected = input_width(model)
    if expected is not None and expected != width:
        raise ValueError(
            f"{caller}: samples have {width} feature{'s' if width != 1 else ''} but the model expects {expected} "
            f"input{'s' if expected != 1 else ''} ({type(model).__name__}); X must have shape (n, {expected})"
        )
    try:
        with eval_mode(model), no_grad():
            out = forward_batch(model, X[:1].tolist())[0]
        to_floats(out)  # numbers, or a list of them: anything else is reported here, with the width
        return out
    except (ValueError, TypeError, IndexError) as error:
        raise ValueError(
            f"{caller}: the model cannot take a sample of width {width} (X has shape {X.shape}): {error}"
        ) from error


def n_outputs(out: Any) -> int:
    """How many numbers one output holds: a list or tuple of them, or one."""
    return len(out) if isinstance(out, (list, tuple)) else 1


def numeric_failure(error: Exception) -> bool:
    """An overflow, a NaN/inf or a domain error (log of a negative...): the numbers blew up."""
    if isinstance(error, ArithmeticError):
        return True
    text = str(error).lower()
    return any(word in text for word in ("nan", "inf", "finite", "overflow", "domain"))


def probe_loss(caller: str, loss_fn: Callable, spec: losses.LossSpec | None, out0: Any, y0: Any) -> None:
    """Run the loss on sample 0's output (:func:`model_output`) so a loss/target mismatch is reported as
    such, not as divergence."""
    try:
        with no_grad():
            loss_fn(out0, y0)
    except (TypeError, ValueError, IndexError) as error:
        name = f"'{spec.name}'" if spec is not None else getattr(loss_fn, "__name__", "the loss")
        raise ValueError(
            f"{caller}: loss {name} cannot take the model's output with target {y0!r}: {error}"
        ) from error


def check_optimizer_params(caller: str, model: Any, params: list[Value] | None, optimizer: Any, loss_fn: Callable,
                           regularizer: Callable | None, X: np.ndarray, y0: Any) -> None:
    """An optimiser made for another model would step Values nothing depends on, and fit would run with a
    constant loss: refuse it when none of its Values is the model's and the objective on sample 0 reaches
    none of them (a Value the loss or the regulariser uses is trained legitimately)."""
    held = getattr(optimizer, "params", None)
    if not isinstance(held, list) or not held or not isinstance(params, list) or held == params:
        return  # (== compares the lists item by item by identity, at C speed: the usual case)
    own = set(map(id, params))
    if any(id(p) in own for p in held):
        return
    with eval_mode(model):  # as model_output: one sample
        roots = [loss_fn(forward_batch(model, X[:1].tolist())[0], y0)]
        if regularizer is not None:
            roots.append(penalty(caller, regularizer, params))
    seen = {id(v) for v in reachable([r for r in roots if isinstance(r, Value)])}
    if not any(id(p) in seen for p in held):
        raise ValueError(
            f"{caller}: none of the optimizer's parameters ({len(held)} Values) belong to the model "
            f"({len(params)} parameters): was the optimizer made for another model?"
        )


def check_batchnorm_batches(caller: str, modules: list, n: int, size: int, batch_size: int | None) -> None:
    """BatchNorm in training needs every batch to hold 2+ samples (``modules``: the model's): say so before
    the first epoch."""
    from .layers import BatchNorm

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
        f"{caller}: BatchNorm: training needs a batch of at least 2 samples, but {why}; choose a batch_size "
        f"with n % batch_size != 1 (n = {n} training samples)"
    )


def values_preview(y: np.ndarray) -> str:
    """A short description of the labels in y: ``{-1, 1}``, ``one-hot rows of width 3``..."""
    if y.ndim == 2:
        return f"one-hot rows of width {y.shape[1]}" if set(np.unique(y).tolist()) <= {0.0, 1.0} else "rows of numbers"
    values = np.unique(y)
    shown = ", ".join(f"{v:g}" for v in values[:6])
    return "{" + shown + (", ..." if len(values) > 6 else "") + "}"
