"""An optimiser's array step proved unable to fail, then run with its results written in place.

:meth:`nn.optimizer.Optimizer.step_arrays` is all or nothing: a step whose result is not finite raises
and changes nothing.  Written into the arrays it reads, a step that overflowed half-way would leave them
half-updated, so it runs in place only once it cannot fail: the update rule (the same function, written
once on a backend ``m``) first runs on :mod:`nn.bounded` arrays, which record its operations and prove
that none can overflow, divide by 0 or be invalid.  The recorded operations then run on the arrays
with ufuncs' ``out=``, each into a buffer whose contents are dead (an output into its own array when
it can: SGD with momentum becomes ``t = lr*g; a *= m; a += t; w -= a``): the same IEEE operations on
the same operands as the rule on numpy arrays (independent ones may be swapped), so the same numbers.
The gradient is never written.

A recorded sequence of operations becomes a small generated function (:func:`_program`, made once per
sequence and choice of writable arrays): straight-line code that bounds the gradient, computes the
bounds of every operation the outputs need (the interval functions of :data:`nn.bounded.OPS`, raising
Unprovable before anything is written), then calls the ufuncs on the arrays, the operations reading the
gradient first (the pass that bounded it left it in the cache), and returns the outputs with their
bounds.  The numbers the operations take are its argument: a learning rate changed by a schedule runs
the same function.  A step given back the arrays the last one returned in place, under hyperparameters
that are the same objects, runs that step's function again with the bounds it proved: a handful of
checks and one call of Python per step.

The leaves' bounds: the gradient's from one pass, its dot product with itself
(:func:`nn.bounded.magnitude`; a NaN or an inf in it makes that NaN or inf: not provable); an array a
step returned in place comes back with the bounds that step proved for it (measured again when,
widened over many steps, they no longer prove the step), any other is measured by a ``minimum`` and a
``maximum`` pass.  A rule of :mod:`nn.update_rules` (pure functions of their arguments) on the
hyperparameters it read last step records the same operations on the same numbers: the rule is then
not run again.  Scratch arrays (one for SGD, two for Adam) stay with the optimiser from step to step.
The function runs under ``np.errstate(all="ignore")``: the dot product of a gradient beyond 1e154
overflows (a bound that proves nothing) and an underflow, the only flag a proved operation can set, is
no error; numpy would warn of the first and could be set to raise on the second half-way through the
step.  A step the bounds do not prove, or whose rule does something a Bounded does not record, returns
None: the caller takes the careful way, which computes the same numbers in fresh arrays and checks them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from . import update_rules
from .bounded import BACKEND, LIMIT, OPS, Bounded, Trace, Unprovable, magnitude, measure

__all__ = ["InPlaceSteps", "MIN_SIZE"]

# Below this many numbers the careful way is quicker for a rule traced again every step (Adam and Adagrad
# read t): the trace's Python (~70 us) is more than the fresh arrays cost (Adam, 2,410 numbers: 130 us in
# place, 59 careful; 32,768: 281 and 318).  A repeated step (SGD, RMSprop) would gain from ~1,000 numbers
# on (digits' 2,410 in fit: 13 us against 15), too little to have two thresholds.
MIN_SIZE = 32768


class InPlaceSteps:
    """One optimiser's proved steps: the arrays its last step returned in place and their bounds (valid
    while the caller leaves them unchanged, as ``in_place=True`` promises), the last trace of a rule of
    :mod:`nn.update_rules`, its programs and scratch arrays."""

    def __init__(self) -> None:
        self.kept: tuple = ()  # the arrays (w, *state) the last step returned in place
        self.kept_bounds: list[float] = []  # their bounds, flat (lo, hi, lo, hi, ...)
        self.again: tuple | None = None  # (rule, recorded, program, ids of kept, views among kept): to repeat
        self.last: _Recorded | None = None
        self.programs: dict[tuple, Callable] = {}  # (the trace's sig and outputs, writable) -> _program's
        self.scratch: list[Any] = []

    def forget(self) -> None:
        """Carry no bounds to the next step (its arrays were not made by a proved step)."""
        self.kept, self.kept_bounds, self.again = (), [], None

    def step(self, rule: Callable, w: Any, g: Any, state: Sequence, h: Any,
             in_place: bool) -> tuple[Any, tuple] | None:
        """``rule``'s ``(new_w, new_state)`` on the numpy arrays, or None when the step could fail (or is
        too small to gain): then nothing was written.  ``in_place``: the results may be written into
        ``w`` and the state arrays."""
        arrays = (w, *state, g)
        again = self.again
        if again is not None and in_place:  # the last step's program on the arrays it returned, if it applies
            rule_again, recorded, program, ids, views = again
            kept = self.kept
            if (rule_again is rule and len(arrays) == len(kept) + 1 and all(map(operator.is_, arrays, kept))
                    and type(g) is np.ndarray and g.base is None and g.dtype == _F64 and g.shape == kept[0].shape
                    and id(g) not in ids and not (views and any(np.may_share_memory(g, a) for a in views))
                    and all([a.flags.writeable for a in kept])
                    and all(map(operator.is_, recorded.read(h), recorded.values))):
                try:
                    made: tuple[Any, tuple]
                    made, self.kept_bounds = program(arrays, self.kept_bounds, recorded.numbers, self.scratch)
                    return made
                except Unprovable:  # (the carried bounds, widened: measured below)
                    pass
        return self._step(rule, arrays, h, in_place)

    def _step(self, rule: Callable, arrays: tuple, h: Any, in_place: bool) -> tuple[Any, tuple] | None:
        """:meth:`step` from the arrays' bounds (carried or measured) and the rule's trace (recorded again
        unless the last one is for the same hyperparameters)."""
        self.again = None
        if not _fit(arrays):
            self.forget()
            return None
        writable = len(arrays) - 1 if in_place and _writable(arrays) else 0
        last = self.last
        recorded = last if last is not None and last.rule is rule and last.matches(h) else None
        # bounds carried over many steps widen: when they do not prove it, measure them and try again
        for carried in ((True, False) if in_place and self.kept else (False,)):
            bounds = self._leaf_bounds(arrays, carried)
            try:
                if recorded is None:
                    recorded = _record(rule, arrays, [*bounds, *magnitude(arrays[-1])], h)
                    if recorded is None:
                        break
                    if recorded.reads is not None:
                        self.last = recorded
                program = self._program(recorded, arrays, writable)
                made: tuple[Any, tuple]
                made, out_bounds = program(arrays, bounds, recorded.numbers, self.scratch)
            except Unprovable:
                continue
            kept = program.kept  # type: ignore[attr-defined]  # scratch arrays not holding a result: the caller's now
            if len(kept) < len(self.scratch):
                self.scratch = [self.scratch[j] for j in kept]
            self.forget()
            if in_place:
                results = self.kept = (made[0], *made[1])
                self.kept_bounds = out_bounds
                if writable and recorded.reads is not None and len(kept) == program.n_temps:  # type: ignore[attr-defined]
                    views = [a for a in results if a.base is not None]
                    self.again = (rule, recorded, program, {id(a) for a in results}, views)
            return made
        self.forget()
        return None

    def _leaf_bounds(self, arrays: tuple, carried: bool) -> list[float]:
        """The bounds of the leaves but the gradient, flat (lo, hi, lo, hi, ...): those carried for the
        arrays the last step returned in place (when ``carried``), the others measured."""
        kept, bounds = self.kept if carried else (), list[float]()
        for j, a in enumerate(arrays[:-1]):
            bounds += self.kept_bounds[2 * j:2 * j + 2] if j < len(kept) and a is kept[j] else measure(a)
        return bounds

    def _program(self, recorded: _Recorded, arrays: tuple, writable: int) -> Callable:
        """The program of the recorded operations on ``arrays`` (the first ``writable`` may be written),
        made once per recorded sequence; the scratch arrays it needs made ready, of the arrays' shape."""
        key = (recorded.key, writable)
        program = self.programs.get(key)
        if program is None:
            sig, n, outs = recorded.key[0], len(arrays), list(recorded.key[1])
            program = self.programs[key] = _program(sig, n, outs, *_plan(sig, n, outs, writable))
        n_temps, g = program.n_temps, arrays[-1]  # type: ignore[attr-defined]
        scratch = [a for a in self.scratch if a.shape == g.shape][:n_temps]
        self.scratch = scratch + [np.empty_like(g) for _ in range(n_temps - len(scratch))]
        return program


