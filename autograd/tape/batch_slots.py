"""What a batch program's writer keeps, and how it names arrays and reads slots as array text.

:class:`SlotText` is the base of the writer (:mod:`~autograd.tape.batchgen`): the names it gives
(fresh ones, constants in the namespace, a group's array and its gradient) and the text of a list of
slots (a node's value, a parameter, a constant): the whole array, a slice, an index array or a
concatenation.
"""

from __future__ import annotations

import re
from itertools import groupby
from operator import itemgetter
from typing import Any

from ..backends import NAMES  # the backend functions a rule may call: each a call by this name in the code
from .exprs import expr_key
from .schedule import Group, Schedule
from .symbols import RESERVED as SYMBOL_NAMES
from .symbols import Sym, literal, post_order, render, unique_name

__all__ = ["SlotText", "RESERVED"]

RESERVED = SYMBOL_NAMES | set(NAMES) | {"np", "nb", "X", "theta", "grad", "B", "dX", "program"}


class SlotText:
    """A batch program being written: its lines, names and namespace, and the text of slots."""

    def __init__(self, sched: Schedule, careful: bool) -> None:
        self.s, self.rec, self.careful = sched, sched.rec, careful
        self.ns: dict[str, Any] = {}
        self.used = set(RESERVED)
        self.lines: list[str] = []
        self.writes: dict[Any, int] = {}  # gradient -> number of writes
        self.first: dict[int, tuple] = {}  # group -> its gradient's first write: (line, add, assign)
        self.full: set[str] = set()  # texts of arrays with one row per node (and a column per sample)
        self.temps = 0
        self.shared: dict[str, str] = {}  # rendered sub-expression -> temp holding it (forward's, for partials)
        self.blocks: dict[str, str] = {}  # text of an n-ary group's block of inputs -> its name
        # id of a layer group -> (weights' name, their text, slots, input's text, slots, bias's text)
        self.layers: dict[int, tuple] = {}
        self.grad_rows: Any = None  # per parameter: whether a write into grad has reached it (backward order)
        self.grad_zeroed = False  # whether grad must start at zero (some row's first write adds)
        self.generic: dict[int, str] = {}  # id of a group whose rule is called as it is -> its arguments
        self.partials: dict[int, Any] = {}  # id of a group -> its partials on symbols
        self.x_whole = False  # whether the program reads its inputs X whole (a matrix product's operand), not by rows

    # --- names ---------------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        return unique_name(re.sub(r"\W+", "_", base).strip("_") or "v", self.used, "d")

    def const(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def var(self, space: Any) -> str:
        return space if type(space) is str else self.s.groups[space].name

    def grad_var(self, space: Any) -> str:
        return {"X": "dX", "theta": "grad"}.get(space) or "d" + self.var(space)

    def size(self, space: Any) -> int:
        if space == "X":
            return self.rec.n_inputs
        return len(self.rec.params) if space == "theta" else self.s.groups[space].k

    def varies(self, space: Any) -> bool:
        return space == "X" or (type(space) is int and self.s.groups[space].vary)

    # --- reading slots ---------------------------------------------------------------------------------
    def rows(self, var: str, rows: list[int], n: int, keep: bool) -> str:
        """``var``'s rows ``rows`` (of ``n``): the whole array, a slice, or an index array; with
        ``keep=False`` a row read by all (a layer's shared input) is that row alone."""
        m = len(rows)
        if rows == list(range(n)):
            self.x_whole = self.x_whole or var == "X"
            return var
        if not keep and m > 1 and len(set(rows)) == 1:
            return f"{var}[{rows[0]}]"  # one row for every node: it broadcasts
        step = rows[1] - rows[0] if m > 1 else 1
        if step >= 1 and all(b - a == step for a, b in zip(rows, rows[1:])):  # evenly spaced: a slice
            stop = rows[0] + step * (m - 1) + 1
            return f"{var}[{rows[0]}:{stop}" + (f":{step}]" if step > 1 else "]")
        import numpy as np

        return f"{var}[{self.const('i', np.array(rows, dtype=np.intp))}]"

    def gather(self, slots: list[int], keep: bool) -> tuple[str, bool]:
        """The values of ``slots`` as one array text, and whether it has a row per slot."""
        import numpy as np

        # runs of slots in one place: (place, its rows), a constant's rows being its values
        locs = (self.s.loc[c] for c in slots)
        runs = [(sp, [r for _, r in run]) for sp, run in groupby(locs, key=itemgetter(0))]
        sp, rows = runs[0]
        if len(runs) == 1 and sp == "const" and not keep and len({literal(v) for v in rows}) == 1:
            return literal(rows[0]), False
        parts = [self.const("k", np.array(rows, dtype=float)) if sp == "const"
                 else self.rows(self.var(sp), rows, self.size(sp), keep or len(runs) > 1) for sp, rows in runs]
        if len(runs) == 1:
            return parts[0], sp == "const" or keep or len(set(rows)) > 1 or len(rows) == 1
        return f"np.concatenate(({', '.join(parts)},))", True

    def arg(self, g: Group, j: int, keep: bool) -> str:
        """Input ``j`` of group ``g``: (k, B) for a varying group, a parameter's (k, 1) beside it."""
        text, full = self.gather(g.slots[j], keep)
        if g.vary and not g.pat[j] and full:
            text = f"{text}[:, None]"
        elif full:
            self.full.add(text)
        return text

    # --- sub-expressions -------------------------------------------------------------------------------
    def hoist(self, tree: Any, keys: set[str]) -> dict:
        """Temps for the sub-expressions of ``tree`` whose text is in ``keys`` (parts first), and
        for those already computed (:attr:`shared`): the names to render ``tree`` with."""
        names: dict = {}
        for x in post_order(tree):
            key = expr_key(x)
            if key in self.shared:
                names[id(x)] = self.shared[key]
            elif key in keys:
                self.temps += 1
                t = f"_t{self.temps}"
                self.lines.append(f"    {t} = {render(x, names)}")
                self.shared[key] = names[id(x)] = t
        return names

    def is_full(self, tree: Any) -> bool:
        return any(x.kind == "name" and x.text in self.full for x in post_order(tree) if type(x) is Sym) or \
            (type(tree) is Sym and tree.kind == "op" and tree.text == "@")
