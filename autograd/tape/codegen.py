"""Code generation: a tape as straight-line Python, forward then backward, one line per node.

Each line is the op table's rule evaluated on the symbolic backend, so the source is the chain
rule unrolled, and running it performs the same float operations, in the same order, as the eager
engine's ``backward`` (results agree bit for bit, up to the sign of a zero).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from .symbols import NAMESPACE, RESERVED, SYM, Sym, literal, post_order, render, unique_name
from .trace import Recording

__all__ = ["generate"]

_NON_IDENT = re.compile(r"\W+")


class _Names:
    """Unique Python names, taken from labels where they make one."""

    def __init__(self) -> None:
        self.used: set[str] = set(RESERVED) | {"params"}

    def take(self, label: str, fallback: str) -> str:
        base = _NON_IDENT.sub("_", label).strip("_") if label else ""
        # Python folds identifiers to NFKC ("ℌ" is "H"): such a label could alias another name.
        if not base or unicodedata.normalize("NFKC", base) != base:
            base = fallback
        return unique_name(base, self.used, "g_")


def _cse(roots: list[Any]) -> list[Sym]:
    """Sub-expressions used more than once, in an order where each comes after its parts."""
    order = post_order(Sym("tuple", "", tuple(roots)))  # each node once, parts first
    uses = Counter(id(a) for x in order for a in x.args if type(a) is Sym)
    return [x for x in order if uses[id(x)] > 1 and x.kind not in ("name", "tuple")]


def _emit(lines: list[str], exprs: list[Any], temps: dict, counter: list[int]) -> None:
    for t in _cse(exprs):
        if id(t) in temps:
            continue
        name = f"_c{counter[0]}"  # labels never yield a name starting with "_" and a letter
        counter[0] += 1
        lines.append(f"    {name} = {render(t, temps)}")
        temps[id(t)] = name


def _slots(rec: Recording) -> tuple[dict[int, str], dict[int, Any]]:
    """(the variable name of each slot but the constants, the symbol of each slot: its name, or a
    constant's number, which the code writes as a literal)."""
    names = _Names()
    n_in, first = rec.n_inputs, rec.first_node
    slot_name: dict[int, str] = {}
    sym: dict[int, Any] = {}
    for s in range(n_in):
        slot_name[s] = names.take(rec.input_names[s], f"x{s}")
    for i in range(len(rec.params)):
        slot_name[n_in + i] = names.take(rec.labels.get(n_in + i, ""), f"p{i}")
    for i in range(rec.n_nodes):
        slot_name[first + i] = names.take(rec.labels.get(first + i, ""), f"t{i}")
    sym.update((n_in + len(rec.params) + i, c) for i, c in enumerate(rec.consts))  # constants are literals in the code
    sym.update((s, Sym.name(nm)) for s, nm in slot_name.items())
    return slot_name, sym


def _add_to_grads(bwd: list[str], contribs: list, g: Sym, temps: dict, slot_name: dict[int, str],
                  assigned: set[int]) -> None:
    """The lines adding each (parent slot, contribution) to the parent's gradient (``g_x = ...`` the
    first time, ``g_x += ...`` after; ``g * -1.0`` written as a subtraction of ``g``)."""
    for p, c in contribs:
        gp = "g_" + slot_name[p]
        if type(d := c) is Sym and d.kind == "op" and d.text == "*" and type(d.args[1]) is float \
                and d.args[1] == -1.0 and d.args[0] is g:
            c, sign = g, "-"
        else:
            sign = "+"
        text = render(c, temps)
        if p in assigned:
            bwd.append(f"    {gp} {sign}= {text}")
        else:
            bwd.append(f"    {gp} = {'-' if sign == '-' else ''}{text}")
            assigned.add(p)


def generate(rec: Recording, which: str = "both") -> tuple[str, dict]:
    """Source of ``forward(*inputs)`` and/or ``value_and_grad(*inputs)`` for ``rec``, and its namespace.

    ``which`` is ``"both"``, ``"forward"`` or ``"value_and_grad"``.
    """
    n_in, first = rec.n_inputs, rec.first_node
    slot_name, sym = _slots(rec)

    # needs_grad: a slot that depends on an input or a parameter (constants and their folds do not).
    needs = [s < first - len(rec.consts) for s in range(first)] + [False] * rec.n_nodes

    fwd: list[str] = []
    counter = [0]
    node_syms: list[tuple] = []
    for i in range(rec.n_nodes):
        s = first + i
        op = rec.ops[rec.codes[i]]
        ins = [sym[p] for p in rec.parents(i)]
        needs[s] = any(needs[p] for p in rec.parents(i))
        expr = op.forward_on(SYM, *ins, on="symbols")
        temps: dict = {}
        _emit(fwd, [expr], temps, counter)
        fwd.append(f"    {slot_name[s]} = {render(expr, temps)}")
        if type(expr) is not Sym:
            sym[s] = expr  # folded constant: later lines use the number itself
        node_syms.append((op, ins))

    args = ", ".join(slot_name[s] for s in range(n_in))
    head = [f"    {slot_name[n_in + i]} = params[{i}].data" for i in range(len(rec.params))]
    outs = [render(sym[s]) for s in rec.outputs]
    ret = outs[0] if rec.single else "(" + ", ".join(outs) + ",)"

    bwd: list[str] = []
    assigned: set[int] = set()
    seeded = rec.seeded
    for s in dict.fromkeys(seeded):
        if needs[s]:
            bwd.append(f"    g_{slot_name[s]} = {literal(seeded.count(s))}")
            assigned.add(s)
    for i in reversed(range(rec.n_nodes)):
        s = first + i
        if s not in assigned:
            continue  # no gradient reaches this node
        op, ins = node_syms[i]
        ds = op.checked_partials(SYM, sym[s], *ins, on="symbols")
        g = Sym.name("g_" + slot_name[s])
        contribs = [(p, g if type(d) is not Sym and d == 1.0 else g * d) for p, d in zip(rec.parents(i), ds)
                    if needs[p] and (type(d) is Sym or d != 0.0)]  # a partial 0.0 adds nothing
        temps = {}
        _emit(bwd, [c for _, c in contribs], temps, counter)
        _add_to_grads(bwd, contribs, g, temps, slot_name, assigned)

    grads_in = [f"g_{slot_name[s]}" if s in assigned else "0.0" for s in range(n_in)]
    tail = [f"    params[{i}].grad += g_{slot_name[n_in + i]}" for i in range(len(rec.params)) if n_in + i in assigned]
    forward = [f"def forward({args}):", *head, *fwd, f"    return {ret}"]
    vg = [f"def value_and_grad({args}):", "    # forward", *head, *fwd]
    vg += ["    # backward: the chain rule, node by node in reverse", *bwd, *tail]
    vg.append(f"    return {ret}, (" + ", ".join(grads_in) + ("," if len(grads_in) == 1 else "") + ")")
    if which == "forward":
        vg = []
    elif which == "value_and_grad":
        forward = []
    src = "\n".join(forward) + ("\n\n\n" if forward and vg else "") + "\n".join(vg) + "\n"
    return src, dict(NAMESPACE, params=rec.params)
