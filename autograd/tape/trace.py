"""Recording: run a function once on Values and flatten the graph it builds into a tape.

Like ``jax.jit``, tracing sees only the operations the example executes: Python ``if``/``for``
on ``.data`` pick one branch for good, and a number read from ``.data`` (``Value(x.data * 2)``)
becomes a constant.  Ops such as ``relu``, ``abs`` and ``maximum`` are recorded as ops, so they
stay right for every input; ``Tape(check=True)`` re-runs the function eagerly at each call and
raises :class:`TraceMismatch` when the graph differs from the recorded one.
"""

from __future__ import annotations

import inspect
import numbers
import struct
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..graph import topological_order
from ..modes import enable_grad
from ..value import Value

__all__ = ["Recording", "record", "replay_floats", "TraceMismatch", "input_names", "MATH_ERRORS"]

MATH_ERRORS = (ArithmeticError, ValueError)  # what a float rule raises where eager fails


class TraceMismatch(ValueError):
    """The function, run eagerly on these inputs, built a different graph than the traced one."""


@dataclass
class Recording:
    """A flat graph: slots are inputs, then captured Values, then constants, then op nodes.

    Node ``i`` (slot ``first_node + i``) applies ``ops[codes[i]]`` to the slots
    ``args[offsets[i]:offsets[i + 1]]``; all slot indices refer to earlier slots.
    """

    input_names: list[str]
    params: list[Value]
    consts: array  # 'd'
    ops: list
    codes: array  # 'H': index into ops, one per node
    offsets: array  # 'I': n_nodes + 1 offsets into args
    args: array  # 'I': parent slots, concatenated
    outputs: array  # 'I': output slots
    single: bool  # fn returned one Value (not a sequence)
    labels: dict  # slot -> label, only for labelled slots
    n_grad: int = -1  # outputs differentiated (the first n_grad); -1: all
    has_aux: bool = False  # fn returned (output, aux): outputs[1:] are aux, not differentiated

    @property
    def seeded(self) -> list[int]:
        """Output slots whose gradient value_and_grad computes (each seeded with 1)."""
        return list(self.outputs if self.n_grad < 0 else self.outputs[:self.n_grad])

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def first_node(self) -> int:
        return len(self.input_names) + len(self.params) + len(self.consts)

    @property
    def n_nodes(self) -> int:
        return len(self.codes)

    @property
    def n_slots(self) -> int:
        return self.first_node + len(self.codes)

    def parents(self, i: int) -> array:
        """Parent slots of node ``i``."""
        return self.args[self.offsets[i]:self.offsets[i + 1]]

    def slot_kind(self, s: int) -> str:
        """'input', 'param', 'const' or 'node'."""
        n_in, n_p = len(self.input_names), len(self.params)
        if s < n_in:
            return "input"
        if s < n_in + n_p:
            return "param"
        return "const" if s < self.first_node else "node"

    def where(self, slot: int) -> str:
        """How an error names the node of ``slot``: by its label, else by its number."""
        return f"tape node {self.labels[slot]!r}" if slot in self.labels else f"tape node t{slot - self.first_node}"


