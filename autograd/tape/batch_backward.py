"""The backward half of a batch program: each group's gradient, then what it sends to its inputs.

:class:`BackwardText` writes, in reverse group order, each group's partials times its gradient and
adds them into the gradients of the slots the group read (a layer's as matrix products: ``dh1 =
W_layers_1 @ dz2``); a gradient written once is made by that write, and ``grad`` starts empty when
every parameter's first write sets it.
"""

from __future__ import annotations

import re
from typing import Any

from .arrays import SymStack
from .batch_slots import SlotText
from .exprs import atom, makes_new_array, runs, shared_parts
from .schedule import Group
from .symbols import Sym, literal, render

__all__ = ["BackwardText"]


class BackwardText(SlotText):
    """The backward lines of a batch program (see :mod:`~autograd.tape.batchgen` for the forward)."""

    def needs(self, c: int) -> bool:
        return self.s.needs[c] and self.s.loc[c][0] != "const"

    def seeds(self) -> None:
        for s in self.rec.seeded:
            if not self.needs(s):
                continue
            sp, r = self.s.loc[s]
            one = "scale" if self.varies(sp) else "B * scale"  # the seed: d(scale * sum)/d(output)
            gv, shape = self.grad_var(sp), "(1, B)" if self.varies(sp) else "1"
            full = f"{gv} = np.full({shape}, {one})" if type(sp) is int and self.size(sp) == 1 else None
            self.add_write(sp, f"{gv}[{r}] {self.grad_op(sp, [r])} {one}", full)

    def add_write(self, space: Any, add: str, assign: str | None) -> None:
        """A write into ``space``'s gradient: ``add`` adds into it; ``assign`` (None: cannot) makes it.
        A group's first write is settled by :meth:`make_gradient`, once every write into it is known."""
        self.writes[space] = self.writes.get(space, 0) + 1
        if (type(space) is int or space == "X") and space not in self.first:
            self.first[space] = (len(self.lines), add, assign)
        self.lines.append(f"    {add}")

    def make_gradient(self, gi: int | str) -> None:
        """Group ``gi``'s (or the inputs', ``"X"``) first write, once every write into it is known (its
        consumers, later in the schedule, have all written): the only write makes the gradient; so does
        a first one that makes a new array (a product, not a name or a view, which later writes must not
        add into, nor a caller of the program get); else the gradient starts at zero."""
        if gi not in self.first:
            return
        i, add, assign = self.first[gi]
        # (the inputs' gradient is returned: made only as a new array, never a view of another)
        if assign is not None and ((self.writes[gi] == 1 and gi != "X") or makes_new_array(assign.split(" = ", 1)[1])):
            self.lines[i] = f"    {assign}"
        elif gi == "X":
            self.lines[i] = f"    dX = np.zeros(({self.rec.n_inputs}, B))\n    {add}"
        else:
            g = self.s.groups[gi]
            self.lines[i] = f"    d{g.name} = np.zeros({f'({g.k}, B)' if g.vary else g.k})\n    {add}"

    def backward(self, gi: int) -> None:
        g = self.s.groups[gi]
        self.make_gradient(gi)
        # (a group that no gradient reaches, or whose inputs need none, still evaluates its partials:
        # where eager's backward fails, sqrt at 0, the batch must fail too)
        reached = gi in self.writes
        wanted = [j for j in range(len(g.slots)) if reached and any(self.needs(c) for c in g.slots[j])]
        G = "d" + g.name
        if self.careful:
            self.lines.append(f"    _bi = {gi}")
        if id(g) in self.layers:
            if reached:
                self.layer_backward(g, G)
        elif id(g) in self.generic:
            p = self.const("p", g.op.checked_partials)
            self.lines.append(f"    _ds = {p}(nb, {g.name}, {self.generic[id(g)]})")
            if self.careful:
                self.lines.append(f"    _check({gi}, locals(), _ds)")
            for j in wanted:
                self.scatter(g, f"{G} * _ds[{j}]", [j])
        else:
            self.rule_backward(gi, g, G, wanted)

    def rule_backward(self, gi: int, g: Group, G: str, wanted: list[int]) -> None:
        ds = self.partials[id(g)]
        if self.careful or not wanted:
            whole = ds.array if isinstance(ds, SymStack) else Sym("tuple", "", tuple(ds))
            self.lines.append(f"    _ds = {render(whole, self.hoist(whole, set()))}")
            if self.careful:
                self.lines.append(f"    _check({gi}, locals(), _ds)")
            if not wanted:
                return
        # the contributions, computed in both variants alike
        trees = [ds[j] for j in wanted if type(ds[j]) is Sym]
        names = {}
        keys = shared_parts(trees, [])
        for t in trees:
            names.update(self.hoist(t, keys))
        for run, d in runs(ds, wanted):
            if type(d) is not Sym:
                if d == 0.0:
                    continue
                c = G if d == 1.0 else f"{G} * {literal(d)}"
                if 1 < len(run) <= 4:
                    for j in run:  # the same contribution for each position
                        self.scatter(g, c, [j])
                    continue
                if len(run) > 1:
                    shape = f"{len(run)}, {g.k}, B" if g.vary else f"{len(run)}, {g.k}"
                    c = f"np.broadcast_to({c}, ({shape}))"
            else:
                c = render(Sym("op", "*", (Sym.name(G), d)), names)
            self.scatter(g, c, run)

    def layer_backward(self, g: Group, G: str) -> None:
        w_text, view, w_slots, x_text, x_slots, b_text = self.layers[id(g)]
        flat_w = [c for row in w_slots for c in row]
        if any(self.needs(c) for c in flat_w):
            dw = "d" + w_text
            if view:  # a view of theta: its gradient, the same view of grad
                # a transposed view (a neuron's weights side by side in theta) takes x dzᵀ computed as
                # (dz xᵀ)ᵀ, in its memory order: a copy across the orders would cost as much as the product
                product = f"({G} @ {x_text}.T).T" if view.endswith(".T") else f"{x_text} @ {G}.T"
                # the first write into these rows sets them: adding into a strided view costs a read
                op = self.grad_op("theta", [self.s.loc[c][1] for c in flat_w])
                once = sum(layer[1] == view for layer in self.layers.values()) == 1
                if op == "=" and once and view.endswith(".T"):
                    # the only write, and dz xᵀ's rows are the untransposed view's: BLAS writes them there
                    self.lines.append(f"    np.matmul({G}, {x_text}.T, out=grad{view[5:-2]})  # {dw}ᵀ, in place")
                else:
                    self.lines.append(f"    {dw} = {product}")
                    self.lines.append(f"    grad{view[5:]}[...] {op} {dw}")
            else:
                self.lines.append(f"    {dw} = {x_text} @ {G}.T")
                self.scatter_flat(g, f"{dw}.reshape(-1)", flat_w, vary=False)
        if any(self.needs(c) for c in x_slots):
            self.scatter_flat(g, f"{w_text} @ {G}", x_slots, vary=True)
        if b_text is not None:
            b_slots = g.slots[-1]
            if any(self.needs(c) for c in b_slots):
                invariant = not g.pat[-1]
                self.scatter_flat(g, f"{G}.sum(axis=1)" if invariant else G, b_slots, vary=not invariant)

    def grad_op(self, space: Any, rows: list[int], can_set: bool = True) -> str:
        """``=`` for a write into ``grad``'s (distinct) ``rows`` that no earlier write reached (grad
        then need not start at zero for them), else ``+=`` (any other gradient: see :meth:`add_write`)."""
        if space != "theta":
            return "+="
        reached = self.grad_rows[rows]
        self.grad_rows[rows] = True
        if can_set and not reached.any():
            return "="
        self.grad_zeroed = self.grad_zeroed or not reached.all()
        return "+="

    def scatter(self, g: Group, c: str, positions: list[int]) -> None:
        """Contributions ``c`` (positions x k [x B], or k [x B] for one position) into the gradients of
        the slots those positions read."""
        flat = [s for j in positions for s in g.slots[j]]
        if len(positions) > 1:
            c = f"({c}).reshape({len(flat)}, B)" if g.vary else f"({c}).reshape(-1)"
        self.scatter_flat(g, c, flat, vary=g.vary)

    def scatter_flat(self, g: Group, c: str, slots: list[int], vary: bool) -> None:
        """Add row ``i`` of ``c`` into the gradient of ``slots[i]``, rows read by several summed."""
        import numpy as np

        by: dict[Any, tuple[list, list]] = {}
        for i, s in enumerate(slots):
            if self.needs(s):
                sp, r = self.s.loc[s]
                by.setdefault(sp, ([], []))[0].append(i)
                by[sp][1].append(r)
        if not by:
            return
        whole = list(range(len(slots)))
        if not re.fullmatch(r"\w+", c) and (len(by) > 1 or any(idx != whole for idx, _ in by.values())):
            self.temps += 1
            t = f"_c{self.temps}"
            self.lines.append(f"    {t} = {c}")
            c = t
        for sp, (idx, rows) in by.items():
            part = c if idx == whole else self.rows(c, idx, len(slots), keep=True)
            if vary and not self.varies(sp):
                part = f"{atom(part)}.sum(axis=-1)"  # a parameter's gradient: summed over the samples
            gv = self.grad_var(sp)
            n = self.size(sp)
            if len(rows) > 1 and len(set(rows)) == 1:
                whole_var = f"{gv} = {atom(part)}.sum(axis=0, keepdims=True)" if n == 1 else None
                self.add_write(sp, f"{gv}[{rows[0]}] {self.grad_op(sp, rows[:1])} {atom(part)}.sum(axis=0)", whole_var)
            elif len(set(rows)) == len(rows):
                target = self.rows(gv, rows, n, keep=True)
                assign = f"{gv} = {part}" if target == gv else None
                op = self.grad_op(sp, rows)
                where = "[...]" if op == "=" and target == gv else ""  # into grad, not a new name for part
                self.add_write(sp, f"{target}{where} {op} {part}", assign)
            else:
                self.grad_op(sp, rows, can_set=False)
                ix = self.const("i", np.array(rows, dtype=np.intp))
                self.add_write(sp, f"np.add.at({gv}, {ix}, {part})", None)
