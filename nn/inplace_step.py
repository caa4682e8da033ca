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
``maximum`` pass.  A step the bounds do not prove, or whose rule does something a Bounded does not
record, returns None: the caller takes the careful way, which computes the same numbers in fresh
arrays and checks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .bounded import BACKEND, OPS, Bounded, Trace, Unprovable, magnitude

__all__ = ["InPlaceSteps", "MIN_SIZE"]

# Below this many numbers (256 KB of float64, where numpy itself starts eliding temporaries) the Python
# cost of the proof (~15 us) is more than the fresh arrays cost: such steps take the careful way.
MIN_SIZE = 32768


class InPlaceSteps:
    """One optimiser's proved steps: the bounds of the arrays its last step returned in place (valid while
    the caller leaves them unchanged, as ``in_place=True`` promises), its plans and scratch arrays."""

    def __init__(self) -> None:
        self.known: list[tuple[Any, float, float]] = []  # (array, lo, hi)
        self.plans: dict[tuple, tuple] = {}  # (the trace's sig, outputs, writable) -> _plan's
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
                trace = Trace()
                try:
                    outs = _prove(trace, rule, arrays, h, known)
                    if outs is None:
                        break
                    writable = len(arrays) - 1 if in_place and _separate(arrays) else 0
                    results = self._run(trace, outs, arrays, writable)  # (proved: no error but an underflow)
                    self.known = [(a, x.lo, x.hi) for a, x in zip(results, outs)] if in_place else []
                    return results[0], tuple(results[1:])
                except Unprovable:
                    pass
                finally:
                    trace.close()
        self.forget()
        return None

    def _run(self, trace: Trace, outs: list, arrays: tuple, writable: int) -> list:
        """Run the recorded operations the ``outs`` need on ``arrays`` (the leaves; the first
        ``writable`` may be overwritten) and scratch arrays; returns the ``outs``' arrays."""
        key = (tuple(trace.sig), tuple(x.i for x in outs), writable)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _plan(trace.sig, len(arrays), [x.i for x in outs], writable)
        steps, n_temps, out_slots = plan
        g = arrays[-1]
        scratch = [a for a in self.scratch if a is not None and a.shape == g.shape][:n_temps]
        scratch += [np.empty_like(g) for _ in range(n_temps - len(scratch))]  # (before anything is written)
        bufs = [*arrays, *scratch]
        vals: list[Any] = [None] * len(trace.nodes)
        vals[:len(arrays)] = arrays
        nodes = trace.nodes
        for k, f, refs, slot in steps:
            out = vals[k] = bufs[slot]
            if len(refs) == 1:
                f(vals[refs[0]], out=out)
            else:
                a, b = refs
                args = nodes[k].args
                f(args[0] if a is None else vals[a], args[1] if b is None else vals[b], out=out)
        n = len(arrays)
        given = {s - n for s in out_slots if s >= n}  # scratch arrays holding a result: the caller's now
        self.scratch = [a for j, a in enumerate(scratch) if j not in given]
        return [bufs[s] for s in out_slots]


def _prove(trace: Trace, rule: Callable, arrays: tuple, h: Any, known: list) -> list | None:
    """The outputs of ``rule`` on Bounded leaves for ``arrays`` (w, the state, g) in ``trace``, with the
    bounds ``known`` for those it lists; None when the rule does something else.  Raises Unprovable."""
    given = {id(a): (lo, hi) for a, lo, hi in known}
    leaves = [trace.leaf(a, given.get(id(a))) for a in arrays[:-1]]
    bg = trace.leaf(arrays[-1], magnitude(arrays[-1]))
    try:
        new_w, new_state = rule(BACKEND, leaves[0], bg, tuple(leaves[1:]), h)
        outs = [new_w, *new_state]
    except Unprovable:
        raise
    except Exception:  # Unsupported, or anything else the rule does on a Bounded: the careful way decides
        return None
    if len(outs) != len(leaves) or len(set(map(id, outs))) != len(outs):
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
        op, refs = sig[k]
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
