"""Learning-rate schedules: functions of the step (or epoch) count ``t`` returning a learning rate.

A schedule is a callable object, ``schedule(t) -> lr``, with ``t = 0, 1, 2, ...`` the number of
steps (or epochs: the caller decides the unit) completed so far.  It knows nothing about an
optimiser; any optimiser's ``lr`` attribute can be set from it:

>>> sched = InverseTime(0.1, 100)          # Krause, ETH Zürich Introduction to ML: eta_t = min(0.1, 100/t)
>>> sched(500), sched(2000)
(0.1, 0.05)

Two equivalent ways to drive an optimiser::

    for t in range(T):                     # 1. by hand, before each step
        optimizer.lr = sched(t)
        ...; loss.backward(); optimizer.step(); optimizer.zero_grad()

    scheduler = Scheduler(optimizer, sched)   # 2. PyTorch style: sets lr = sched(0) now,
    for t in range(T):
        ...; optimizer.step(); scheduler.step()   # then lr = sched(t + 1) after each step

Schedules give *absolute* learning rates (not factors of the optimiser's initial ``lr``).
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Schedule",
    "Constant",
    "InverseTime",
    "PiecewiseConstant",
    "StepDecay",
    "Exponential",
    "Cosine",
    "Linear",
    "Scheduler",
]


class Schedule:
    """Base class: ``schedule(t)`` checks ``t`` (a real number >= 0) and returns ``self.lr_at(t)``."""

    def __call__(self, t: float) -> float:
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
            raise ValueError(f"{type(self).__name__}: the step t must be a finite number >= 0, got {t!r}")
        return float(self.lr_at(t))

    def lr_at(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """lr_t = lr for every t."""

    def __init__(self, lr: float) -> None:
        self.lr = _rate(self, "lr", lr)

    def lr_at(self, t: float) -> float:
        return self.lr


class InverseTime(Schedule):
    """lr_t = min(lr0, c / t) (lr0 at t = 0); min(0.1, 100/t) (Krause, ETH Zürich) is ``InverseTime(0.1, 100)``."""

    def __init__(self, lr0: float = 0.1, c: float = 100.0) -> None:
        self.lr0 = _rate(self, "lr0", lr0)
        self.c = _rate(self, "c", c)

    def lr_at(self, t: float) -> float:
        return self.lr0 if t == 0 else min(self.lr0, self.c / t)


class PiecewiseConstant(Schedule):
    """values[0] for t < boundaries[0], values[i] for boundaries[i-1] <= t < boundaries[i], ...

    ``PiecewiseConstant([10, 20], [0.1, 0.01, 0.001])`` drops the rate tenfold at t = 10 and t = 20
    (like PyTorch's ``MultiStepLR``: the new value applies from the boundary on).
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float]) -> None:
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"PiecewiseConstant: needs one more value than boundaries, got {len(boundaries)} "
                f"boundaries and {len(values)} values"
            )
        self.boundaries = [_real(self, f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
        for i in range(1, len(self.boundaries)):
            if self.boundaries[i] <= self.boundaries[i - 1]:
                raise ValueError(
                    f"PiecewiseConstant: boundaries must increase strictly, got {self.boundaries[i - 1]!r} "
                    f"then {self.boundaries[i]!r}"
                )
        self.values = [_rate(self, f"values[{i}]", v) for i, v in enumerate(values)]

    def lr_at(self, t: float) -> float:
        return self.values[bisect.bisect_right(self.boundaries, t)]


class StepDecay(Schedule):
    """lr_t = lr0 * gamma ** floor(t / step_size) (PyTorch's ``StepLR``)."""

    def __init__(self, lr0: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr0 = _rate(self, "lr0", lr0)
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepDecay: step_size must be an int >= 1, got {step_size!r}")
        self.step_size: int = int(step_size)
        self.gamma: float = _rate(self, "gamma", gamma)

    def lr_at(self, t: float) -> float:
        return self.lr0 * float(self.gamma ** (t // self.step_size))


class Exponential(Schedule):
    """lr_t = lr0 * gamma ** t (PyTorch's ``ExponentialLR``)."""

    def __init__(self, lr0: float, gamma: float) -> None:
        self.lr0 = _rate(self, "lr0", lr0)
        self.gamma = _rate(self, "gamma", gamma)

    def lr_at(self, t: float) -> float:
        return self.lr0 * float(self.gamma ** t)


class Cosine(Schedule):
    """lr_t = lr_min + (lr0 - lr_min) (1 + cos(pi t / T)) / 2 for t <= T, then lr_min.

    The same curve as PyTorch's ``CosineAnnealingLR(T_max=T, eta_min=lr_min)`` up to T; after T it
    stays at lr_min instead of rising again.
    """

    def __init__(self, lr0: float, T: float, lr_min: float = 0.0) -> None:
        self.lr0 = _rate(self, "lr0", lr0)
        self.T = _positive(self, "T", T)
        self.lr_min = _rate(self, "lr_min", lr_min)

    def lr_at(self, t: float) -> float:
        if t >= self.T:
            return self.lr_min
        return self.lr_min + (self.lr0 - self.lr_min) * (1.0 + math.cos(math.pi * t / self.T)) / 2.0


class Linear(Schedule):
    """lr_t = lr0 + (lr_end - lr0) * t / T for t <= T, then lr_end.

    The defaults are micrograd's demo loop, ``1.0 - 0.9 * t / T``; with ``T=100`` that is
    ``learning_rate = 1.0 - 0.9*k/100``.
    """

    def __init__(self, lr0: float = 1.0, lr_end: float = 0.1, T: float = 100) -> None:
        self.lr0 = _rate(self, "lr0", lr0)
        self.lr_end = _rate(self, "lr_end", lr_end)
        self.T = _positive(self, "T", T)

    def lr_at(self, t: float) -> float:
        if t >= self.T:
            return self.lr_end
        return self.lr0 + (self.lr_end - self.lr0) * t / self.T


class Scheduler:
    """Drives ``optimizer.lr`` from a schedule, PyTorch style.

    On construction it sets ``optimizer.lr = schedule(0)``; each :meth:`step` (call it after
    ``optimizer.step()``) advances ``t`` by one and sets ``optimizer.lr = schedule(t)``.
    ``schedule`` may be a :class:`Schedule` or any function ``t -> lr``.
    """

    def __init__(self, optimizer: Any, schedule: Callable[[float], float]) -> None:
        if not callable(schedule):
            raise TypeError(f"Scheduler: schedule must be callable (t -> lr), got {type(schedule).__name__}")
        if not hasattr(optimizer, "lr"):
            raise TypeError(
                f"Scheduler: expected an optimiser with an lr attribute, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = 0
        optimizer.lr = schedule(0)

    def step(self) -> float:
        """Advance one step and set the optimiser's learning rate; returns the new rate."""
        lr = self.schedule(self.t + 1)
        self.optimizer.lr = lr  # validated by the optimiser before t moves
        self.t += 1
        return float(self.optimizer.lr)

    def state_dict(self) -> dict:
        """``{"t": t}``: the schedule itself is code and is rebuilt by the caller."""
        return {"t": self.t}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``t`` and set the optimiser's learning rate to ``schedule(t)``."""
        if not isinstance(state, dict) or "t" not in state:
            raise ValueError(f"Scheduler.load_state_dict: expected a dict with key 't', got {state!r}")
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"Scheduler.load_state_dict: 't' must be an int >= 0, got {t!r}")
        self.optimizer.lr = self.schedule(int(t))
        self.t = int(t)


def _real(owner: Any, what: str, x: Any) -> float:
    name = type(owner).__name__
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name}: {what} must be a real number, got {type(x).__name__} {x!r}")
    value: float = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name}: {what} must be finite, got {value!r}")
    return value


def _rate(owner: Any, what: str, x: Any) -> float:
    value = _real(owner, what, x)
    if value < 0:
        raise ValueError(f"{type(owner).__name__}: {what} must be >= 0, got {value!r}")
    return value


def _positive(owner: Any, what: str, x: Any) -> float:
    value = _real(owner, what, x)
    if value <= 0:
        raise ValueError(f"{type(owner).__name__}: {what} must be > 0, got {value!r}")
    return value
