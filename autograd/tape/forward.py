"""Forward mode over a recording: values and tangents in one pass, reading the op table's partials.

The tape's counterpart of :func:`autograd.jvp`: node by node in recorded order, each node's value
is its forward rule and its tangent ``Σ_i partial_i · tangent(parent_i)``.  :func:`generate_jvp`
writes this as straight-line Python with the rules evaluated on the symbolic backend (what a
replay runs); :func:`replay_jvp` interprets it on floats, to name the node where the code failed.
Both perform the float operations eager ``jvp`` performs, so the results agree.  Captured
parameters and constants have no tangent.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from ..errors import call_text, names
from .symbols import NAMESPACE, SYM, Sym, render
from .trace import MATH_ERRORS, Recording

__all__ = ["generate_jvp", "replay_jvp", "check_tangents"]


def check_tangents(rec: Recording, name: str, tangents: Any) -> list[float]:
    """The tangents as floats, one per input of the recording, or an error in one line."""
    where = f"tape.jvp of {name}"
    if not isinstance(tangents, (list, tuple)) or len(tangents) != rec.n_inputs:
        raise TypeError(f"{where}: tangents must be a sequence of {rec.n_inputs} number(s), one per input "
                        f"({names(rec.input_names)}), got {type(tangents).__name__} {tangents!r:.60}")
    out = []
    for t, nm in zip(tangents, rec.input_names):
        if not isinstance(t, numbers.Real) or isinstance(t, bool):
            raise TypeError(f"{where}: the tangent of input {nm!r} must be a real number, got "
                            f"{type(t).__name__} {t!r:.60}")
        out.append(float(t))
    return out


def generate_jvp(rec: Recording) -> tuple[str, dict]:
    """Source of ``jvp(*inputs, *tangents) -> (outputs, output tangents)`` for ``rec``, and its namespace."""
    n_in, first = rec.n_inputs, rec.first_node
    sym: dict[int, Any] = {s: Sym.name(f"x{s}") for s in range(n_in)}
    sym.update((n_in + i, Sym.name(f"p{i}")) for i in range(len(rec.params)))
    sym.update((n_in + len(rec.params) + i, c) for i, c in enumerate(rec.consts))  # literals
    tan: dict[int, Any] = {s: Sym.name(f"dx{s}") for s in range(n_in)}  # slots without one are constant
    args = ", ".join([f"x{s}" for s in range(n_in)] + [f"dx{s}" for s in range(n_in)])
    lines = [f"def jvp({args}):"] + [f"    p{i} = params[{i}].data" for i in range(len(rec.params))]
    for i in range(rec.n_nodes):
        op = rec.ops[rec.codes[i]]
        ps = rec.parents(i)
        ins = [sym[p] for p in ps]
        expr = op.forward_on(SYM, *ins, on="symbols")
        if type(expr) is Sym:
            lines.append(f"    t{i} = {render(expr)}")
            expr = Sym.name(f"t{i}")
        sym[first + i] = expr  # a folded constant stays a number
        if any(p in tan for p in ps):
            ds = op.checked_partials(SYM, expr, *ins, on="symbols")
            # x * 1.0 is x exactly; the terms are added left to right, as the eager sweep adds them
            terms = [tan[p] if type(d) is float and d == 1.0 else tan[p] * d for p, d in zip(ps, ds) if p in tan]
            lines.append(f"    dt{i} = {render(SYM.sum(terms))}")  # a long sum becomes one sum() call
            tan[first + i] = Sym.name(f"dt{i}")
    outs = ", ".join(render(sym[s]) for s in rec.outputs)
    touts = ", ".join(render(tan[s]) if s in tan else "0.0" for s in rec.outputs)
    lines.append(f"    return ({outs},), ({touts},)")
    return "\n".join(lines) + "\n", dict(NAMESPACE, params=rec.params)


def replay_jvp(rec: Recording, inputs: Sequence[float], tangents: Sequence[float]) -> tuple[list, list]:
    """(output values, output tangents) of the recording at ``inputs`` in the direction ``tangents``."""
    vals: list[float] = [*inputs, *(p.data for p in rec.params), *rec.consts]
    tans: list[float | None] = [*tangents] + [None] * (len(rec.params) + len(rec.consts))  # None: constant
    first = rec.first_node
    for i in range(rec.n_nodes):
        op = rec.ops[rec.codes[i]]
        ps = rec.parents(i)
        xs = [vals[p] for p in ps]
        out = op.float_forward(*xs, where=rec.where(first + i))
        vals.append(out)
        t = None
        if any(tans[p] is not None for p in ps):
            try:
                ds = op.float_partials(out, *xs)
            except MATH_ERRORS as e:
                raise type(e)(f"{rec.where(first + i)}: the derivative of {call_text(op, xs)} is undefined here") \
                    from None
            t = 0.0
            for p, d in zip(ps, ds):
                tp = tans[p]
                if tp is not None:
                    t += tp * d
        tans.append(t)
    outs = [vals[s] for s in rec.outputs]
    return outs, [0.0 if tans[s] is None else tans[s] for s in rec.outputs]
