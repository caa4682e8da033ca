"""The batch program as source: a tape's schedule written as straight-line numpy, forward then backward.

Each group of the :class:`~autograd.tape.schedule.Schedule` becomes a line or two: the op table's
rules evaluated on symbols that stand for arrays (:data:`~autograd.tape.arrays.ASYM`), so a layer of
neurons reads ``z1 = W_layers_0.T @ X[0:2] + b_layers_0[:, None]`` and its backward ``dW_layers_0 =
(dz1 @ X[0:2].T).T`` (x dzᵀ, in the memory order of the weights in ``theta``: see
:mod:`~autograd.tape.batch_backward`), the matrix-form backpropagation of the lectures.  Ops that
are not the table's own (a user's ``defop``, or one replaced) are called as they are, on the numpy
backend.  Sub-expressions that a group's partials share with its forward rule (logsumexp's shifted
exps) are computed once.

``program(X, theta, backward, scale)`` takes the inputs as rows of ``X`` (n_inputs, B) and the
parameters as ``theta`` and returns (outputs (n_outputs, B), input gradients or None, parameter
gradients or None), the gradients those of ``scale`` times the sum over the samples (the seed of
the backward pass: 1/B makes them the mean's).
The careful variant also calls ``_check`` after every group, to find the sample where a value or a
partial is not finite (see :mod:`~autograd.tape.batch`).
"""

from __future__ import annotations

import re
from typing import Any

from ..backends import NAMES
from ..ops import built_in
from .arrays import ASYM, Lane, SymStack, finite_backend, full
from .batch_backward import BackwardText
from .exprs import common_label, on_finite, shared_parts, short
from .schedule import Group, Schedule, layer_sides
from .symbols import Sym, literal, render

__all__ = ["generate_batch"]


def generate_batch(sched: Schedule, careful: bool = False) -> tuple[str, dict, bool]:
    """Source of ``program(X, theta, backward, scale)`` for ``sched``, the namespace it runs in, and whether
    it reads ``X`` whole (else only by rows: ``X[a]``, ``X[a:b]``..., which
    :class:`~autograd.tape.rowblocks.RowBlocks` answers without stacking its blocks)."""
    return _Writer(sched, careful).write()


