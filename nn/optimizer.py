"""``Optimizer``, the base class of every optimiser: checks, all-or-nothing steps, state dicts.

Its ``step()`` evaluates an update rule (:mod:`nn.update_rules`) on floats, ``step_arrays()`` the
same rule on numpy arrays; the optimisers themselves (:mod:`nn.optim`) each add their
hyperparameters and their rule.
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from autograd import Value
from autograd.internal import FLOAT, numpy_backend

from . import validate
from .module import StateDictError

if TYPE_CHECKING:
    from . import inplace_step

__all__ = ["Optimizer"]


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
        """What :attr:`rule` reads as ``h``: the hyperparameters now, and ``t``, the step being taken.  A
        function of the attributes named in ``_hyper`` and ``t`` (an override too): :meth:`step_arrays`
        keeps the namespace from step to step while those attributes hold the same objects."""
        return SimpleNamespace(**{k: getattr(self, k) for k in self._hyper}, t=t)

    def _hyperparameters_now(self, t: int) -> SimpleNamespace:
        """:meth:`hyperparameters` ``(t)``, kept with the attributes of ``_hyper`` it was made of: while
        they are the same objects, :meth:`step_arrays` sets ``t`` in it and reads it again (rules read
        ``h``, never write it)."""
        read = operator.attrgetter("_hyper", *self._hyper)  # (two names at least: a tuple)
        h = self.hyperparameters(t)
        self._kept_h = (read, read(self), h)
        return h

    _kept_h: tuple[Callable, tuple, SimpleNamespace] | None = None  # (reader, the _hyper attributes, namespace)

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

    def step_arrays(self, w: Any, g: Any, state: dict[str, Any],
                    in_place: bool = False) -> tuple[Any, dict[str, Any]]:
        """One step of the same rule on numpy arrays: ``w``, ``g`` and each state entry hold one
        number per parameter, in :attr:`params` order.  Returns the new ``(w, state)`` and counts the
        step in ``t``; raises like :meth:`step` (naming the parameter) when a gradient or an update is
        not finite, and then changes nothing, ``t`` and the arrays included.  The parameters' Values are
        not touched: the caller owns the arrays.  ``g`` is never written.

        From ``nn.inplace_step.MIN_SIZE`` numbers on, the step is first proved unable to fail
        (:mod:`nn.inplace_step`: interval bounds of every number the rule makes), then computed without
        checks: with ``in_place=True`` into ``w`` and the state arrays, which the caller gives up (no
        memory traffic for fresh arrays; the arrays returned must come back unchanged if passed to the
        next step: their bounds are carried over), else into fresh arrays, the inputs untouched.  A
        smaller step, or one not proved, runs the rule on numpy arrays and checks its results (the
        careful way), in fresh arrays.  The same numbers every way.
        """
        from . import inplace_step  # numpy's side, imported with the first array step: nn itself runs without numpy

        t = self.t + 1
        kept = self._kept_h  # (the namespace of the hyperparameters, while they are the same objects)
        if kept is not None and all(map(operator.is_, kept[0](self), kept[1])):
            h = kept[2]
            h.t = t
        else:
            h = self._hyperparameters_now(t)
        old_state = tuple(map(state.__getitem__, self._slots))
        steps, made = self._in_place, None
        if getattr(g, "size", 0) >= inplace_step.MIN_SIZE:  # (smaller: the careful way is quicker)
            if steps is None:
                steps = self._in_place = inplace_step.InPlaceSteps()
            made = steps.step(self.rule, w, g, old_state, h, in_place)
        elif steps is not None:
            steps.forget()
        if made is None:
            import numpy as np

            made = self._careful_step(np, w, g, old_state, h)
        self.t = t
        return made[0], dict(zip(self._slots, made[1]))

    _in_place: inplace_step.InPlaceSteps | None = None  # proved steps' bounds, plans, scratch (made on first use)

    def _careful_step(self, np: Any, w: Any, g: Any, old_state: tuple, h: Any) -> tuple[Any, tuple]:
        """The rule on numpy arrays, fresh results checked: a ValueError like :meth:`step`'s when one is
        not finite."""
        with np.errstate(all="ignore"):  # an overflow shows as a non-finite result, refused below
            # finite only when every number of g and of the arrays the step made is; a non-finite result
            # of finite numbers (an overflow) is sorted out below.  g is summed first, while the
            # cache still holds it
            total = float(np.add.reduce(g, axis=None))
            new_w, new_state = self.rule(numpy_backend(), w, g, old_state, h)
            total += _finite_total(np, [new_w, *[a for a, was in zip(new_state, old_state) if a is not was]])
        if not math.isfinite(total):
            name = type(self).__name__
            bad = _first_non_finite(np, g)
            if bad is not None:
                raise _bad_grad(name, bad, self.params[bad], float(g[bad]))
            for a in (new_w, *new_state):
                bad = _first_non_finite(np, a)
                if bad is not None:
                    raise _overflow(name, bad, self.params[bad], float(w[bad]), float(g[bad]), self.lr)
        return new_w, tuple(new_state)

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
    total, i, n = 0.0, 0, len(arrays)
    while i < n:
        a = arrays[i]
        b: Any = arrays[i + 1] if i + 1 < n else None
        if type(a) is type(b) is np.ndarray and a.ndim == 1 and a.shape == b.shape:
            total += float(np.dot(a, b))
            i += 2
        else:
            total += float(np.add.reduce(a, axis=None))
            i += 1
    return total


def _who(i: int, p: Value) -> str:
    return f"{i} ({p.label!r})" if p.label else str(i)


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
