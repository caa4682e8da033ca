"""Using a trained model: outputs for many samples (batched through the tape when possible), classes, metrics."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import validate
from .checks import Task, as_samples, as_targets, check_model_input, resolve_loss, resolve_metrics
from .outputs import eval_loss, predict_lists

__all__ = ["evaluate", "predict", "predict_classes"]


# --- evaluation -------------------------------------------------------------------------------------
def predict(model: Any, X: Any) -> np.ndarray:
    """The model's raw outputs for every row of X, without building graphs (eval mode).

    Shape (n,) for a model with one output, (n, k) for k outputs.
    """
    return _predict("predict", model, X)


def _predict(caller: str, model: Any, X: Any) -> np.ndarray:
    Xa = as_samples(caller, "X", X)
    check_model_input(caller, model, Xa)
    return np.array(predict_lists(model, Xa), dtype=float)


def predict_classes(model: Any, X: Any, threshold: float = 0.0) -> np.ndarray:
    """Class indices: argmax for several outputs, ``output > threshold`` for one (0 for scores and
    logits; use 0.5 for a model trained on 0/1 with a squared loss)."""
    threshold = validate.real("predict_classes", "threshold", threshold)
    out = _predict("predict_classes", model, X)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.asarray(out.argmax(axis=1))
    return (out.reshape(-1) > threshold).astype(np.int64)


def evaluate(
    model: Any, X: Any, y: Any, loss: str | Callable | None = None, metrics: Sequence[str | Callable] = ("accuracy",)
) -> dict[str, float]:
    """``{"loss": ..., "accuracy": ...}`` on (X, y) without training (the loss only if given)."""
    Xa = as_samples("evaluate", "X", X)
    ya = as_targets("evaluate", "y", y, len(Xa), "X")
    n_out = check_model_input("evaluate", model, Xa)
    loss_fn, spec = resolve_loss("evaluate", loss) if loss is not None else (None, None)
    task = Task("evaluate", spec, ya, n_out)
    metric_fns = resolve_metrics("evaluate", metrics, task)
    outs = predict_lists(model, Xa)
    ys = task.targets(ya)
    result = {}
    if loss_fn is not None:
        result["loss"] = eval_loss("evaluate", loss_fn, None, [], outs, ys)
    for name, fn in metric_fns:
        result[name] = fn(outs, ys)
    return result