def input_names(fn: Callable, n: int) -> list[str]:
    """Names of ``fn``'s first ``n`` positional parameters (``x0, x1, ...`` when it has none)."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:n] if len(params) >= n else []
    return names or [f"x{i}" for i in range(n)]


def _as_float(x: Any, name: str) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"trace: input {name!r} must be a real number, got {type(x).__name__} {x!r:.60}")


def _outputs(out: Any, has_aux: bool) -> tuple[list[Value], bool]:
    """(the traced function's outputs as Values, aux after the output; whether it returned one)."""
    if has_aux:
        if not (isinstance(out, (list, tuple)) and len(out) == 2):
            raise TypeError("trace(has_aux=True): the function must return a pair (output, aux)")
        aux = out[1]
        out = [out[0], *(aux if isinstance(aux, (list, tuple)) else [aux])]
    single = not isinstance(out, (list, tuple))
    outs = [out] if single else list(out)
    if not outs:
        raise ValueError("trace: the function returned an empty sequence; it must return Values")
    for o in outs:
        if not isinstance(o, Value) and (not isinstance(o, numbers.Real) or isinstance(o, bool)):
            raise TypeError(f"trace: the function must return Values or real numbers, got {type(o).__name__} "
                            f"{o!r:.60}")
    return [o if isinstance(o, Value) else Value(float(o)) for o in outs], single


def record(fn: Callable, inputs: Sequence[Any], names: list[str] | None = None, has_aux: bool = False) -> Recording:
    """Run ``fn`` on fresh Values made from ``inputs`` and flatten the graph it returns.

    With ``has_aux`` ``fn`` returns ``(output, aux)``: only ``output`` is differentiated, ``aux``
    (a Value or a sequence of them) is carried along, e.g. a model's predictions beside its loss.
    """
    names = names or input_names(fn, len(inputs))
    start = Value(0.0)._seq  # every Value made from here on belongs to this trace
    xs = [Value(_as_float(x, nm), label=nm) for x, nm in zip(inputs, names)]
    with enable_grad():
        outs, single = _outputs(fn(*xs), has_aux)

    # Walk children before parents to keep only what the outputs need: a Value that existed before
    # tracing is a leaf of the tape (a parameter), whatever history it has.
    order = topological_order(outs, reverse=True)
    needed = {id(o) for o in outs}
    for v in order:
        if id(v) in needed and v.fn is not None and v._seq > start:
            needed.update(id(p) for p in v.parents)
    order.reverse()

    slot = {id(x): i for i, x in enumerate(xs)}
    params: list[Value] = []
    consts: list[Value] = []  # constant leaves; the recording keeps their numbers
    nodes: list[Value] = []
    labels = {i: x.label for i, x in enumerate(xs)}
    for v in order:
        if id(v) not in needed or id(v) in slot:
            continue
        if v._seq < start:
            params.append(v)
        elif v.fn is None:
            consts.append(v)
        else:
            nodes.append(v)
    slot.update((id(v), len(xs) + i) for i, v in enumerate(params + consts))
    first = len(xs) + len(params) + len(consts)
    fns = {id(v.fn): v.fn for v in nodes}  # each op once, in order of first use
    ops, code = list(fns.values()), {f: k for k, f in enumerate(fns)}
    codes, offsets, args = array("H", (code[id(v.fn)] for v in nodes)), array("I", [0]), array("I")
    for i, v in enumerate(nodes):
        slot[id(v)] = first + i
        args.extend(slot[id(p)] for p in v.parents)
        offsets.append(len(args))
    labels.update((slot[id(v)], v.label) for v in params + consts + nodes if v.label)
    return Recording(input_names=list(names), params=params, consts=array("d", (c.data for c in consts)), ops=ops,
                     codes=codes, offsets=offsets, args=args, outputs=array("I", (slot[id(o)] for o in outs)),
                     single=single, labels=labels, n_grad=1 if has_aux else -1, has_aux=has_aux)


def declared_rule(op: Any) -> Any:
    """The partials rule ``op`` was declared with (a bound op's too): which op it is, whatever its name."""
    return getattr(op.rule, "__wrapped__", op.rule)


def structure(rec: Recording) -> tuple:
    """Everything that makes two recordings the same graph (labels aside)."""
    # the constants' bit patterns: a NaN constant equals itself (nan != nan as a float); a replaced op is another op
    return (tuple(id(p) for p in rec.params), rec.consts.tobytes(),
            tuple((op.name, op.bound, id(declared_rule(op))) for op in rec.ops),
            tuple(rec.codes), tuple(rec.args), tuple(rec.outputs), rec.single, rec.n_grad)


def describe_difference(traced: Recording, now: Recording) -> str:
    """The first place where two recordings differ, in words."""
    if len(traced.params) != len(now.params):
        return f"it reads {len(now.params)} captured Values instead of the {len(traced.params)} traced"
    for i, (a, b) in enumerate(zip(traced.params, now.params)):
        if a is not b:
            return f"captured Value #{i} is {b!r} instead of the traced {a!r} (a different Value object)"
    if traced.consts.tobytes() != now.consts.tobytes():
        for i, (a, b) in enumerate(zip(traced.consts, now.consts)):
            if struct.pack("d", a) != struct.pack("d", b):
                return f"constant #{i} is {b!r} instead of the traced {a!r} (a number read from .data?)"
        return f"it uses {len(now.consts)} constants instead of {len(traced.consts)}"
    for i in range(min(traced.n_nodes, now.n_nodes)):
        a, b = traced.ops[traced.codes[i]], now.ops[now.codes[i]]
        if a.label != b.label or list(traced.parents(i)) != list(now.parents(i)):
            return (f"node #{i} is {b.label!r} of slots {list(now.parents(i))}, "
                    f"traced: {a.label!r} of {list(traced.parents(i))}")
        if declared_rule(a) is not declared_rule(b):
            return f"node #{i} is {b.label!r} as replaced since the trace (defop(..., replace=True))"
    if traced.n_nodes != now.n_nodes:
        return f"it has {now.n_nodes} nodes instead of the traced {traced.n_nodes}"
    return "its outputs differ"


def replay_floats(rec: Recording, inputs: Sequence[float], grad: bool, params: Sequence[float] | None = None,
                  where: str | None = None) -> None:
    """Replay node by node on floats, for the error the eager engine raises there (nothing is
    returned): it names the node, or ``where`` when given (a batch's sample).  ``params``: the
    parameters' values (default: each Value's ``.data``)."""
    vals = [*inputs, *(params if params is not None else [p.data for p in rec.params]), *rec.consts]
    first = rec.first_node
    at = rec.where if where is None else lambda slot: where
    for i in range(rec.n_nodes):
        vals.append(rec.ops[rec.codes[i]].float_forward(*[vals[p] for p in rec.parents(i)], where=at(first + i)))
    if not grad:
        return
    # backward's only failures are the partials' (adding their products into gradients cannot raise on floats)
    for i in reversed(range(rec.n_nodes)):
        s = first + i
        rec.ops[rec.codes[i]].float_partials(vals[s], *[vals[p] for p in rec.parents(i)], where=at(s))
