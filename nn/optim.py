"""Optimisers: SGD (with momentum as in Krause's ETH Zürich Intro to ML), Adagrad, RMSprop, Adam, AdamW; schedules.

Every optimiser takes the parameters to train (a list of leaf Values, or a model with
``.parameters()``) and offers

* ``step()``: update every parameter from its ``.grad``.  All gradients are checked first; if any
  is NaN or infinite (or an update would overflow), ``ValueError`` names the parameter and *no*
  parameter and no optimiser state changes: a model is never left half-updated.
* ``zero_grad()``: set every parameter's ``.grad`` to 0.0 (gradients accumulate, as in PyTorch).
  ``step()`` warns once if the gradients it applies still hold those of the previous step (a
  forgotten ``zero_grad()``); ``step(accumulated=True)`` says the accumulation is deliberate.
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

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from autograd import Value

from . import schedules, validate
from .optimizer import Optimizer
from .schedules import *  # noqa: F401,F403
from .update_rules import adagrad_rule, adam_rule, rmsprop_rule, sgd_rule

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "sgd_rule", "adagrad_rule", "rmsprop_rule",
           "adam_rule", *schedules.__all__]


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
    rule = staticmethod(sgd_rule)

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
        self.weight_decay = _nonneg(self, "weight_decay", weight_decay)

class Adagrad(Optimizer):
    """Adagrad: ``s <- s + g^2;  w <- w - lr_t * g / (sqrt(s) + eps)``, ``lr_t = lr / (1 + (t-1) lr_decay)``.

    Same rule and defaults as ``torch.optim.Adagrad`` (``g`` includes ``weight_decay * w``).
    """

    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _slots = ("sum",)
    _nonneg_slots = ("sum",)
    rule = staticmethod(adagrad_rule)

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
        self.lr_decay = _nonneg(self, "lr_decay", lr_decay)
        self.weight_decay = _nonneg(self, "weight_decay", weight_decay)
        self.initial_accumulator_value = _nonneg(self, "initial_accumulator_value", initial_accumulator_value)
        self.eps = _nonneg(self, "eps", eps)
        self.state["sum"] = [self.initial_accumulator_value] * len(self.params)

class RMSprop(Optimizer):
    """RMSprop: ``v <- alpha v + (1-alpha) g^2;  w <- w - lr * g / (sqrt(v) + eps)``.

    ``centered=True`` divides by ``sqrt(v - gbar^2) + eps`` with ``gbar`` the running mean of g;
    ``momentum`` keeps ``b <- momentum * b + g / (sqrt(v) + eps)`` and steps ``w <- w - lr * b``
    (PyTorch's form).  Same rule and defaults as ``torch.optim.RMSprop``.
    """

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    _slots = ("square_avg", "grad_avg", "momentum_buffer")
    _nonneg_slots = ("square_avg",)
    rule = staticmethod(rmsprop_rule)

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
        self.eps = _nonneg(self, "eps", eps)
        self.weight_decay = _nonneg(self, "weight_decay", weight_decay)
        self.momentum = _unit(self, "momentum", momentum)
        if not isinstance(centered, bool):
            raise TypeError(f"RMSprop: centered must be True or False, got {centered!r}")
        self.centered = centered

class Adam(Optimizer):
    """Adam: moving averages of g and g^2 with bias correction.

    ``m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;``
    ``w <- w - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``.

    ``weight_decay`` adds ``weight_decay * w`` to g (L2, as ``torch.optim.Adam``); for decoupled
    decay use :class:`AdamW`.  ``amsgrad=True`` uses the running maximum of v.
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    _slots = ("m", "v", "v_max")
    _nonneg_slots = ("v", "v_max")
    _decoupled = False
    rule = staticmethod(adam_rule)

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
        self.eps = _nonneg(self, "eps", eps)
        self.weight_decay = _nonneg(self, "weight_decay", weight_decay)
        if not isinstance(amsgrad, bool):
            raise TypeError(f"{name}: amsgrad must be True or False, got {amsgrad!r}")
        self.amsgrad = amsgrad

    def hyperparameters(self, t: int) -> SimpleNamespace:
        h = super().hyperparameters(t)
        h.decoupled = self._decoupled  # AdamW
        return h

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
def _nonneg(owner: Any, what: str, x: Any) -> float:
    return validate.non_negative(type(owner).__name__, what, x)


def _unit(owner: Any, what: str, x: Any, closed: bool = False) -> float:
    return validate.interval(type(owner).__name__, what, x, 0.0, 1.0, high_open=not closed)
