"""Optimisers: SGD (with momentum as in Krause's ETH Zürich Intro to ML), Adagrad, RMSprop, Adam, AdamW; schedules.

Every optimiser takes the parameters to train (a list of leaf Values, or a model with
``.parameters()``) and offers

* ``step()``: update every parameter from its ``.grad``.  All gradients are checked first; if any
  is NaN or infinite (or an update would overflow), ``ValueError`` names the parameter and *no*
  parameter and no optimiser state changes: a model is never left half-updated.
* ``zero_grad()``: set every parameter's ``.grad`` to 0.0 (gradients accumulate, as in PyTorch).
* ``lr``: the learning rate, a plain attribute you may set at any time (checked: finite, >= 0).
* ``t``: the number of ``step()`` calls so far (Adam's bias correction uses it).
* ``state_dict()`` / ``load_state_dict(d)``: hyperparameters, ``t`` and per-parameter state as a
  JSON-ready dict (lists of floats in parameter order); a bad dict raises and changes nothing.

Learning-rate schedules (:mod:`nn.schedules`, re-exported here) are functions ``t -> lr``::

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = InverseTime(0.1, 100)             # Krause, ETH Zürich Introduction to ML: min(0.1, 100/t)
    for t in range(steps):
        opt.lr = sched(t)                     # or: Scheduler(opt, sched), .step() after opt.step()
        loss = ...; loss.backward()
        opt.step(); opt.zero_grad()

The update rules match PyTorch's ``torch.optim`` (same defaults, same placement of ``eps``), so the
same gradients give the same parameters to rounding; the one deliberate difference is the form of
SGD's momentum, explained in :class:`SGD`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from autograd import Value

from . import schedules
from .schedules import *  # noqa: F401,F403

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", *schedules.__all__]


class Optimizer:
    """Base class: parameter checks, ``lr``, all-or-nothing ``step()``, ``zero_grad()``, state dicts.

    A subclass lists its constructor's hyperparameters in ``_hyper``, its per-parameter state in
    ``_slots`` (each a list of floats, one per parameter, starting at 0.0) and implements
    ``_rule(w, g, t, *slots) -> (new_w, *new_slots)`` on plain floats.
    """

    _hyper: tuple[str, ...] = ("lr",)
    _slots: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        self.params: list[Value] = _params(type(self).__name__, params)
        self.lr = lr
        self.t = 0
        self.state: dict[str, list[float]] = {k: [0.0] * len(self.params) for k in self._slots}

    # --- the learning rate ---------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step()``; settable (e.g. from a schedule)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _nonneg(type(self).__name__, "lr", value)

    # --- training --------------------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its gradient (all or nothing)."""
        name = type(self).__name__
        grads = [_grad(name, i, p) for i, p in enumerate(self.params)]
        t = self.t + 1
        slots = [self.state[k] for k in self._slots]
        new_ws: list[float] = []
        new_slots: list[list[float]] = [[] for _ in self._slots]
        for i, (p, g) in enumerate(zip(self.params, grads)):
            out = self._rule(p.data, g, t, *[s[i] for s in slots])
            if not all(math.isfinite(x) for x in out):
                raise ValueError(
                    f"{name}.step: the update of parameter {_who(i, p)} overflowed (data {p.data!r}, "
                    f"grad {g!r}, lr {self.lr!r}); no parameter was updated"
                )
            new_ws.append(out[0])
            for lst, x in zip(new_slots, out[1:]):
                lst.append(x)
        # Commit only once every update is known to be finite.
        for p, w in zip(self.params, new_ws):
            p.data = w
        for k, lst in zip(self._slots, new_slots):
            self.state[k] = lst
        self.t = t

    def _rule(self, w: float, g: float, t: int, *slots: float) -> tuple[float, ...]:  # pragma: no cover
        raise NotImplementedError

    # --- saving and restoring --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-ready dict: optimiser name, hyperparameters, ``t`` and per-parameter state lists."""
        hyper = {}
        for k in self._hyper:
            v = getattr(self, k)
            hyper[k] = list(v) if isinstance(v, tuple) else v
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": hyper,
            "t": self.t,
            "state": {k: list(v) for k, v in self.state.items()},
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters, ``t`` and state from :meth:`state_dict`; a bad dict changes nothing."""
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        missing = {"optimizer", "hyperparameters", "t", "state"} - set(state_dict)
        if missing:
            raise ValueError(f"{where}: missing key(s) {sorted(missing)}")
        unexpected = set(state_dict) - {"optimizer", "hyperparameters", "t", "state"}
        if unexpected:
            raise ValueError(f"{where}: unexpected key(s) {sorted(unexpected)}")
        if state_dict["optimizer"] != name:
            raise ValueError(f"{where}: this state is for {state_dict['optimizer']!r}, not {name!r}")
        hyper = state_dict["hyperparameters"]
        if not isinstance(hyper, dict) or set(hyper) != set(self._hyper):
            got = sorted(hyper) if isinstance(hyper, dict) else type(hyper).__name__
            raise ValueError(
                f"{where}: hyperparameters must have exactly the keys {list(self._hyper)}, got {got}"
            )
        # The constructor validates every hyperparameter; build a scratch optimiser and keep its values.
        try:
            checked = type(self)(self.params, **hyper)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: bad hyperparameter: {e}") from None
        t = state_dict["t"]
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 0 <= t <= _MAX_T:
            shown = f"{t!r}" if not isinstance(t, numbers.Integral) or abs(t) <= 2**64 else "a larger int"
            raise ValueError(f"{where}: 't' must be an int in 0..2**53 (a step count), got {shown}")
        st = state_dict["state"]
        if not isinstance(st, dict) or set(st) != set(self._slots):
            got = sorted(st) if isinstance(st, dict) else type(st).__name__
            raise ValueError(f"{where}: state must have exactly the keys {list(self._slots)}, got {got}")
        new_state = {}
        for k in self._slots:
            values = st[k]
            if not isinstance(values, (list, tuple)) or len(values) != len(self.params):
                n = len(values) if isinstance(values, (list, tuple)) else type(values).__name__
                raise ValueError(
                    f"{where}: state[{k!r}] must be a list of {len(self.params)} numbers (one per "
                    f"parameter), got {n}"
                )
            for i, x in enumerate(values):
                if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(_as_float(x)):
                    shown = f"{x!r:.40}" if math.isfinite(_as_float(x)) or not isinstance(x, numbers.Integral) else (
                        "an int beyond the float range")
                    raise ValueError(f"{where}: state[{k!r}][{i}] must be a finite number, got {shown}")
            new_state[k] = [float(x) for x in values]
        for k in self._hyper:
            setattr(self, k, getattr(checked, k))
        self.t = int(t)
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    With ``g = grad + weight_decay * w``, each step is

    * no momentum:  ``w <- w - lr * g``
    * momentum m (Krause, ETH Zürich Introduction to ML):  ``a <- m * a + lr * g;  w <- w - a``
    * Nesterov:  ``a <- m * a + lr * g;  w <- w - (m * a + lr * g)``

    **Relation to PyTorch.**  ``torch.optim.SGD`` keeps a velocity without the learning rate,
    ``b <- m * b + g;  w <- w - lr * b`` (Nesterov: ``w <- w - lr * (g + m * b)``).  Here
    ``a = lr * b``, so while ``lr`` is constant the two forms give the same parameters (to rounding;
    tests check 20 steps to 1e-10).  They differ when ``lr`` changes: the lecture form keeps past
    steps at the rate they were taken with, while PyTorch rescales the whole velocity by the new rate.
    ``state_dict()["state"]["velocity"]`` holds ``a`` (lecture form).
    """

    _hyper = ("lr", "momentum", "nesterov", "weight_decay")
    _slots = ("velocity",)

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _unit(self, "momentum", momentum)
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, got momentum=0.0")
        self.nesterov = nesterov
        self.weight_decay = _nonneg("SGD", "weight_decay", weight_decay)

    def _rule(self, w: float, g: float, t: int, a: float) -> tuple[float, float]:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if not self.momentum:
            return w - self.lr * g, a
        a = self.momentum * a + self.lr * g
        if self.nesterov:
            return w - (self.momentum * a + self.lr * g), a
        return w - a, a


