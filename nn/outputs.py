"""A model's outputs and loss over many samples: one graph per sample, or one tape over the batch."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from autograd import no_grad

from . import losses
from .step import forward_batch, penalty, to_floats

__all__: list[str] = []  # shared within nn (fit, evaluate, checks); not part of nn's namespace


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Within the block the model is in eval mode (dropout off, BatchNorm's running statistics, so that
    one sample works and nothing is drawn or moved); a model that was training trains again after."""
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        yield
    finally:
        if was_training:
            model.train()


def predict_lists(model: Any, xs: list | np.ndarray) -> list:
    """Outputs as floats for many samples, in eval mode, without graphs (a tape replay when possible).

    ``xs``: a list of samples, or a 2-D float array, which the replay reads as it is (60,000 images
    of 784 pixels as Python lists would take longer to build than to replay).
    """
    with eval_mode(model):
        if len(xs) >= _REPLAY_MIN and _replayable(model):
            try:
                return _replay(model, xs)
            except (ArithmeticError, ValueError, TypeError, KeyError):
                pass  # e.g. an overflow in one row: the per-sample path reports it precisely
        rows = xs.tolist() if isinstance(xs, np.ndarray) else xs
        with no_grad():
            return [to_floats(o) for o in forward_batch(model, rows)]


_REPLAY_MIN = 64


def _replayable(model: Any) -> bool:
    """True for models built only from nn.layers modules, whose graph is the same for every input."""
    modules = getattr(model, "modules", None)
    return callable(modules) and all(type(m).__module__ == "nn.layers" for m in modules())


def _replay(model: Any, xs: list | np.ndarray) -> list:
    """Evaluate many samples at once: trace one sample's graph and replay it over numpy columns."""
    from autograd import trace

    columns = np.asarray(xs, dtype=float).T
    tape = trace(lambda *inputs: model(list(inputs)), *columns[:, 0].tolist())
    out = tape.batch(*columns)
    cols = [np.asarray(c, dtype=float) for c in (out if isinstance(out, tuple) else (out,))]
    if not all(np.isfinite(c).all() for c in cols):
        raise FloatingPointError("non-finite output in the batch replay")
    rows: list = np.column_stack(cols).tolist() if isinstance(out, tuple) else cols[0].tolist()
    return rows


def eval_loss(caller: str, loss_fn: Callable, regularizer: Callable | None, params: list, outs: list,
              ys: list) -> float:
    """The mean loss (plus the penalty) of outputs already computed, as a float."""
    with no_grad():
        value = losses.mean_loss(loss_fn, outs, ys).data
        if regularizer is not None:
            value += penalty(caller, regularizer, params).data
    return value
