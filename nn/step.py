"""One training step on one batch: forward, loss, backward, optimiser (no numpy needed).

:func:`train_step` is the step fit's eager trainer (:class:`nn.train.EagerTrainer`), the notebooks
and the browser playground (which runs without numpy) all take; :func:`loss_and_grads` is its first
half, the gradients without the update.

>>> import nn
>>> model = nn.MLP(2, [4, 1], seed=0)
>>> opt = nn.optim.SGD(model.parameters(), lr=0.1)
>>> result = nn.train_step(model, nn.hinge, opt, [[0.5, -0.2], [1.0, 1.0]], [1.0, -1.0])
>>> result.objective == result.loss   # no regularizer: the objective is the mean loss
True

``tapes=SampleTapes(model, loss)`` replays each sample's loss traced once per distinct target
(:func:`autograd.trace`, straight-line Python over the op table's rules, no graph built) instead
of building a graph per batch: the same gradients to rounding, for a model and loss without Python
branches on the numbers.  (``nn.fit(compile=True)`` goes further: :mod:`nn.flat`, with numpy.)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from autograd import Value, trace

from . import losses

__all__ = ["train_step", "loss_and_grads", "StepResult", "SampleTapes"]


class StepResult(NamedTuple):
    """What one step computed, before the optimiser's update."""

    loss: float  # the batch's mean loss
    objective: float  # the mean loss plus the penalty: what the gradients are of
    outputs: list  # per sample: the model's output as a float, or a list of floats (eager only, else [])


class SampleTapes:
    """One sample's loss ``loss(model(x), y)`` traced once per distinct target ``y`` and replayed."""

    def __init__(self, model: Callable[[list], Any], loss: Callable) -> None:
        self.model, self.loss = model, loss
        self.tapes: dict[Any, Any] = {}

    def tape(self, x: Sequence[float], y: Any) -> Any:
        """The tape of ``y``'s loss (traced at ``x`` the first time ``y`` is seen)."""
        key = tuple(y) if isinstance(y, (list, tuple)) else y
        found = self.tapes.get(key)
        if found is None:
            model, loss = self.model, self.loss
            found = self.tapes[key] = trace(lambda *inputs: loss(model(list(inputs)), y), *x)
        return found

    def value(self, x: Sequence[float], y: Any) -> float:
        """The sample's loss, forward only."""
        return float(self.tape(x, y)(*x))

    def value_and_grad(self, x: Sequence[float], y: Any) -> float:
        """The sample's loss; its gradient is added to every parameter's ``.grad``."""
        return float(self.tape(x, y).value_and_grad(*x)[0])


def loss_and_grads(
    model: Callable[[Any], Any], loss: Callable, xs: Sequence[Any], ys: Sequence[Any], *,
    params: Sequence[Value], regularizer: Callable[[list[Value]], Any] | None = None,
    tapes: SampleTapes | None = None, zero: Sequence[Value] = (), caller: str = "loss_and_grads",
) -> StepResult:
    """Forward the batch, the mean loss plus ``regularizer(params)``, backward.

    Afterwards every Value of ``params`` and ``zero`` (e.g. the optimiser's other Values) holds in
    ``.grad`` d(objective)/d(it) for this batch alone.  ``model`` is any callable sample -> output
    (a Module, or a function of it); ``tapes`` must have been made with the same ``loss``.
    """
    if tapes is not None and tapes.loss != loss:
        raise ValueError(f"{caller}: tapes were traced with another loss ({tapes.loss!r:.60}, not {loss!r:.60})")
    for p in (*params, *zero):
        p.grad = 0.0
    if tapes is not None:
        scale = 1.0 / len(xs)
        value = sum(tapes.value_and_grad(x, y) for x, y in zip(xs, ys)) * scale
        for p in (*params, *zero):
            p.grad *= scale
        outputs: list = []
        objective = value
    else:
        predictions = forward_batch(model, xs)
        graph = losses.mean_loss(loss, predictions, ys)
        value = objective = graph.data
        outputs = [to_floats(o) for o in predictions]
    if regularizer is not None:
        term = penalty(caller, regularizer, list(params))
        if tapes is None:
            graph = graph + term
            objective = graph.data
        else:
            term.backward()
            objective = value + term.data
    if tapes is None:
        graph.backward()
    return StepResult(value, objective, outputs)


def train_step(
    model: Callable[[Any], Any], loss: Callable, optimizer: Any, xs: Sequence[Any], ys: Sequence[Any], *,
    params: Sequence[Value] | None = None, regularizer: Callable[[list[Value]], Any] | None = None,
    tapes: SampleTapes | None = None,
) -> StepResult:
    """One optimiser step on the batch (xs, ys): :func:`loss_and_grads`, then ``optimizer.step()``.

    ``params``: what the regularizer penalises (default: the model's ``parameters()``); every Value
    the optimiser holds gets its gradient reset too.  A non-finite objective raises FloatingPointError
    before the update (the optimiser itself refuses non-finite gradients), so nothing is stepped.
    """
    if params is None:
        params = model.parameters()  # type: ignore[attr-defined]
    own = {id(p) for p in params}
    held = getattr(optimizer, "params", [])
    extra = [p for p in held if isinstance(p, Value) and id(p) not in own] if isinstance(held, list) else []
    result = loss_and_grads(model, loss, xs, ys, params=params, regularizer=regularizer, tapes=tapes, zero=extra,
                            caller="train_step")
    if not math.isfinite(result.objective):
        raise FloatingPointError(f"the loss is {result.objective}")
    optimizer.step()
    return result


def forward_batch(model: Any, xs: Sequence[Any]) -> list:
    """The model's outputs (Values) for a batch: its ``forward_batch`` when it has one."""
    batch = getattr(model, "forward_batch", None)
    return batch(xs) if batch is not None else [model(x) for x in xs]


def penalty(caller: str, regularizer: Callable, params: list[Value]) -> Value:
    """``regularizer(params)``, checked to be a Value (a number becomes a constant Value)."""
    result = regularizer(params)
    if not isinstance(result, (Value, numbers.Real)):
        raise TypeError(f"{caller}: the regularizer must return a Value, got {type(result).__name__}")
    return result if isinstance(result, Value) else Value(float(result))


def to_floats(o: Any) -> Any:
    """One output as a float, or a list of floats for several outputs."""
    if isinstance(o, Value):
        return o.data
    if isinstance(o, (list, tuple)):
        return [v.data if isinstance(v, Value) else float(v) for v in o]
    return float(o)