class Adagrad(Optimizer):
    """Adagrad: ``s <- s + g^2;  w <- w - lr_t * g / (sqrt(s) + eps)``, ``lr_t = lr / (1 + (t-1) lr_decay)``.

    Same rule and defaults as ``torch.optim.Adagrad`` (``g`` includes ``weight_decay * w``).
    """

    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _slots = ("sum",)

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        self.lr_decay = _nonneg("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = _nonneg("Adagrad", "weight_decay", weight_decay)
        self.initial_accumulator_value = _nonneg(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value
        )
        self.eps = _nonneg("Adagrad", "eps", eps)
        self.state["sum"] = [self.initial_accumulator_value] * len(self.params)

    def _rule(self, w: float, g: float, t: int, s: float) -> tuple[float, float]:
        if self.weight_decay:
            g = g + self.weight_decay * w
        clr = self.lr / (1.0 + (t - 1) * self.lr_decay)
        s = s + g * g
        return w - clr * g / (math.sqrt(s) + self.eps), s


class RMSprop(Optimizer):
    """RMSprop: ``v <- alpha v + (1-alpha) g^2;  w <- w - lr * g / (sqrt(v) + eps)``.

    ``centered=True`` divides by ``sqrt(v - gbar^2) + eps`` with ``gbar`` the running mean of g;
    ``momentum`` keeps ``b <- momentum * b + g / (sqrt(v) + eps)`` and steps ``w <- w - lr * b``
    (PyTorch's form).  Same rule and defaults as ``torch.optim.RMSprop``.
    """

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    _slots = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _unit(self, "alpha", alpha, closed=True)
        self.eps = _nonneg("RMSprop", "eps", eps)
        self.weight_decay = _nonneg("RMSprop", "weight_decay", weight_decay)
        self.momentum = _unit(self, "momentum", momentum)
        if not isinstance(centered, bool):
            raise TypeError(f"RMSprop: centered must be True or False, got {centered!r}")
        self.centered = centered

    def _rule(self, w: float, g: float, t: int, v: float, gbar: float, b: float) -> tuple[float, ...]:
        if self.weight_decay:
            g = g + self.weight_decay * w
        v = self.alpha * v + (1.0 - self.alpha) * g * g
        if self.centered:
            gbar = gbar + (1.0 - self.alpha) * (g - gbar)
            avg = math.sqrt(max(v - gbar * gbar, 0.0)) + self.eps
        else:
            avg = math.sqrt(v) + self.eps
        if self.momentum:
            b = self.momentum * b + g / avg
            return w - self.lr * b, v, gbar, b
        return w - self.lr * g / avg, v, gbar, b


class Adam(Optimizer):
    """Adam: moving averages of g and g^2 with bias correction.

    ``m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;``
    ``w <- w - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``.

    ``weight_decay`` adds ``weight_decay * w`` to g (L2, as ``torch.optim.Adam``); for decoupled
    decay use :class:`AdamW`.  ``amsgrad=True`` uses the running maximum of v.
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    _slots = ("m", "v", "v_max")
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_unit(self, "betas[0]", betas[0]), _unit(self, "betas[1]", betas[1]))
        self.eps = _nonneg(name, "eps", eps)
        self.weight_decay = _nonneg(name, "weight_decay", weight_decay)
        if not isinstance(amsgrad, bool):
            raise TypeError(f"{name}: amsgrad must be True or False, got {amsgrad!r}")
        self.amsgrad = amsgrad

    def _rule(self, w: float, g: float, t: int, m: float, v: float, v_max: float) -> tuple[float, ...]:
        b1, b2 = self.betas
        if self.weight_decay:
            if self._decoupled:
                w = w * (1.0 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * w
        m = m + (1.0 - b1) * (g - m)  # PyTorch's lerp form of b1 m + (1-b1) g
        v = b2 * v + (1.0 - b2) * g * g
        step_size = self.lr / (1.0 - b1 ** t)
        root_bc2 = math.sqrt(1.0 - b2 ** t)
        if self.amsgrad:
            v_max = max(v_max, v)
            denom = math.sqrt(v_max) / root_bc2 + self.eps
        else:
            denom = math.sqrt(v) / root_bc2 + self.eps
        return w - step_size * m / denom, m, v, v_max


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w <- w (1 - lr weight_decay)`` before the Adam step.

    Same rule and defaults as ``torch.optim.AdamW`` (``weight_decay=0.01``).
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# --- checks -----------------------------------------------------------------------------------------
def _params(name: str, params: Any) -> list[Value]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value):
        raise TypeError(f"{name}: expected a list of parameters, got a single Value (wrap it: [v])")
    try:
        ps = list(params)
    except TypeError:
        raise TypeError(
            f"{name}: expected a list of Values or a model with .parameters(), got {type(params).__name__}"
        ) from None
    if not ps:
        raise ValueError(f"{name}: got an empty parameter list; there is nothing to optimise")
    seen: dict[int, int] = {}
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{name}: parameter {i} must be a Value, got {type(p).__name__} {p!r}")
        if not p.is_leaf:
            raise ValueError(
                f"{name}: parameter {_who(i, p)} was computed by {p.op!r}; only leaf Values can be "
                "optimised (updating an intermediate result would not change the model)"
            )
        if id(p) in seen:
            raise ValueError(
                f"{name}: parameter {_who(i, p)} is listed twice (also as parameter {seen[id(p)]})"
            )
        seen[id(p)] = i
    return ps


def _grad(name: str, i: int, p: Value) -> float:
    g = p.grad
    if isinstance(g, Value):  # left by backward(create_graph=True)
        g = g.data
    if isinstance(g, bool) or not isinstance(g, numbers.Real):
        raise TypeError(f"{name}.step: gradient of parameter {_who(i, p)} is {g!r}, not a number")
    g = _as_float(g)
    if not math.isfinite(g):
        raise ValueError(
            f"{name}.step: gradient of parameter {_who(i, p)} is {g!r}; no parameter was updated "
            "(look for an overflowing loss or a log/sqrt at the edge of its domain)"
        )
    return g


def _who(i: int, p: Value) -> str:
    return f"{i} ({p.label!r})" if p.label else str(i)


def _nonneg(name: str, what: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name}: {what} must be a real number, got {type(x).__name__} {x!r}")
    x = _as_float(x)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name}: {what} must be finite and >= 0, got {x!r}")
    return x


_MAX_T = 2**53  # steps; beyond it t has no exact float and beta ** t would overflow the conversion


def _as_float(x: Any) -> float:
    """float(x), with an int or Fraction beyond the float range as +-inf instead of an OverflowError."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _unit(owner: Any, what: str, x: Any, closed: bool = False) -> float:
    name = type(owner).__name__
    x = _nonneg(name, what, x)
    if x > 1.0 or (x == 1.0 and not closed):
        raise ValueError(f"{name}: {what} must be in [0, {'1]' if closed else '1)'}, got {x!r}")
    return x
