"""An optimiser's array step proved unable to fail, then run with its results written in place.

:meth:`nn.optimizer.Optimizer.step_arrays` is all or nothing: a step whose result is not finite raises
and changes nothing.  Written into the arrays it reads, a step that overflowed half-way would leave them
half-updated, so it runs in place only once it cannot fail: the update rule (the same function, written
once on a backend ``m``) first runs on :mod:`nn.bounded` arrays, which record its operations and prove
that none can overflow, divide by 0 or be invalid.  The recorded operations then run on the arrays
with ufuncs' ``out=``, each into a buffer whose contents are dead (an output into its own array when
it can: SGD with momentum becomes ``a *= m; t = lr*g; a += t; w -= a``): the same IEEE operations in
the same order as the rule on numpy arrays, so the same numbers.  The gradient is never written.

The leaves' bounds: the gradient's from one pass, its dot product with itself
(:func:`nn.bounded.magnitude`; a NaN or an inf in it makes that NaN or inf: not provable); an array a
step returned in place comes back with the bounds that step proved for it (measured again when,
widened over many steps, they no longer prove the step), any other is measured by a ``minimum`` and a
``maximum`` pass.  A rule of :mod:`nn.update_rules` (pure functions of their arguments) on the
hyperparameters it read last step records the same operations on the same numbers: the proof then
computes their bounds again (:func:`nn.bounded.bounds_again`) without running the rule.  The plan of
which buffer each operation writes is made once per recorded sequence of operations; scratch arrays
(one for SGD, two for Adam) stay with the optimiser from step to step.  A step the bounds do not
prove, or whose rule does something a Bounded does not record, returns None: the caller takes the
careful way, which computes the same numbers in fresh arrays and checks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import update_rules
from .bounded import BACKEND, LIMIT, OPS, Bounded, Trace, Unprovable, bounds_again, magnitude, measure

__all__ = ["InPlaceSteps", "MIN_SIZE"]

# Below this many numbers (256 KB of float64, where numpy itself starts eliding temporaries) the Python
# cost of the proof (~15 us) is more than the fresh arrays cost: such steps take the careful way.
MIN_SIZE = 32768


class InPlaceSteps:
    """One optimiser's proved steps: the bounds of the arrays its last step returned in place (valid while
    the caller leaves them unchanged, as ``in_place=True`` promises), the last trace of a rule of
    :mod:`nn.update_rules`, its plans and scratch arrays."""

    def __init__(self) -> None:
        self.known: list[tuple[Any, float, float]] = []  # (array, lo, hi)
        self.last: _Recorded | None = None
        self.plans: dict[tuple, tuple] = {}  # (the trace's sig and outputs, writable) -> _plan's
        self.scratch: list[Any] = []

    def forget(self) -> None:
        """Carry no bounds to the next step (its arrays were not made by a proved step)."""
        self.known = []

    def step(self, rule: Callable, w: Any, g: Any, state: Sequence, h: Any,
             in_place: bool) -> tuple[Any, tuple] | None:
        """``rule``'s ``(new_w, new_state)`` on the numpy arrays, or None when the step could fail (or is
        too small to gain): then nothing was written.  ``in_place``: the results may be written into
        ``w`` and the state arrays."""
        arrays = (w, *state, g)
        if type(g) is not np.ndarray or g.size < MIN_SIZE \
                or not all(type(a) is np.ndarray and a.dtype == np.float64 and a.shape == g.shape for a in arrays):
            self.known = []
            return None
        with np.errstate(all="ignore"):  # (a NaN or an overflow in the measuring shows as an unproved step)
            # bounds carried over many steps widen: when they do not prove it, measure them and try again
            for known in ([self.known, []] if in_place and self.known else [[]]):
                try:
                    proved = self._prove(rule, arrays, h, known)
                except Unprovable:
                    continue
                if proved is None:
                    break
                key, numbers, out_bounds = proved
                writable = len(arrays) - 1 if in_place and _separate(arrays) else 0
                results = self._run(key, numbers, arrays, writable)  # (proved: no error but an underflow)
                self.known = [(a, *b) for a, b in zip(results, out_bounds)] if in_place else []
                return results[0], tuple(results[1:])
        self.forget()
        return None

    def _prove(self, rule: Callable, arrays: tuple, h: Any, known: list) -> tuple | None:
        """``(key, numbers, out_bounds)`` of the step (the key of its plan, the numbers its operations
        take, the bounds of its results), None when the rule does something a Bounded does not record;
        raises Unprovable.  The same rule of :mod:`nn.update_rules` on the same hyperparameters as last
        time (a pure function of them) records the same operations on the same numbers: their bounds
        are computed again from the leaves' without running the rule."""
        given = {id(a): (lo, hi) for a, lo, hi in known}
        bounds = [given.get(id(a)) or measure(a) for a in arrays[:-1]]
        bounds.append(magnitude(arrays[-1]) or measure(arrays[-1]))
        last = self.last
        if last is not None and last.rule is rule and all(type(getattr(h, k)) is type(v) and getattr(h, k) == v
                                                          for k, v in last.reads.items()):
            lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
            if not all(-LIMIT <= x <= y <= LIMIT for x, y in bounds):
                raise Unprovable("a bound is not well inside the finite range")
            bounds_again(last.key[0], last.numbers, lo, hi)
            return last.key, last.numbers, [(lo[o], hi[o]) for o in last.key[1]]
        pure = getattr(rule, "__module__", None) == update_rules.__name__
        reads = _Reads(h) if pure else h
        trace = Trace()
        try:
            outs = _outputs(trace, rule, arrays, bounds, reads)
            if outs is None:
                return None
            key = (tuple(trace.sig), tuple(x.i for x in outs))
            numbers = trace.numbers()
            if isinstance(reads, _Reads):
                self.last = _Recorded(rule, reads.read, key, numbers)
            return key, numbers, [(x.lo, x.hi) for x in outs]
        finally:
            trace.close()

    def _run(self, key: tuple, numbers: list, arrays: tuple, writable: int) -> list:
        """Run the recorded operations the outputs need on ``arrays`` (the leaves; the first ``writable``
        may be overwritten) and scratch arrays; returns the outputs' arrays."""
        plan = self.plans.get((key, writable))
        if plan is None:
            plan = self.plans[key, writable] = _plan(key[0], len(arrays), list(key[1]), writable)
        steps, n_temps, out_slots = plan
        g = arrays[-1]
        scratch = [a for a in self.scratch if a.shape == g.shape][:n_temps]
        scratch += [np.empty_like(g) for _ in range(n_temps - len(scratch))]  # (before anything is written)
        bufs = [*arrays, *scratch]
        vals: list[Any] = [None] * len(numbers)
        vals[:len(arrays)] = arrays
        for k, f, refs, slot in steps:
            out = vals[k] = bufs[slot]
            if len(refs) == 1:
                f(vals[refs[0]], out=out)
            else:
                a, b = refs
                args = numbers[k]
                f(args[0] if a is None else vals[a], args[1] if b is None else vals[b], out=out)
        n = len(arrays)
        given = {s - n for s in out_slots if s >= n}  # scratch arrays holding a result: the caller's now
        self.scratch = [a for j, a in enumerate(scratch) if j not in given]
        return [bufs[s] for s in out_slots]