_F64 = np.dtype(np.float64)
# A program's flags are no errors: magnitude's overflow (a step then unproved; numpy warns of it by
# default) and an underflow (the only flag a proved operation can set; np.seterr may make it raise).
_QUIET = np.errstate(all="ignore")


def _fit(arrays: tuple) -> bool:
    """Whether ``arrays`` are float64 numpy arrays of one shape, at least MIN_SIZE numbers."""
    g = arrays[-1]
    if type(g) is not np.ndarray or g.size < MIN_SIZE:
        return False
    shape = g.shape
    return all(type(a) is np.ndarray and a.dtype == _F64 and a.shape == shape for a in arrays)


def _record(rule: Callable, arrays: tuple, bounds: list, h: Any) -> _Recorded | None:
    """The rule's trace on Bounded leaves with ``bounds``: its operations and the numbers they take, with
    the hyperparameters it read when it is a rule of :mod:`nn.update_rules` (a pure function of them: the
    same hyperparameters record the same operations on the same numbers); None when the rule does
    something a Bounded does not record.  Raises Unprovable."""
    pure = getattr(rule, "__module__", None) == update_rules.__name__
    reads = _Reads(h) if pure else h
    trace = Trace()
    try:
        leaves = [trace.leaf(a, (lo, hi)) for a, lo, hi in zip(arrays, bounds[::2], bounds[1::2])]
        outs = _outputs(rule, leaves, reads)
        if outs is None:
            return None
        key = (tuple(trace.sig), tuple(x.i for x in outs))
        return _Recorded(rule, reads.read if pure else None, key, trace.numbers())
    finally:
        trace.close()


