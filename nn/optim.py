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

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from autograd import Value
from autograd.internal import FLOAT, numpy_backend

from . import schedules, validate
from .module import StateDictError
from .schedules import *  # noqa: F401,F403

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "sgd_rule", "adagrad_rule", "rmsprop_rule",
           "adam_rule", *schedules.__all__]


class _Accumulated(float):
    """A gradient a backward pass added to an :class:`_Applied` one (and everything added to it after)."""

    def __add__(self, other: Any) -> Any:
        total = float.__add__(self, other)
        return total if total is NotImplemented else _Accumulated(total)

    __radd__ = __add__


class _Applied(_Accumulated):
    """The gradient a step applied, as that step leaves it in ``.grad`` (equal to it as a float)."""


class Optimizer:
    """Base class: parameter checks, ``lr``, all-or-nothing ``step()``, ``zero_grad()``, state dicts.

    A subclass lists its constructor's hyperparameters in ``_hyper``, its per-parameter state in
    ``_slots`` (each a list of floats, one per parameter, starting at 0.0; those that must stay
    >= 0 also in ``_nonneg_slots``) and sets ``rule``: the update written once on a backend ``m``,
    ``rule(m, w, g, state, h) -> (new_w, new_state)``, with ``state`` the slots' values in order and
    ``h`` the hyperparameters plus ``h.t``, the number of the step being taken (1 for the first).
    :meth:`step` evaluates it on floats, one parameter at a time (``m = autograd.internal.FLOAT``);
    :meth:`step_arrays` on numpy arrays, all parameters at once (what ``nn.fit`` uses while it holds
    the parameters in one flat array).  Same formula, same state, the same numbers.
    """

    _hyper: tuple[str, ...] = ("lr",)
    _slots: tuple[str, ...] = ()
    _nonneg_slots: tuple[str, ...] = ()
    rule: Callable[..., tuple[Any, tuple]]

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        self.params: list[Value] = _params(type(self).__name__, params)
        self.lr = lr
        self.t = 0
        self.state: dict[str, list[float]] = {k: [0.0] * len(self.params) for k in self._slots}
        self._warned = False

    # --- the learning rate ---------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step()``; settable (e.g. from a schedule)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = validate.non_negative(type(self).__name__, "lr", value)

    def hyperparameters(self, t: int) -> SimpleNamespace:
        """What :attr:`rule` reads as ``h``: the hyperparameters now, and ``t``, the step being taken."""
        return SimpleNamespace(**{k: getattr(self, k) for k in self._hyper}, t=t)

    # --- training --------------------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self, accumulated: bool = False) -> None:
        """Update every parameter once from its gradient (all or nothing), on floats.

        Warns once (per optimiser) when a gradient still holds the one the previous step applied, plus
        more backward passes: ``zero_grad()`` was forgotten.  ``accumulated=True`` silences it, for
        gradients summed over steps on purpose."""
        name = type(self).__name__
        grads = [_grad(name, i, p) for i, p in enumerate(self.params)]
        if not (accumulated or self._warned) and any(type(p.grad) is _Accumulated for p in self.params):
            self._warned = True
            warnings.warn(f"{name}.step: the gradients still hold the previous step's (accumulated over more than "
                          f"one backward() since zero_grad()); call optimizer.zero_grad() after each step, or "
                          f"step(accumulated=True) if that is deliberate", UserWarning, stacklevel=2)
        t = self.t + 1
        h = self.hyperparameters(t)
        rule, isfinite = self.rule, math.isfinite
        new_ws: list[float] = []
        new_states: list[tuple] = []
        for i, (p, g, *state) in enumerate(zip(self.params, grads, *self.state.values())):
            w, new_state = rule(FLOAT, p.data, g, state, h)
            if not (isfinite(w) and all(map(isfinite, new_state))):
                raise _overflow(name, i, p, p.data, g, self.lr)
            new_ws.append(w)
            new_states.append(new_state)
        # Commit only once every update is known to be finite.
        for p, w, g in zip(self.params, new_ws, grads):
            p.data = w
            p.grad = _Applied(g)  # a backward adding to it makes an _Accumulated: zero_grad was forgotten
        for k, values in zip(self._slots, zip(*new_states)):
            self.state[k] = list(values)
        self.t = t

    def step_arrays(self, w: Any, g: Any, state: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """One step of the same rule on numpy arrays: ``w``, ``g`` and each state entry hold one
        number per parameter, in :attr:`params` order.  Returns the new ``(w, state)`` (fresh
        arrays) and counts the step in ``t``; raises like :meth:`step` (naming the parameter)
        when a gradient or an update is not finite, and then changes nothing, ``t`` included.
        The parameters' Values are not touched: the caller owns the arrays.
        """
        import numpy as np

        t = self.t + 1
        old_state = tuple(state[k] for k in self._slots)
        with np.errstate(all="ignore"):  # an overflow shows as a non-finite result, refused below
            new_w, new_state = self.rule(numpy_backend(), w, g, old_state, self.hyperparameters(t))
            # finite only when every number of g and of the arrays the step made is; a non-finite result
            # of finite numbers (an overflow) is sorted out below
            total = _finite_total(np, [g, new_w, *(a for a, was in zip(new_state, old_state) if a is not was)])
        if not math.isfinite(total):
            name = type(self).__name__
            bad = _first_non_finite(np, g)
            if bad is not None:
                raise _bad_grad(name, bad, self.params[bad], float(g[bad]))
            for a in (new_w, *new_state):
                bad = _first_non_finite(np, a)
                if bad is not None:
                    raise _overflow(name, bad, self.params[bad], float(w[bad]), float(g[bad]), self.lr)
        self.t = t
        return new_w, dict(zip(self._slots, new_state))

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
        """Restore hyperparameters, ``t`` and state from :meth:`state_dict`.

        Every entry is checked the same way before anything changes; a bad one raises
        :class:`nn.StateDictError` naming its key (``state['v'][3]``) and the optimiser is left as it
        was.  State entries must be finite real numbers; the running averages of squared gradients
        (Adagrad's ``sum``, RMSprop's ``square_avg``, Adam's ``v`` and ``v_max``) also >= 0.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise StateDictError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        _keys(where, "the state dict", state_dict, ("optimizer", "hyperparameters", "t", "state"))
        if state_dict["optimizer"] != name:
            raise StateDictError(f"{where}: this state is for {validate.show(state_dict['optimizer'])}, not {name!r}")
        hyper = state_dict["hyperparameters"]
        _keys(where, "hyperparameters", hyper, self._hyper)
        # The constructor validates every hyperparameter; build a scratch optimiser and keep its values.
        try:
            checked = type(self)(self.params, **hyper)
        except (TypeError, ValueError) as e:
            raise StateDictError(f"{where}: bad hyperparameter: {e}") from None
        t = state_dict["t"]
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 0 <= int(t) <= _MAX_T:
            raise StateDictError(f"{where}: 't' must be an int in 0..2**53 (a step count), got {validate.show(t)}")
        st = state_dict["state"]
        _keys(where, "state", st, self._slots)
        new_state = {}
        for k in self._slots:
            values = st[k]
            if not isinstance(values, (list, tuple)) or len(values) != len(self.params):
                got = f"{len(values)}" if isinstance(values, (list, tuple)) else f"{type(values).__name__}"
                raise StateDictError(f"{where}: state[{k!r}] must be a list of {len(self.params)} numbers (one per "
                                     f"parameter), got {got}")
            check = validate.non_negative if k in self._nonneg_slots else validate.real
            new_state[k] = [_checked(where, f"state[{k!r}][{i}]", x, check) for i, x in enumerate(values)]
        for k in self._hyper:
            setattr(self, k, getattr(checked, k))
        self.t = int(t)
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


# --- the update rules, one per optimiser, on a backend m (floats or numpy arrays) --------------------
def sgd_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """SGD (lecture form of momentum, see :class:`SGD`); state: (velocity,)."""
    (a,) = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    if not h.momentum:
        return w - h.lr * g, (a,)
    a = h.momentum * a + h.lr * g
    if h.nesterov:
        return w - (h.momentum * a + h.lr * g), (a,)
    return w - a, (a,)


def adagrad_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """Adagrad; state: (sum of squared gradients,)."""
    (s,) = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    clr = h.lr / (1.0 + (h.t - 1) * h.lr_decay)
    s = s + g * g
    return w - clr * g / (m.sqrt(s) + h.eps), (s,)


def rmsprop_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """RMSprop; state: (square_avg, grad_avg, momentum_buffer)."""
    v, gbar, b = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    v = h.alpha * v + (1.0 - h.alpha) * g * g
    if h.centered:
        gbar = gbar + (1.0 - h.alpha) * (g - gbar)
        avg = m.sqrt(m.maximum(v - gbar * gbar, 0.0)) + h.eps
    else:
        avg = m.sqrt(v) + h.eps
    if h.momentum:
        b = h.momentum * b + g / avg
        return w - h.lr * b, (v, gbar, b)
    return w - h.lr * g / avg, (v, gbar, b)


def adam_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """Adam, and AdamW when ``h.decoupled``; state: (m, v, v_max)."""
    mean, v, v_max = state
    b1, b2 = h.betas
    if h.weight_decay:
        if h.decoupled:
            w = w * (1.0 - h.lr * h.weight_decay)
        else:
            g = g + h.weight_decay * w
    mean = mean + (1.0 - b1) * (g - mean)  # PyTorch's lerp form of b1 m + (1-b1) g
    v = b2 * v + (1.0 - b2) * g * g
    step_size = h.lr / (1.0 - b1 ** h.t)
    root_bc2 = math.sqrt(1.0 - b2 ** h.t)
    if h.amsgrad:
        v_max = m.maximum(v_max, v)
        denom = m.sqrt(v_max) / root_bc2 + h.eps
    else:
        denom = m.sqrt(v) / root_bc2 + h.eps
    return w - step_size * mean / denom, (mean, v, v_max)


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
            raise TypeError(f"{name}: parameter {i} must be a Value, got {type(p).__name__} {validate.show(p)}")
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
        raise TypeError(f"{name}.step: gradient of parameter {_who(i, p)} is {validate.show(g)}, not a number")
    g = _as_float(g)
    if not math.isfinite(g):
        raise _bad_grad(name, i, p, g)
    return g


def _bad_grad(name: str, i: int, p: Value, g: float) -> ValueError:
    return ValueError(
        f"{name}.step: gradient of parameter {_who(i, p)} is {g!r}; no parameter was updated "
        "(look for an overflowing loss or a log/sqrt at the edge of its domain)"
    )


def _overflow(name: str, i: int, p: Value, data: float, g: float, lr: float) -> ValueError:
    return ValueError(
        f"{name}.step: the update of parameter {_who(i, p)} overflowed (data {data!r}, grad {g!r}, lr {lr!r}); "
        "no parameter was updated"
    )


def _first_non_finite(np: Any, a: Any) -> int | None:
    """Index of the first NaN or infinity in a 1-D array, None when all are finite."""
    ok = np.isfinite(a)
    return None if ok.all() else int(np.argmin(ok))


def _finite_total(np: Any, arrays: list) -> float:
    """A number that is finite when every number in ``arrays`` is, in one pass over two arrays at a time:
    their dot product (an inf or NaN carries through a product and a sum, 0 * inf being NaN)."""
    total = 0.0
    while arrays:
        a, *arrays = arrays
        if arrays and np.ndim(a) == 1 and np.shape(arrays[0]) == np.shape(a):
            total += float(np.dot(a, arrays.pop(0)))
        else:
            total += float(np.add.reduce(a, axis=None))
    return total


def _who(i: int, p: Value) -> str:
    return f"{i} ({p.label!r})" if p.label else str(i)


def _nonneg(owner: Any, what: str, x: Any) -> float:
    return validate.non_negative(type(owner).__name__, what, x)


def _unit(owner: Any, what: str, x: Any, closed: bool = False) -> float:
    return validate.interval(type(owner).__name__, what, x, 0.0, 1.0, high_open=not closed)


def _keys(where: str, what: str, d: Any, keys: Sequence[str]) -> None:
    """``d`` is a dict with exactly ``keys`` (else a StateDictError naming the missing or extra ones)."""
    if not isinstance(d, Mapping):
        raise StateDictError(f"{where}: {what} must be a dict with the keys {list(keys)}, got {type(d).__name__}")
    missing = [k for k in keys if k not in d]
    unexpected = [k for k in d if k not in keys]
    if missing or unexpected:
        raise StateDictError(
            f"{where}: {what} must have exactly the keys {list(keys)}; "
            + "; ".join(f"{label} key(s) {validate.show(ks)}" for label, ks in (("missing", missing),
                                                                              ("unexpected", unexpected)) if ks)
        )


def _checked(where: str, key: str, x: Any, check: Callable[[str, str, Any], Any]) -> Any:
    """``check(where, key, x)``, with any complaint as a StateDictError (one wording for every key)."""
    try:
        return check(where, key, x)
    except (TypeError, ValueError) as e:
        raise StateDictError(str(e)) from None


_MAX_T = 2**53  # steps; beyond it t has no exact float and beta ** t would overflow the conversion


def _as_float(x: Any) -> float:
    """float(x), with an int or Fraction beyond the float range as +-inf instead of an OverflowError."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf
