"""What fit and evaluate check before they start: shapes, widths, labels against the loss, seeds, batches."""

from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import numpy as np

from autograd import no_grad

from . import losses as _losses
from .outputs import _forward_batch, _predict_lists

__all__ = []


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


def _values_preview(y: np.ndarray) -> str:
    if y.ndim == 2:
        return f"one-hot rows of width {y.shape[1]}" if set(np.unique(y).tolist()) <= {0.0, 1.0} else "rows of numbers"
    values = np.unique(y)
    shown = ", ".join(f"{v:g}" for v in values[:6])
    return "{" + shown + (", ..." if len(values) > 6 else "") + "}"