class _Reads:
    """The hyperparameters ``h`` as a rule reads them, each attribute read recorded in ``read``."""

    def __init__(self, h: Any) -> None:
        self.h = h
        self.read: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = self.read[name] = getattr(self.h, name)
        return value


class _Recorded:
    """A rule's trace: the hyperparameters it read (None: not a rule of nn.update_rules), its plan's key
    and the numbers its operations take."""

    __slots__ = ("rule", "reads", "key", "numbers", "read", "values")

    def __init__(self, rule: Callable, reads: dict | None, key: tuple, numbers: list) -> None:
        self.rule, self.reads, self.key, self.numbers = rule, reads, key, numbers
        names = tuple(reads or ())
        # read(h): a tuple of h's attributes of these names (attrgetter gives a tuple for two names and more)
        self.read = operator.attrgetter(*names) if len(names) > 1 else lambda h: tuple(getattr(h, k) for k in names)
        self.values = tuple(reads[k] for k in names) if reads else ()

    def matches(self, h: Any) -> bool:
        """Whether ``h`` holds what the rule read, the very objects (as an optimiser's unchanged
        hyperparameters do) or exactly equal ones (type, value and the sign of a zero)."""
        if self.reads is None:
            return False
        now = self.read(h)
        if all(map(operator.is_, now, self.values)):
            return True
        if any(type(a) is not type(b) or repr(a) != repr(b) for a, b in zip(now, self.values)):
            return False
        self.values = now  # (equal: the same objects from now on are recognised at once)
        return True


def _outputs(rule: Callable, leaves: list, h: Any) -> list | None:
    """The outputs of ``rule`` on the Bounded ``leaves`` (w, the state, g); None when the rule does
    something else.  Raises Unprovable."""
    trace = leaves[0].trace
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
    """Where each operation the ``outs`` need writes, in the order they run: ``(steps, n_temps,
    out_slots)``, a step being ``(node, ufunc, operands, slot)``.  Slots ``0..n_leaves-1`` are the
    leaves' arrays (the first ``writable`` may be written once dead), the next ``n_temps`` scratch
    arrays.  Each result goes into its own leaf's array if dead by then, else into an operand's dying
    here (as ``a *= m``), else into any dead one, else a new scratch array."""
    needed = set(outs)
    for k in range(len(sig) - 1, -1, -1):
        if k in needed:
            needed.update(r for r in sig[k][1] if r is not None)
    order = _order(sig, needed - set(range(n_leaves)), n_leaves)
    last: dict[int, float] = {}
    for pos, k in enumerate(order):
        for r in sig[k][1]:
            if r is not None:
                last[r] = pos
    for o in outs:
        last[o] = math.inf
    home = {o: j for j, o in enumerate(outs) if j < writable}
    slot = list(range(n_leaves)) + [-1] * (len(sig) - n_leaves)
    free = [j for j in range(writable) if j not in last]  # (a leaf no operation reads)
    steps, n_temps = [], 0
    for pos, k in enumerate(order):
        op, refs, _ = sig[k]
        dying = [slot[r] for r in refs if r is not None and last[r] == pos]
        free += [s for s in dict.fromkeys(dying) if (s < writable or s >= n_leaves) and s not in free]
        pick = next((s for s in (home.get(k), *dying, *free) if s in free), None)
        if pick is None:
            pick, n_temps = n_leaves + n_temps, n_temps + 1
        else:
            free.remove(pick)
        slot[k] = pick
        steps.append((k, OPS[op][0], refs, pick))
    return steps, n_temps, [slot[o] for o in outs]


