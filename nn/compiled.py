"""``fit(compile=True)``: the training step through autograd's tape compiler.

The eager step builds a graph per batch; the compiled step traces one sample's loss once per
distinct target and replays forward and backward over the whole batch with numpy
(:class:`autograd.tape.CompiledLoss`).  Dropout in training mode takes its mask from tape inputs
(``Dropout.masks_from``) that are drawn afresh for every batch, from the layer's own generator in
the eager order (layer by layer, sample by sample), so compiled and eager training draw the same
masks.  The eager step is passed in (fit's), never imported back from nn.train.  BatchNorm in training
mode needs the statistics of the whole batch, which a per-sample tape cannot see: such models
train eagerly, with a warning when ``compile=True`` was asked for explicitly.

``compile=None`` (fit's default) compiles only what is known to give the eager numbers: nn's own
losses (pure Value arithmetic, no branch on the prediction), models made of ``nn.layers``, and at
most :data:`MAX_TAPES` distinct targets.  A custom loss may branch on ``prediction.data``, which a
tape would freeze at trace time, so it trains eagerly unless ``compile=True`` says otherwise.
"""

from __future__ import annotations

import contextlib
import functools
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


@contextlib.contextmanager
def _dropout_masks(model: Any, source: Callable[[Dropout, int], Sequence[Any]]) -> Iterator[None]:
    """Within the block, every Dropout of the model takes its mask from ``source(dropout, width)``."""
    with contextlib.ExitStack() as stack:
        for d in model.modules():
            if isinstance(d, Dropout):
                stack.enter_context(d.masks_from(functools.partial(source, d)))
        yield


def compiled_step(
    model: Any,
    loss: Callable,
    regularizer: Callable | None,
    params: list[Value],
    eager: Callable[[list, list], tuple[float, list]],
    explicit: bool = True,
    targets: Sequence[Any] | None = None,
) -> Callable | None:
    """``step(xs, ys) -> (objective, outputs)`` through tapes, or None when the model cannot (warned if explicit).

    ``eager`` is the graph-per-batch step (fit's), used for a batch the tapes cannot replay.
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

    widths: list[tuple[Dropout, int]] = []  # (dropout, inputs) in call order

    def probe(d: Dropout, n: int) -> list[float]:
        widths.append((d, n))
        return [1.0] * n

    with no_grad(), _dropout_masks(model, probe):
        model([0.0] * nin)
    n_noise = sum(n for _, n in widths)

    def sample_fn(x: list, y: Any, noise: list) -> tuple:
        feed = iter(noise)  # the tape's mask inputs, in the order the dropouts ask for them
        with _dropout_masks(model, lambda d, n: [next(feed) for _ in range(n)]):
            out = model(x)
        return loss(out, y), out

    def draw(B: int) -> list:
        rows: list = []
        for d, n in widths:
            # The eager loop draws layer by layer, then sample by sample: the same numbers here.
            cols = [d.draw(n) for _ in range(B)]
            rows.extend(map(list, zip(*cols)))
        return rows

    penalty = (lambda: regularizer(params)) if regularizer is not None else None
    return CompiledLoss(sample_fn, params, nin, penalty=penalty, n_noise=n_noise,
                        draw_noise=draw if n_noise else None, max_tapes=MAX_TAPES, fallback=eager)
