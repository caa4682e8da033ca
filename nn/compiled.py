"""``fit(compile=True)``: the training step through autograd's tape compiler.

The eager step builds a graph per batch; the compiled step traces one sample's loss once per
distinct target and replays forward and backward over the whole batch with numpy
(:class:`autograd.tape.CompiledLoss`).  Dropout in training mode becomes a tape input whose mask
is drawn afresh for every batch, from the layer's own generator in the eager order (layer by layer,
sample by sample), so compiled and eager training draw the same masks.  BatchNorm in training
mode needs the statistics of the whole batch, which a per-sample tape cannot see: such models
train eagerly, with a warning when ``compile=True`` was asked for explicitly.

``compile=None`` (fit's default) compiles only what is known to give the eager numbers: nn's own
losses (pure Value arithmetic, no branch on the prediction), models made of ``nn.layers``, and at
most :data:`MAX_TAPES` distinct targets.  A custom loss may branch on ``prediction.data``, which a
tape would freeze at trace time, so it trains eagerly unless ``compile=True`` says otherwise.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator, Sequence

from autograd import Value
from autograd.tape import CompiledLoss

from .layers import BatchNorm, Dropout

__all__ = ["compiled_step", "why_not_compiled", "MAX_TAPES"]

MAX_TAPES = 64  # distinct targets, one tape each; past that the compiled step trains eagerly


def why_not_compiled(
    model: Any, explicit: bool, loss: Callable | None = None, targets: Sequence[Any] | None = None
) -> str:
    """Why this model (and loss, and targets) cannot train through the tape ("" when it can).

    With ``explicit=False`` (``compile=None``) only the safe cases compile: nn's own losses, models
    of ``nn.layers`` modules, at most ``MAX_TAPES`` distinct targets.
    """
    modules = list(model.modules()) if callable(getattr(model, "modules", None)) else [model]
    if any(isinstance(m, BatchNorm) and m.training for m in modules):
        return ("BatchNorm in training mode normalises with the statistics of the whole batch, which a "
                "per-sample tape cannot see")
    if explicit:
        return ""
    if not all(type(m).__module__ == "nn.layers" for m in modules):
        return "it has modules outside nn.layers (their Python control flow could differ per sample)"
    if loss is not None and not _is_nn_loss(loss):
        return ("the loss is a custom function: traced once per target, a branch on the prediction would be "
                "frozen (pass compile=True if it has none)")
    if targets is not None and len({_target_key(y) for y in targets}) > MAX_TAPES:
        return f"more than {MAX_TAPES} distinct targets (one tape each)"
    return ""


def _is_nn_loss(loss: Callable) -> bool:
    from .losses import LOSSES

    return any(loss is fn for fn in LOSSES.values())


def _target_key(y: Any) -> Any:
    if isinstance(y, (list, tuple)):
        return tuple(_target_key(v) for v in y)
    return y.tolist() if hasattr(y, "tolist") else y


class _TapeDropout(Dropout):
    """Dropout while tracing: multiplies by mask inputs of the tape instead of drawing numbers."""

    def __call__(self, x: Any) -> list[Any]:
        if not self.training or self.p == 0.0:
            return list(x)
        masks = _FEED[-1]
        _LOG[-1].append((self, len(x)))
        return [xi * masks.pop(0) for xi in x]


_FEED: list[list] = []  # mask Values (or 1.0 while probing) for the trace in progress
_LOG: list[list] = []  # (dropout, width) in call order


@contextlib.contextmanager
def _tracing_dropouts(model: Any, feed: list) -> Iterator[list]:
    drops = [m for m in model.modules() if type(m) is Dropout]
    log: list = []
    _FEED.append(feed)
    _LOG.append(log)
    for d in drops:
        d.__class__ = _TapeDropout
    try:
        yield log
    finally:
        for d in drops:
            d.__class__ = Dropout
        _FEED.pop()
        _LOG.pop()


def compiled_step(
    model: Any,
    loss: Callable,
    regularizer: Callable | None,
    params: list[Value],
    explicit: bool = True,
    targets: Sequence[Any] | None = None,
) -> Callable | None:
    """``step(xs, ys) -> (objective, outputs)`` through tapes, or None when the model cannot (warned if explicit).

    ``explicit=False`` (fit's ``compile=None``) compiles only the safe cases (see
    :func:`why_not_compiled`), given the training ``targets``, and never warns.
    """
    reason = why_not_compiled(model, explicit, loss, targets)
    if reason:
        if explicit:
            warnings.warn(f"fit(compile=True): training eagerly because {reason}", stacklevel=3)
        return None
    nin = getattr(model, "nin", None)
    if not isinstance(nin, int):
        if explicit:
            warnings.warn("fit(compile=True): training eagerly because the model has no .nin", stacklevel=3)
        return None
    # Probe one sample to learn how many dropout mask entries a forward pass uses.
    from autograd import no_grad

    with no_grad(), _tracing_dropouts(model, _Ones()) as log:
        model([0.0] * nin)
    widths = [(d, n) for d, n in log]
    n_noise = sum(n for _, n in widths)

    def sample_fn(x: list, y: Any, noise: list) -> tuple:
        with _tracing_dropouts(model, list(noise)):
            out = model(x)
        return loss(out, y), out

    def draw(B: int) -> list:
        rows: list = []
        for d, n in widths:
            scale = 1.0 / (1.0 - d.p)
            # The eager loop draws layer by layer, then sample by sample: the same numbers here.
            cols = [[scale if d._rng.random() >= d.p else 0.0 for _ in range(n)] for _ in range(B)]
            rows.extend(map(list, zip(*cols)))
        return rows

    from .train import loss_and_grads

    penalty = (lambda: regularizer(params)) if regularizer is not None else None
    return CompiledLoss(sample_fn, params, nin, penalty=penalty, n_noise=n_noise,
                        draw_noise=draw if n_noise else None, max_tapes=MAX_TAPES,
                        fallback=lambda xs, ys: loss_and_grads(model, loss, regularizer, params, xs, ys))


class _Ones(list):
    """Endless 1.0s: the probe's dropout masks."""

    def pop(self, index: int = -1) -> float:
        return 1.0