def _order(sig: list, nodes: set, n_leaves: int) -> list[int]:
    """The order in which ``nodes`` (operations of ``sig``) run: the recorded one, except that an operation
    reading the gradient (the last leaf) runs as soon as its operands are ready, while the gradient is
    still in the cache from the pass that bounded it (~20 us a step on 100,000 numbers).  Independent
    operations swapped: the same numbers."""
    done, pending, order = set(range(n_leaves)), sorted(nodes), []
    while pending:
        ready = [k for k in pending if all(r is None or r in done for r in sig[k][1])]
        k = next((k for k in ready if n_leaves - 1 in sig[k][1]), ready[0])
        order.append(k)
        done.add(k)
        pending.remove(k)
    return order


def _writable(arrays: Sequence) -> bool:
    """Whether ``w`` and the state (all of ``arrays`` but the gradient) may be written: each writeable, and
    no two of ``arrays`` sharing memory (distinct arrays owning their memory cannot; a view is asked)."""
    if len({id(a) for a in arrays}) < len(arrays) or not all(a.flags.writeable for a in arrays[:-1]):
        return False
    views = [a for a in arrays if a.base is not None]
    return not any(np.may_share_memory(v, a) for v in views for a in arrays if a is not v)


def _program(sig: list, n_leaves: int, outs: list[int], steps: list, n_temps: int, out_slots: list[int]) -> Callable:
    """A function ``run(arrays, bounds, numbers, scratch) -> ((new_w, new_state), out_bounds)`` for one plan: checks
    the leaves' bounds (``bounds`` flat, the gradient's, the last leaf, by :func:`nn.bounded.magnitude`),
    computes those of each operation the outputs need as the trace did (the
    interval functions of ``OPS``, a product of one root clamped by its sign), raising Unprovable before
    anything is written, then runs the plan's ufuncs on the arrays and the ``n_temps`` scratch arrays.
    ``numbers``: the trace's, each operation's operands with None for its Bounded ones."""
    env: dict[str, Any] = {"L": LIMIT, "U": Unprovable, "magnitude": magnitude}
    ok = "if not (-L <= {l} <= {h} <= L): raise U('a bound is not well inside the finite range')"
    bufs = [f"x{j}" for j in range(n_leaves)] + [f"s{j}" for j in range(n_temps)]
    lines = ["def run(arrays, bounds, numbers, scratch):",
             f"    {', '.join(bufs[:n_leaves])}, = arrays",
             f"    {''.join(f'l{j}, h{j}, ' for j in range(n_leaves - 1))}= bounds",
             f"    l{n_leaves - 1}, h{n_leaves - 1} = magnitude(x{n_leaves - 1})"]
    lines += ["    " + ok.format(l=f"l{j}", h=f"h{j}") for j in range(n_leaves)]
    calls, where = [], {j: j for j in range(n_leaves)}  # node -> the slot of its buffer
    for k, ufunc, refs, slot in steps:
        op, _, sign = sig[k]
        env[f"b{k}"], env[f"u{k}"] = OPS[op][1], ufunc
        ends, args = [], []
        for i, r in enumerate(refs):
            if r is None:
                lines.append(f"    n{k}_{i} = numbers[{k}][{i}]; f{k}_{i} = float(n{k}_{i})")
                ends += [f"f{k}_{i}"] * 2
                args.append(f"n{k}_{i}")
            else:
                ends += [f"l{r}", f"h{r}"]
                args.append(bufs[where[r]])
        lines.append(f"    l{k}, h{k} = b{k}({', '.join(ends)})")
        if sign:
            lines.append(f"    l{k} = max(l{k}, 0.0)" if sign > 0 else f"    h{k} = min(h{k}, 0.0)")
        lines.append("    " + ok.format(l=f"l{k}", h=f"h{k}"))
        where[k] = slot
        calls.append(f"    u{k}({', '.join(args)}, out={bufs[slot]})")
    if n_temps:
        lines.append(f"    {', '.join(bufs[n_leaves:])}, = scratch")
    lines += calls
    state = "".join(f"{bufs[s]}, " for s in out_slots[1:])
    lines.append(f"    return ({bufs[out_slots[0]]}, ({state})), [{', '.join(f'l{o}, h{o}' for o in outs)}]")
    exec("\n".join(lines), env)  # (generated from the plan alone: no user text)
    run: Any = _QUIET(env["run"])
    run.plan, run.n_temps = (steps, n_temps, out_slots), n_temps  # (plan: what it runs, for reading it)
    run.kept = [j for j in range(n_temps) if n_leaves + j not in out_slots]
    run.source = "\n".join(lines)
    return cast(Callable, run)