class _Writer(BackwardText):
    """The whole program: the forward lines, then :class:`BackwardText`'s."""

    def write(self) -> tuple[str, dict, bool]:
        import numpy as np

        from .arrays import numpy_backend

        rec = self.rec
        self.name_groups()
        n_in, n_p = rec.n_inputs, len(rec.params)
        head = ["def program(X, theta, backward=True, scale=1.0):",
                f'    """X: ({n_in}, B) inputs {short(rec.input_names)}; theta: {n_p} parameters; gradients of '
                f'scale * the outputs\' sum."""',
                "    B = X.shape[1]"]
        for gi, g in enumerate(self.s.groups):
            if self.careful:
                self.lines.append(f"    _gi = {gi}")
            sides = layer_sides(g)
            if sides is not None:
                self.layer_forward(g, *sides)
            else:
                self.rule_forward(g)
            self.full.add(g.name)
            if self.careful:
                self.lines.append(f"    _check({gi}, locals())")
        self.lines += self.outputs()
        self.lines.append("    if not backward:\n        return _outs, None, None")
        self.lines.append("    # backward: each group's gradient, then what it sends to its inputs")
        make_grad = len(self.lines)
        self.lines.append("")
        self.grad_rows = np.zeros(n_p, dtype=bool)
        dx = "dX" if any(self.s.needs[:n_in]) else "None"
        self.seeds()
        for gi in reversed(range(len(self.s.groups))):
            self.backward(gi)
        if dx == "dX":
            self.make_gradient("X")
            if "X" not in self.first:  # (no write reaches the inputs)
                self.lines.append(f"    dX = np.zeros(({n_in}, B))")
        # every parameter's first write sets it: grad needs no zeros
        zeroed = self.grad_zeroed or not self.grad_rows.all()
        self.lines[make_grad] = f"    grad = np.{'zeros' if zeroed else 'empty'}({n_p})"
        self.lines.append(f"    return _outs, {dx}, grad")
        nb = numpy_backend()
        ns = dict(self.ns, np=np, nb=nb, inf=float("inf"), nan=float("nan"), _full=full,
                  **{f: getattr(nb, f) for f in NAMES})
        if not self.careful:
            ns.update(finite_backend(np))
        return "\n".join(head + self.lines) + "\n", ns, self.x_whole

    def name_groups(self) -> None:
        counts: dict[str, int] = {}
        layers: dict[int, int] = {}  # index of a layer's group -> its number
        for gi, g in enumerate(self.s.groups):
            src = self.s.loc[g.slots[0][0]][0] if g.slots else None
            if layer_sides(g) is not None:
                layers[gi] = len(layers) + 1
                g.name = self.fresh(f"z{layers[gi]}")
            elif g.op.arity == 1 and src in layers and \
                    [self.s.loc[c] for c in g.slots[0]] == [(src, r) for r in range(self.s.groups[src].k)]:
                g.name = self.fresh(f"h{layers[src]}")  # an activation of a whole layer
            else:
                counts[g.op.name] = counts.get(g.op.name, 0) + 1
                g.name = self.fresh(f"{g.op.name}{counts[g.op.name]}")

    def layer_forward(self, g: Group, inv: range, var: range) -> None:
        """A layer: ``z = W.T @ x + b[:, None]``, from dot's rule given the weights and the inputs as
        lanes of two blocks (its sumprod is then their matrix product, its partials the other lanes)."""
        n = len(inv)
        w_text, w_view = self.weights(g, inv, g.name[1:])
        x_text, _ = self.gather([g.slots[j][0] for j in var], keep=True)
        if not re.fullmatch(r"[\w\[\]:]+", x_text):
            x_name = self.fresh("x" + g.name[1:])
            self.lines.append(f"    {x_name} = {x_text}")
            x_text = x_name
        product = Sym("op", "@", (Sym.name(f"{w_text}.T"), Sym.name(x_text)))
        lanes = [Lane(product) for _ in range(2 * n)]  # each weight, then each input: a position of a block
        args: list[Any] = list(lanes)
        b_text = None
        if len(g.slots) % 2:
            b_text = self.arg(g, 2 * n, keep=True)
            if g.pat[2 * n] is False and b_text.endswith("[:, None]") and "theta" in b_text:
                b_name = self.fresh("b" + w_text[1:] if w_text.startswith("W") else "b")
                self.lines.append(f"    {b_name} = {b_text[:-len('[:, None]')]}")
                b_text = f"{b_name}[:, None]"
            args.append(Sym.name(b_text))
        out = g.op.forward(ASYM, *args)
        ds = g.op.rule(ASYM, Sym.name(g.name), *args)  # the table's own dot: checked here
        assert list(ds) == lanes[n:] + lanes[:n] + ([1.0] if b_text else []), "dot's rule is not a matrix product"
        self.lines.append(f"    {g.name} = {render(out)}")
        w_slots, x_slots = [g.slots[j] for j in inv], [g.slots[j][0] for j in var]
        self.layers[id(g)] = (w_text, w_view, w_slots, x_text, x_slots, b_text)

    def weights(self, g: Group, inv: range, layer: str) -> tuple[str, str | None]:
        """The (n, k) block of a layer's weights: its name, and the view of ``theta`` it is when they are
        evenly spaced there (else None: a copy)."""
        slots = [g.slots[j] for j in inv]
        n, k = len(slots), g.k
        locs = [[self.s.loc[c] for c in row] for row in slots]
        text = view = None
        if all(sp == "theta" for row in locs for sp, _ in row):
            idx = [[r for _, r in row] for row in locs]
            r0 = idx[0][0]
            a = idx[1][0] - r0 if n > 1 else 1
            b = idx[0][1] - r0 if k > 1 else n
            regular = all(idx[j][i] == r0 + a * j + b * i for j in range(n) for i in range(k))
            n_p = len(self.rec.params)
            if regular and a == 1 and b >= n and r0 + b * k <= n_p:
                text = view = f"theta[{r0}:{r0 + b * k}].reshape({k}, {b})" + (f"[:, :{n}]" if b > n else "") + ".T"
            elif regular and b == 1 and a >= k and r0 + a * n <= n_p:
                text = view = f"theta[{r0}:{r0 + a * n}].reshape({n}, {a})" + (f"[:, :{k}]" if a > k else "")
        if text is None:
            flat, _ = self.gather([c for row in slots for c in row], keep=True)
            text = f"{flat}.reshape({n}, {k})"
        name = self.fresh("W_" + common_label(self.rec, [c for row in slots for c in row], layer))
        self.lines.append(f"    {name} = {text}")
        return name, view

    def rule_forward(self, g: Group) -> None:
        """A group through its op's rules: on symbols for the table's own ops (readable numpy), else
        the rule called on the numpy backend (a user's op)."""
        shape = f"({g.k}, B)" if g.vary else f"({g.k},)"
        if not built_in(g.op):
            args = self.inputs(g, keep=True)
            f = self.const("f", g.op.forward_on)  # a rule written for floats only is named when it meets arrays
            a = ", ".join(f"*{render(x.array)}" if isinstance(x, SymStack) else x for x in args)
            self.lines.append(f"    {g.name} = _full({f}(nb, {a}), {shape})")
            self.generic[id(g)] = a
            return
        args = self.inputs(g, keep=False)
        syms = [x for block in args for x in block] if args and isinstance(args[0], SymStack) else \
            [Sym.name(a) for a in args]
        out = g.op.forward_on(ASYM, *syms, on="symbols")
        ds = g.op.checked_partials(ASYM, Sym.name(g.name), *syms, on="symbols")
        if not self.careful:  # the fast variant: every value finite
            out = on_finite(out)
            if isinstance(ds, SymStack):
                on_finite(ds.array)  # in place: its rows read it
            else:
                ds = tuple(on_finite(d) if type(d) is Sym else d for d in ds)
        self.partials[id(g)] = ds
        shared = shared_parts([out], list(ds) + ([ds.array] if isinstance(ds, SymStack) else []))  # logsumexp's exps
        text = render(out, self.hoist(out, shared))
        self.lines.append(f"    {g.name} = {text if self.is_full(out) else f'_full({text}, {shape})'}")

    def inputs(self, g: Group, keep: bool) -> Any:
        """The group's inputs: one array per position, or (n-ary ops) a few blocks of positions, one
        for each run of positions read from one place (a dot of masks and logits: two blocks)."""
        r = len(g.slots)
        if g.op.arity is None and r > 1:
            where = [(self.s.loc[g.slots[j][0]][0], g.pat[j]) for j in range(r)]
            starts = [j for j in range(r) if j == 0 or where[j] != where[j - 1]] + [r]
            blocks: list[SymStack] = []
            for a, b in zip(starts, starts[1:]):
                flat, _ = self.gather([c for pos in g.slots[a:b] for c in pos], keep=True)
                shape = f"{b - a}, {g.k}" + (", B" if g.pat[a] else ", 1" if g.vary else "")
                text = f"{flat}.reshape({shape})"
                name = self.blocks.get(text)
                if name is None:  # (a block another group read already: its name)
                    name = self.blocks[text] = self.fresh(f"{g.name}_in" if len(starts) == 2 else
                                                          f"{g.name}_in{len(blocks) + 1}")
                    self.lines.append(f"    {name} = {text}")
                if g.pat[a] or not g.vary:
                    self.full.add(name)
                blocks.append(SymStack(Sym.name(name), b - a))
            return blocks
        return [self.arg(g, j, keep) for j in range(r)]

    def outputs(self) -> list[str]:
        lines = [f"    _outs = np.empty(({len(self.rec.outputs)}, B))"]
        runs: list[list] = []  # [first output, place, rows]: outputs that are consecutive rows of one place
        for i, s in enumerate(self.rec.outputs):
            sp, r = self.s.loc[s]
            if runs and runs[-1][1] == sp != "const" and runs[-1][2][-1] == r - 1:
                runs[-1][2].append(r)
            else:
                runs.append([i, sp, [r]])
        for i, sp, rows in runs:
            if len(rows) == 1:
                text = literal(rows[0]) if sp == "const" else f"{self.var(sp)}[{rows[0]}]"
                lines.append(f"    _outs[{i}] = {text}")
            else:
                text = self.rows(self.var(sp), rows, self.size(sp), keep=True)
                lines.append(f"    _outs[{i}:{i + len(rows)}] = {text}" + ("" if self.varies(sp) else "[:, None]"))
        return lines
