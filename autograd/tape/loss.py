"""A training objective through tapes: mean over a batch of a per-sample loss, plus a penalty.

:class:`CompiledLoss` is what ``nn.fit(compile=True)`` calls once per batch.  The per-sample loss
is traced once per distinct target (losses check and index their targets in Python, so a target
is a constant of the tape, like a branch taken at trace time) and replayed over all the samples
with that target in one batch call; random inputs such as dropout masks are extra tape inputs,
drawn afresh for every batch.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..value import Value
from .tape import Tape, trace

__all__ = ["CompiledLoss", "compile_loss"]


class CompiledLoss:
    """``step(xs, ys) -> (objective, outputs)``: objective = mean_b loss_b + penalty, gradients in ``.grad``.

    - ``sample_fn(x, y, noise) -> (loss, output)``: ``x`` a list of ``n_inputs`` Values, ``y`` the
      target (a constant), ``noise`` a list of ``n_noise`` Values (random inputs), ``output`` a Value
      or a list of Values (returned per sample as floats, like the eager loop).
    - ``penalty() -> Value`` of the parameters only (e.g. L2), added once per batch.
    - ``draw_noise(B)`` returns an array (n_noise, B) of fresh random inputs for a batch.
    - ``fallback(xs, ys)``: the eager step, taken (with a warning) once the targets need more
      than ``max_tapes`` tapes; without it that raises ``ValueError``.

    After a call every parameter's ``.grad`` holds d(objective)/d(parameter) for that batch
    (reset first, as the eager step does), so any optimiser steps unchanged.
    """

    def __init__(
        self,
        sample_fn: Callable,
        params: Sequence[Value],
        n_inputs: int,
        penalty: Callable[[], Any] | None = None,
        n_noise: int = 0,
        draw_noise: Callable[[int], Any] | None = None,
        max_tapes: int = 64,
        fallback: Callable[[Sequence, Sequence], tuple[float, list]] | None = None,
    ) -> None:
        if n_noise and draw_noise is None:
            raise ValueError("CompiledLoss: n_noise > 0 needs draw_noise(B)")
        self.sample_fn, self.params, self.n_inputs = sample_fn, list(params), n_inputs
        self.n_noise, self.draw_noise, self.max_tapes = n_noise, draw_noise, max_tapes
        self.tapes: dict[Any, Tape] = {}
        self.fallback, self.eager = fallback, False
        self.penalty = None
        if penalty is not None:
            self.penalty = trace(penalty)

    def _tape(self, key: Any, y: Any, x: Sequence[float], noise: Sequence[float]) -> Tape:
        tape = self.tapes.get(key)
        if tape is None:
            if len(self.tapes) >= self.max_tapes:
                raise ValueError(
                    f"compile: more than {self.max_tapes} distinct targets (one tape each); "
                    "train this loss eagerly (compile=False)"
                )
            n, fn = self.n_inputs, self.sample_fn

            def sample(*args: Value) -> Any:
                return fn(list(args[:n]), y, list(args[n:]))

            tape = self.tapes[key] = trace(sample, *x, *noise, has_aux=True)
        return tape

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> tuple[float, list]:
        import numpy as np

        X = np.asarray(xs, dtype=float)
        B = len(X)
        if X.ndim != 2 or X.shape[1] != self.n_inputs or B == 0 or len(ys) != B:
            raise ValueError(
                f"compile: expected a non-empty batch of samples with {self.n_inputs} features and one "
                f"target each, got X of shape {X.shape} and {len(ys)} targets"
            )
        groups: dict[Any, list[int]] = {}
        for i, y in enumerate(ys):
            groups.setdefault(_key(y), []).append(i)
        if self.fallback is not None and (self.eager or len(self.tapes.keys() | groups.keys()) > self.max_tapes):
            if not self.eager:
                import warnings

                warnings.warn(f"compile: more than {self.max_tapes} distinct targets (one tape each); "
                              "training eagerly from here on", stacklevel=2)
                self.eager = True
            return self.fallback(xs, ys)
        noise = None
        if self.n_noise and self.draw_noise is not None:
            noise = np.asarray(self.draw_noise(B), dtype=float).reshape(self.n_noise, B)
        for p in self.params:
            p.grad = 0.0
        losses = np.empty(B)
        outputs: list = [None] * B
        cols = X.T
        for key, idx in groups.items():
            y = ys[idx[0]]
            tape = self._tape(key, y, X[idx[0]].tolist(), [] if noise is None else noise[:, idx[0]].tolist())
            whole = len(idx) == B
            args = list(cols if whole else cols[:, idx])
            if noise is not None:
                args += list(noise if whole else noise[:, idx])
            (loss, aux), _, _ = tape.batch_value_and_grad(*args, reduce="sum", input_grads=False)
            losses[idx] = loss
            per_sample = np.asarray(aux).T.tolist()
            for i, o in zip(idx, per_sample):
                outputs[i] = o[0] if len(o) == 1 else o
        scale = 1.0 / B  # the mean, as the eager loss multiplies its sum by 1/B
        for p in self.params:
            p.grad = p.grad * scale
        objective = float(losses.sum()) * scale
        if self.penalty is not None:
            objective += self.penalty.value_and_grad()[0]
        return objective, outputs


def compile_loss(sample_fn: Callable, params: Sequence[Value], n_inputs: int, **kwargs: Any) -> CompiledLoss:
    """A :class:`CompiledLoss` (see there); what ``nn.fit(compile=True)`` builds for each model."""
    return CompiledLoss(sample_fn, params, n_inputs, **kwargs)


def _key(y: Any) -> Any:
    if isinstance(y, (list, tuple)):
        return tuple(_key(v) for v in y)
    if hasattr(y, "tolist"):
        return _key(y.tolist())
    return y
