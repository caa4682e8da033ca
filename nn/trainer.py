"""What runs fit's batches: the :class:`Trainer` protocol and its eager implementation.

``nn.fit`` asks for one trainer per run and only talks to it through :class:`Trainer`.  Two
implement it, side by side: :class:`EagerTrainer` (here: a graph per batch on the Values, through
:func:`nn.step.train_step`) and :class:`nn.flat.FlatTrainer` (``compile``: the traced tape replayed
over flat numpy arrays).  fit picks the flat one when ``compile`` allows and the model can
(:func:`nn.compiled.flat_trainer`), else the eager one.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, Sequence

from autograd import Value

from .step import train_step

__all__ = ["Trainer", "EagerTrainer"]


class Trainer(Protocol):
    """One training run over fit's plan (:class:`nn.prepare.FitPlan`)."""

    def step(self, idx: Any) -> float:
        """One optimiser step on the samples ``idx``; the batch's objective (mean loss + penalty).
        All or nothing: on an error the parameters are as before."""

    def outputs(self) -> Sequence[Any]:
        """This epoch's outputs, one per training sample (a list, or an array with a row per sample)."""

    def rows(self) -> list:
        """This epoch's outputs as the model gives them (a float, or a list, per sample)."""

    def predict(self, X: Any) -> list | None:
        """The validation outputs for ``X``, or None for fit to run the model itself."""

    def sync(self) -> None:
        """Bring the Values (and the optimiser's state) up to date: user code is about to look."""

    def reload(self) -> None:
        """Read the Values back (a callback may have changed them)."""

    def close(self) -> None:
        """The run is over: free what is not kept for the next one."""


class EagerTrainer:
    """A graph per batch on the Values themselves (:func:`nn.step.train_step`); a failure leaves no
    trace: the parameters and the running statistics (the forward pass of a BatchNorm model moves
    them) are restored on any error."""

    def __init__(self, plan: Any) -> None:
        named = getattr(plan.model, "named_buffers", None)
        self.buffers = [(values, i) for _, values, i in named()] if callable(named) else []
        self.plan = plan
        self.outs: list = [None] * plan.n
        # Values the optimiser steps besides the model's (a trainable scale in the loss): restored too
        own = {id(p) for p in plan.params}
        held = getattr(plan.optimizer, "params", None)
        self.extra = [p for p in held if isinstance(p, Value) and id(p) not in own] if isinstance(held, list) else []

    def step(self, idx: Any) -> float:
        plan = self.plan
        params, buffers = plan.params + self.extra, self.buffers
        saved = [p.data for p in params]
        saved_buffers = [values[i] for values, i in buffers]
        try:
            result = train_step(plan.model, plan.loss, plan.optimizer, [plan.xs[i] for i in idx],
                                [plan.ys[i] for i in idx], params=plan.params, regularizer=plan.regularizer)
            if not all(math.isfinite(p.data) for p in params):
                raise FloatingPointError("a parameter became non-finite after the step")
            if not all(math.isfinite(values[i]) for values, i in buffers):
                raise FloatingPointError("a running statistic (BatchNorm) became non-finite")
        except (ArithmeticError, ValueError):
            for p, v in zip(params, saved):
                p.data = v
                p.grad = 0.0
            for (values, i), v in zip(buffers, saved_buffers):
                values[i] = v
            raise
        for i, o in zip(idx, result.outputs):
            self.outs[i] = o
        return result.objective

    def outputs(self) -> list:
        return self.outs

    def rows(self) -> list:
        return self.outs

    def predict(self, X: Any) -> None:
        """None: the validation outputs come from the model itself (``predict_lists``)."""
        return None

    def sync(self) -> None:
        """Nothing to do: eager training works on the Values themselves."""

    def reload(self) -> None:
        """Nothing to do: eager training works on the Values themselves."""

    def close(self) -> None:
        """Nothing to do: eager training keeps no arrays."""