class _Reads:
    """The hyperparameters ``h`` as a rule reads them, each attribute read recorded in ``read``."""

    def __init__(self, h: Any) -> None:
        self.h = h
        self.read: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = self.read[name] = getattr(self.h, name)
        return value


class _Recorded:
    """A rule's trace: the hyperparameters it read, its plan's key and the numbers its operations take."""

    __slots__ = ("rule", "reads", "key", "numbers")

    def __init__(self, rule: Callable, reads: dict, key: tuple, numbers: list) -> None:
        self.rule, self.reads, self.key, self.numbers = rule, reads, key, numbers


def _outputs(trace: Trace, rule: Callable, arrays: tuple, bounds: list, h: Any) -> list | None:
    """The outputs of ``rule`` on Bounded leaves for ``arrays`` (w, the state, g) with ``bounds``, in
    ``trace``; None when the rule does something else.  Raises Unprovable."""
    leaves = [trace.leaf(a, b) for a, b in zip(arrays, bounds)]
    try:
        new_w, new_state = rule(BACKEND, leaves[0], leaves[-1], tuple(leaves[1:-1]), h)
        outs = [new_w, *new_state]
    except Unprovable:
        raise
    except Exception:  # Unsupported, or anything else the rule does on a Bounded: the careful way decides
        return None
    if len(outs) != len(leaves) - 1 or len(set(map(id, outs))) != len(outs):
        return None  # (the same array returned twice would alias)
    for x, leaf in zip(outs, leaves):
        if type(x) is not Bounded or x.trace is not trace or (x.op == "leaf" and x is not leaf):
            return None  # (another's array returned would alias)
    return outs


def _plan(sig: list, n_leaves: int, outs: list[int], writable: int) -> tuple[list, int, list[int]]:
    """Where each operation the ``outs`` need writes: ``(steps, n_temps, out_slots)``, a step being
    ``(node, ufunc, operands, slot)``.  Slots ``0..n_leaves-1`` are the leaves' arrays (the first
    ``writable`` may be written once dead), the next ``n_temps`` scratch arrays.  Each result goes into
    its own leaf's array if dead by then, else into an operand's dying here (as ``a *= m``), else into
    any dead one, else a new scratch array."""
    needed = set(outs)
    for k in range(len(sig) - 1, -1, -1):
        if k in needed:
            needed.update(r for r in sig[k][1] if r is not None)
    last: dict[int, float] = {}
    for k in sorted(needed):
        for r in sig[k][1]:
            if r is not None:
                last[r] = k
    for o in outs:
        last[o] = math.inf
    home = {o: j for j, o in enumerate(outs) if j < writable}
    slot = list(range(n_leaves)) + [-1] * (len(sig) - n_leaves)
    free = [j for j in range(writable) if j not in last]  # (a leaf no operation reads)
    steps, n_temps = [], 0
    for k in sorted(needed - set(range(n_leaves))):
        op, refs, _ = sig[k]
        dying = [slot[r] for r in refs if r is not None and last[r] == k]
        free += [s for s in dict.fromkeys(dying) if (s < writable or s >= n_leaves) and s not in free]
        pick = next((s for s in (home.get(k), *dying, *free) if s in free), None)
        if pick is None:
            pick, n_temps = n_leaves + n_temps, n_temps + 1
        else:
            free.remove(pick)
        slot[k] = pick
        steps.append((k, OPS[op][0], refs, pick))
    return steps, n_temps, [slot[o] for o in outs]


def _separate(arrays: Sequence) -> bool:
    """Whether no two of ``arrays`` share memory (else none is written in place): distinct arrays owning
    their memory cannot; a view is asked about."""
    if len({id(a) for a in arrays}) < len(arrays):
        return False
    views = [a for a in arrays if a.base is not None]
    return not any(np.may_share_memory(v, a) for v in views for a in arrays if a is not v)
