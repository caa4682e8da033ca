"""The schedule of a batch program: a tape's nodes grouped into a few array operations.

Nodes are grouped by (depth, op, fan-in, which inputs vary per sample); each group becomes one
evaluation of the op's rules over arrays of shape (nodes, B), so a batch costs a few numpy calls
per group, not per node.  Identical nodes (the same op of the same slots, constants compared by
value) are computed once.  Where each slot's value lives — a row of the inputs ``X``, an entry of
the parameters ``theta``, a constant, or a row of a group's output — is :attr:`Schedule.loc`; the
generator (:mod:`~autograd.tape.batchgen`) writes the program from it.
"""

from __future__ import annotations

from typing import Any

from ..ops import built_in
from .trace import Recording

__all__ = ["Schedule", "Group", "layer_sides"]


class Group:
    """Nodes of one op at one depth: ``slots[j]`` lists, per node, the slot its input ``j`` reads."""

    __slots__ = ("op", "nodes", "k", "pat", "vary", "slots", "name")

    def __init__(self, op: Any, nodes: list[int], pat: tuple, slots: list[list[int]]) -> None:
        self.op, self.nodes, self.k, self.pat, self.slots = op, nodes, len(nodes), pat, slots
        self.vary = any(pat)  # its values differ per sample (else one number per node)
        self.name = ""  # its array's name in the program, chosen by the generator


class Schedule:
    """The groups of one recording, in an order where each comes after the groups it reads."""

    def __init__(self, rec: Recording, input_grads: bool = True) -> None:
        self.rec = rec
        n_in, n_p, first, n = rec.n_inputs, len(rec.params), rec.first_node, rec.n_slots
        vary = [True] * n_in + [False] * (n - n_in)
        needs = [input_grads] * n_in + [True] * n_p + [False] * (n - n_in - n_p)
        depth = [0] * n
        # Identical nodes are computed once: a duplicate's slot stands for its original's.
        canon = list(range(n))
        by_value: dict[str, int] = {}
        for c in range(n_in + n_p, first):
            canon[c] = by_value.setdefault(rec.consts[c - n_in - n_p].hex(), c)  # hex: -0.0 and nan stay apart
        seen: dict[tuple, int] = {}
        groups: dict[tuple, list[int]] = {}
        for i in range(rec.n_nodes):
            s = first + i
            ps = tuple(canon[p] for p in rec.parents(i))
            original = seen.setdefault((rec.codes[i], ps), s)
            if original != s:
                canon[s] = original
                continue
            pat = tuple(vary[p] for p in ps)
            vary[s] = any(pat)
            needs[s] = any(needs[p] for p in ps)
            depth[s] = 1 + max((depth[p] for p in ps), default=0)
            groups.setdefault((depth[s], rec.codes[i], len(ps), pat), []).append(i)
        self.canon = canon
        self.vary = [vary[c] for c in canon]
        self.needs = [needs[c] for c in canon]
        self.groups: list[Group] = []
        # where each slot lives: ("X", row), ("theta", i), ("const", value) or (group index, row)
        loc: list[Any] = [("X", s) for s in range(n_in)] + [("theta", i) for i in range(n_p)]
        loc += [("const", c) for c in rec.consts] + [None] * rec.n_nodes
        for (_, code, r, pat), nodes in sorted(groups.items(), key=lambda kv: kv[0][0]):
            slots = [[canon[rec.parents(i)[j]] for i in nodes] for j in range(r)]
            for row, i in enumerate(nodes):
                loc[first + i] = (len(self.groups), row)
            self.groups.append(Group(rec.ops[code], nodes, pat, slots))
        self.loc = [loc[canon[s]] for s in range(n)]


def layer_sides(g: Group) -> Any:
    """(invariant side, varying side) of a ``dot`` group that is one matrix product: weights the
    same for every sample times an input row shared by all its nodes (a layer), or None."""
    r = len(g.slots)
    n = r // 2
    if g.op.name != "dot" or not built_in(g.op) or n == 0 or not g.vary:
        return None
    sides = (range(0, n), range(n, 2 * n))
    pats = [{g.pat[j] for j in side} for side in sides]
    if any(len(p) != 1 for p in pats) or pats[0] == pats[1]:
        return None
    inv, var = (0, 1) if pats[1] == {True} else (1, 0)
    if not all(len(set(g.slots[j])) == 1 for j in sides[var]):
        return None
    return sides[inv], sides[var]
