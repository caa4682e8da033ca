"""The batch program as source: a tape's schedule written as straight-line numpy, forward then backward.

Each group of the :class:`~autograd.tape.schedule.Schedule` becomes a line or two: the op table's
rules evaluated on symbols that stand for arrays (:data:`~autograd.tape.arrays.ASYM`), so a layer of
neurons reads ``z1 = W_layers_0.T @ X[0:2] + b_layers_0[:, None]`` and its backward ``dW_layers_0 =
X[0:2] @ dz1.T``, the matrix-form backpropagation of the lectures.  Ops that are not the table's own
(a user's ``defop``, or one replaced) are called as they are, on the numpy backend.  Sub-expressions
that a group's partials share with its forward rule (logsumexp's shifted exps) are computed once.

``program(X, theta, grad)`` takes the inputs as rows of ``X`` (n_inputs, B) and the parameters as
``theta`` and returns (outputs (n_outputs, B), input gradients or None, parameter gradients or None).
The careful variant also calls ``_check`` after every group, to find the sample where a value or a
partial is not finite (see :mod:`~autograd.tape.batch`).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from ..backends import NAMES  # the backend functions a rule may call: each a call by this name in the code
from ..ops import built_in
from .arrays import ASYM, Lane, SymStack, finite_backend, forget, full
from .exprs import atom, common_label, expr_key, makes_new_array, post_order, run_step, runs, shared_parts, short
from .schedule import Group, Schedule, layer_sides
from .symbols import Sym, literal, render

__all__ = ["generate_batch"]

_RESERVED = set(NAMES) | set(keyword.kwlist) | {"np", "nb", "X", "theta", "grad", "B", "dX", "inf", "nan",
                                                 "program", "None", "True", "False"}


def generate_batch(sched: Schedule, careful: bool = False) -> tuple[str, dict]:
    """Source of ``program(X, theta, grad)`` for ``sched``, and the namespace it runs in."""
    try:
        return _Writer(sched, careful).write()
    finally:
        forget()


class _Writer:
    def __init__(self, sched: Schedule, careful: bool) -> None:
        self.s, self.rec, self.careful = sched, sched.rec, careful
        self.ns: dict[str, Any] = {}
        self.used = set(_RESERVED)
        self.lines: list[str] = []
        self.back: list[Any] = []  # backward entries: a line, or a write into a gradient (see _write)
        self.writes: dict[Any, int] = {}  # gradient -> number of writes
        self.layer = 0
        self.full: set[str] = set()  # texts of arrays with one row per node (and a column per sample)
        self.temps = 0
        self.shared: dict[str, str] = {}  # rendered sub-expression -> temp holding it (forward's, for partials)
        self.layers: dict[int, Any] = {}  # id of a layer group -> its blocks (for its backward)
        self.views: dict[str, str] = {}  # weight block -> the view of theta it is
        self.grad_rows: Any = None  # per parameter: whether a write into grad has reached it (backward order)
        self.grad_zeroed = False  # whether grad must start at zero (some row's first write adds)
        self.generic: dict[int, str] = {}  # id of a group whose rule is called as it is -> its arguments
        self.partials: dict[int, Any] = {}  # id of a group -> its partials on symbols

    # --- names ---------------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        base = re.sub(r"\W+", "_", base).strip("_") or "v"
        base = "_" + base if base[0].isdigit() else base
        name, k = base, 2
        while name in self.used or "d" + name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.update((name, "d" + name))
        return name

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
            return var
        if not keep and m > 1 and len(set(rows)) == 1:
            return f"{var}[{rows[0]}]"  # one row for every node: it broadcasts
        step = run_step(rows)
        if step:
            stop = rows[0] + step * (m - 1) + 1
            return f"{var}[{rows[0]}:{stop}" + (f":{step}]" if step > 1 else "]")
        import numpy as np

        return f"{var}[{self.const('i', np.array(rows, dtype=np.intp))}]"

    def gather(self, slots: list[int], keep: bool) -> tuple[str, bool]:
        """The values of ``slots`` as one array text, and whether it has a row per slot."""
        import numpy as np

        locs = [self.s.loc[c] for c in slots]
        if all(sp == "const" for sp, _ in locs):
            vals = [v for _, v in locs]
            if not keep and len({literal(v) for v in vals}) == 1:
                return literal(vals[0]), False
            return self.const("k", np.array(vals, dtype=float)), True
        runs: list[tuple[Any, list]] = []
        for sp, r in locs:
            if runs and runs[-1][0] == sp:
                runs[-1][1].append(r)
            else:
                runs.append((sp, [r]))
        if len(runs) == 1:
            sp, rows = runs[0]
            text = self.rows(self.var(sp), rows, self.size(sp), keep)
            return text, keep or len(set(rows)) > 1 or len(rows) == 1
        parts = [self.const("k", np.array(rows, dtype=float)) if sp == "const"
                 else self.rows(self.var(sp), rows, self.size(sp), True) for sp, rows in runs]
        return f"np.concatenate(({', '.join(parts)},))", True

    def arg(self, g: Group, j: int, keep: bool) -> str:
        """Input ``j`` of group ``g``: (k, B) for a varying group, a parameter's (k, 1) beside it."""
        text, full = self.gather(g.slots[j], keep)
        if g.vary and not g.pat[j] and full:
            text = f"{text}[:, None]"
        elif full:
            self.full.add(text)
        return text

    # --- forward ---------------------------------------------------------------------------------------
    def write(self) -> tuple[str, dict]:
        import numpy as np

        from .arrays import numpy_backend

        rec = self.rec
        self.name_groups()
        n_in, n_p = rec.n_inputs, len(rec.params)
        head = ["def program(X, theta, backward=True):",
                f'    """X: ({n_in}, B) inputs {short(rec.input_names)}; theta: {n_p} parameters."""',
                "    B = X.shape[1]"]
        for gi, g in enumerate(self.s.groups):
            if self.careful:
                self.lines.append(f"    _gi = {gi}")
            self.group(gi, g)
            self.full.add(g.name)
            if self.careful:
                self.lines.append(f"    _check({gi}, locals())")
        self.lines += self.outputs()
        self.lines.append("    if not backward:\n        return _outs, None, None")
        self.lines.append("    # backward: each group's gradient, then what it sends to its inputs")
        make_grad = len(self.lines)
        self.lines.append("")
        self.grad_rows = np.zeros(n_p, dtype=bool)
        if any(self.s.needs[:n_in]):
            self.lines.append(f"    dX = np.zeros(({n_in}, B))")
        self.seeds()
        for gi in reversed(range(len(self.s.groups))):
            self.backward(gi)
        self.flush_backward()
        # every parameter's first write sets it: grad needs no zeros
        zeroed = self.grad_zeroed or not self.grad_rows.all()
        self.lines[make_grad] = f"    grad = np.{'zeros' if zeroed else 'empty'}({n_p})"
        dx = "dX" if any(self.s.needs[:n_in]) else "None"
        self.lines.append(f"    return _outs, {dx}, grad")
        nb = numpy_backend()
        ns = dict(self.ns, np=np, nb=nb, inf=float("inf"), nan=float("nan"), _full=full,
                  **{f: getattr(nb, f) for f in NAMES})
        if not self.careful:
            ns.update(finite_backend(np))
        return "\n".join(head + self.lines) + "\n", ns

    def name_groups(self) -> None:
        counts: dict[str, int] = {}
        for g in self.s.groups:
            if layer_sides(g) is not None:
                self.layer += 1
                g.name = self.fresh(f"z{self.layer}")
                continue
            first: Any = self.s.loc[g.slots[0][0]] if g.slots else (None, 0)
            src = self.s.groups[first[0]] if type(first[0]) is int else None
            rows = [self.s.loc[c] for c in g.slots[0]] if g.slots else []
            if (g.op.arity == 1 and src is not None and src.name[:1] == "z" and src.name[1:].isdigit()
                    and rows == [(first[0], r) for r in range(src.k)]):  # an activation of a whole layer
                g.name = self.fresh("h" + src.name[1:])
                continue
            counts[g.op.name] = counts.get(g.op.name, 0) + 1
            g.name = self.fresh(f"{g.op.name}{counts[g.op.name]}")

    def group(self, gi: int, g: Group) -> None:
        sides = layer_sides(g)
        if sides is not None and self.layer_forward(g, sides):
            return
        self.rule_forward(g)

    def layer_forward(self, g: Group, sides: Any) -> bool:
        """A layer: ``z = W.T @ x + b[:, None]``, from dot's rule given the weights and the inputs as
        lanes of two blocks (its sumprod is then their matrix product)."""
        inv, var = sides
        n = len(inv)
        w_text = self.weights(g, inv, g.name[1:])
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
        try:
            out = g.op.forward(ASYM, *args)
            ds = g.op.checked_partials(ASYM, Sym.name(g.name), *args)
        except Exception:  # noqa: BLE001 - not the rule the table declared: the generic path
            return False
        lanes_w, lanes_x = lanes[:n], lanes[n:]
        if list(ds[:n]) != lanes_x or list(ds[n:2 * n]) != lanes_w or (b_text and ds[-1] != 1.0):
            return False
        self.lines.append(f"    {g.name} = {render(out)}")
        g_slots = {"w": (w_text, [g.slots[j] for j in inv]), "x": (x_text, [g.slots[j][0] for j in var])}
        self.layers[id(g)] = (g_slots, b_text)
        return True

    def weights(self, g: Group, inv: range, layer: str) -> str:
        """The (n, k) block of a layer's weights: a view of ``theta`` when they are evenly spaced."""
        slots = [g.slots[j] for j in inv]
        n, k = len(slots), g.k
        locs = [[self.s.loc[c] for c in row] for row in slots]
        text = None
        if all(sp == "theta" for row in locs for sp, _ in row):
            idx = [[r for _, r in row] for row in locs]
            r0 = idx[0][0]
            a = idx[1][0] - r0 if n > 1 else 1
            b = idx[0][1] - r0 if k > 1 else n
            regular = all(idx[j][i] == r0 + a * j + b * i for j in range(n) for i in range(k))
            n_p = len(self.rec.params)
            if regular and a == 1 and b >= n and r0 + b * k <= n_p:
                text = f"theta[{r0}:{r0 + b * k}].reshape({k}, {b})" + (f"[:, :{n}]" if b > n else "") + ".T"
            elif regular and b == 1 and a >= k and r0 + a * n <= n_p:
                text = f"theta[{r0}:{r0 + a * n}].reshape({n}, {a})" + (f"[:, :{k}]" if a > k else "")
        if text is None:
            flat, _ = self.gather([c for row in slots for c in row], keep=True)
            text = f"{flat}.reshape({n}, {k})"
        name = self.fresh("W_" + common_label(self.rec, [c for row in slots for c in row], layer))
        self.lines.append(f"    {name} = {text}")
        self.views[name] = text
        return name

    def rule_forward(self, g: Group) -> None:
        """A group through its op's rules: on symbols for the table's own ops (readable numpy), else
        the rule called on the numpy backend (a user's op)."""
        if built_in(g.op):
            try:
                self.symbolic_forward(g)
                return
            except Exception:  # noqa: BLE001 - a rule the symbols cannot follow: called as it is
                pass
        args = self.inputs(g, keep=True)
        f = self.const("f", g.op.forward_on)  # a rule written for floats only is named when it meets arrays
        a = ", ".join(f"*{render(x.array)}" if isinstance(x, SymStack) else x for x in args)
        shape = f"({g.k}, B)" if g.vary else f"({g.k},)"
        self.lines.append(f"    {g.name} = _full({f}(nb, {a}), {shape})")
        self.generic[id(g)] = a

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
                name = self.fresh(f"{g.name}_in" if len(starts) == 2 else f"{g.name}_in{len(blocks) + 1}")
                shape = f"{b - a}, {g.k}" + (", B" if g.pat[a] else ", 1" if g.vary else "")
                self.lines.append(f"    {name} = {flat}.reshape({shape})")
                if g.pat[a] or not g.vary:
                    self.full.add(name)
                blocks.append(SymStack(Sym.name(name), b - a))
            return blocks
        return [self.arg(g, j, keep) for j in range(r)]

    def symbolic_forward(self, g: Group) -> None:
        mark = len(self.lines)
        args = self.inputs(g, keep=False)
        syms = [x for block in args for x in block] if args and isinstance(args[0], SymStack) else \
            [Sym.name(a) for a in args]
        try:
            out = g.op.forward_on(ASYM, *syms, on="symbols")
            ds = g.op.checked_partials(ASYM, Sym.name(g.name), *syms, on="symbols")
        except Exception:
            del self.lines[mark:]
            raise
        hoisted = shared_parts([out], list(ds) + ([ds.array] if isinstance(ds, SymStack) else []))
        names = self.hoist(out, hoisted)
        text = render(out, names)
        if not self.is_full(out):
            text = f"_full({text}, ({g.k}, B))" if g.vary else f"_full({text}, ({g.k},))"
        self.lines.append(f"    {g.name} = {text}")
        self.partials[id(g)] = ds

    def hoist(self, tree: Any, keys: set[str], into: list[str] | None = None) -> dict:
        """Temps for the sub-expressions of ``tree`` whose text is in ``keys`` (parts first), and
        for those already computed (:attr:`shared`): the names to render ``tree`` with."""
        lines = self.lines if into is None else into
        names: dict = {}
        for x in post_order(tree):
            key = expr_key(x)
            if key in self.shared:
                names[id(x)] = self.shared[key]
            elif key in keys:
                self.temps += 1
                t = f"_t{self.temps}"
                lines.append(f"    {t} = {render(x, names)}")
                self.shared[key] = names[id(x)] = t
        return names

    def is_full(self, tree: Any) -> bool:
        return any(x.kind == "name" and x.text in self.full for x in post_order(tree) if type(x) is Sym) or \
            (type(tree) is Sym and tree.kind == "op" and tree.text == "@")

    def outputs(self) -> list[str]:
        rec = self.rec
        lines = [f"    _outs = np.empty(({len(rec.outputs)}, B))"]
        runs: list[list] = []
        for i, s in enumerate(rec.outputs):
            sp, r = self.s.loc[s]
            if runs and runs[-1][1] == sp and sp != "const" and runs[-1][2][-1] == r - 1:
                runs[-1][2].append(r)
                continue
            runs.append([i, sp, [r]])
        for i, sp, rows in runs:
            if sp == "const":
                text = literal(rows[0])
            elif len(rows) == 1:
                text = f"{self.var(sp)}[{rows[0]}]"
            else:
                text = self.rows(self.var(sp), rows, self.size(sp), keep=True)
                if not self.varies(sp):
                    text += "[:, None]"
            where = f"{i}" if len(rows) == 1 else f"{i}:{i + len(rows)}"
            lines.append(f"    _outs[{where}] = {text}")
        return lines

    # --- backward ------------------------------------------------------------------------------------
    def needs(self, c: int) -> bool:
        return self.s.needs[c] and self.s.loc[c][0] != "const"

    def seeds(self) -> None:
        for s in self.rec.seeded:
            if not self.needs(s):
                continue
            sp, r = self.s.loc[s]
            one = "1.0" if self.varies(sp) else "B"
            gv = self.grad_var(sp)
            full = None
            if type(sp) is int and self.size(sp) == 1:
                full = f"{gv} = np.ones((1, B))" if self.varies(sp) else f"{gv} = np.full(1, float(B))"
            op = self.grad_op([r]) if sp == "theta" else "+="
            self.add_write(sp, f"{gv}[{r}] {op} {one}", full)

    def add_write(self, space: Any, add: str, assign: str | None) -> None:
        """A write into ``space``'s gradient: ``add`` adds into it; ``assign`` (None: cannot) makes it,
        used when it is the only write (the gradient is then not zeroed first)."""
        self.writes[space] = self.writes.get(space, 0) + 1
        self.back.append((space, add, assign))

    def flush_backward(self) -> None:
        made: set = set()
        for entry in self.back:
            if type(entry) is str:
                self.lines.append(entry)
                continue
            space, add, assign = entry
            if type(space) is int and space not in made:
                made.add(space)
                # the only write makes the gradient; so does a first one that makes a new array (a
                # product, not a name or a view, which later writes must not add into)
                if assign is not None and (self.writes[space] == 1 or makes_new_array(assign.split(" = ", 1)[1])):
                    self.lines.append(f"    {assign}")
                    continue
                g = self.s.groups[space]
                shape = f"({g.k}, B)" if g.vary else f"{g.k}"
                self.lines.append(f"    d{g.name} = np.zeros({shape})")
            self.lines.append(f"    {add}")

    def backward(self, gi: int) -> None:
        g = self.s.groups[gi]
        # (a group that no gradient reaches, or whose inputs need none, still evaluates its partials:
        # where eager's backward fails, sqrt at 0, the batch must fail too)
        reached = gi in self.writes
        wanted = [j for j in range(len(g.slots)) if reached and any(self.needs(c) for c in g.slots[j])]
        G = "d" + g.name
        if self.careful:
            self.back.append(f"    _bi = {gi}")
        if id(g) in self.layers:
            if reached:
                self.layer_backward(g, G)
        elif id(g) in self.generic:
            p = self.const("p", g.op.checked_partials)
            self.back.append(f"    _ds = {p}(nb, {g.name}, {self.generic[id(g)]})")
            if self.careful:
                self.back.append(f"    _check({gi}, locals(), _ds)")
            for j in wanted:
                self.scatter(g, f"{G} * _ds[{j}]", [j])
        else:
            self.rule_backward(gi, g, G, wanted)

    def rule_backward(self, gi: int, g: Group, G: str, wanted: list[int]) -> None:
        ds = self.partials[id(g)]
        lines: list[str] = []
        if self.careful or not wanted:
            names = self.hoist(ds.array if isinstance(ds, SymStack) else Sym("tuple", "", tuple(ds)), set(), lines)
            text = render(ds.array, names) if isinstance(ds, SymStack) else \
                "(" + ", ".join(render(d, names) for d in ds) + ",)"
            self.back += lines + [f"    _ds = {text}"] + ([f"    _check({gi}, locals(), _ds)"] if self.careful else [])
            if not wanted:
                return
            lines = []  # then the contributions, computed as the fast variant computes them
        trees = [ds[j] for j in wanted if type(ds[j]) is Sym]
        names = {}
        keys = shared_parts(trees, [])
        for t in trees:
            names.update(self.hoist(t, keys, lines))
        self.back += lines
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
        blocks, b_text = self.layers[id(g)]
        (w_text, w_slots), (x_text, x_slots) = blocks["w"], blocks["x"]
        flat_w = [c for row in w_slots for c in row]
        if any(self.needs(c) for c in flat_w):
            dw = "d" + w_text
            view = self.views.get(w_text, "")
            span = re.match(r"theta\[(\d+):(\d+)\]\.reshape", view)
            if span:  # a view of theta: its gradient, the same view of grad
                # a transposed view (a neuron's weights side by side in theta) takes x dzᵀ computed as
                # (dz xᵀ)ᵀ, in its memory order: a copy across the orders would cost as much as the product
                product = f"({G} @ {x_text}.T).T" if view.endswith(".T") else f"{x_text} @ {G}.T"
                self.back.append(f"    {dw} = {product}")
                # the first write into these rows sets them: adding into a strided view costs a read
                op = self.grad_op([self.s.loc[c][1] for c in flat_w])
                self.back.append(f"    grad{view[5:]}[...] {op} {dw}")
            else:
                self.back.append(f"    {dw} = {x_text} @ {G}.T")
                self.scatter_flat(g, f"{dw}.reshape(-1)", flat_w, vary=False)
        if any(self.needs(c) for c in x_slots):
            self.scatter_flat(g, f"{w_text} @ {G}", x_slots, vary=True)
        if b_text is not None:
            b_slots = g.slots[-1]
            if any(self.needs(c) for c in b_slots):
                invariant = not g.pat[-1]
                self.scatter_flat(g, f"{G}.sum(axis=1)" if invariant else G, b_slots, vary=not invariant)

    def grad_op(self, rows: list[int], can_set: bool = True) -> str:
        """``=`` for a write into ``grad``'s (distinct) ``rows`` that no earlier write reached (grad
        then need not start at zero for them), else ``+=``."""
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
            c = f"({c}).reshape(-1, B)" if g.vary else f"({c}).reshape(-1)"
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
            self.back.append(f"    {t} = {c}")
            c = t
        for sp, (idx, rows) in by.items():
            part = c if idx == whole else self.rows(c, idx, len(slots), keep=True)
            if vary and not self.varies(sp):
                part = f"{atom(part)}.sum(axis=-1)"  # a parameter's gradient: summed over the samples
            gv = self.grad_var(sp)
            n = self.size(sp)
            if len(rows) > 1 and len(set(rows)) == 1:
                whole_var = f"{gv} = {atom(part)}.sum(axis=0, keepdims=True)" if n == 1 else None
                op = self.grad_op(rows[:1]) if sp == "theta" else "+="
                self.add_write(sp, f"{gv}[{rows[0]}] {op} {atom(part)}.sum(axis=0)", whole_var)
            elif len(set(rows)) == len(rows):
                target = self.rows(gv, rows, n, keep=True)
                assign = f"{gv} = {part}" if target == gv else None
                op = self.grad_op(rows) if sp == "theta" else "+="
                self.add_write(sp, f"{target} {op} {part}", assign)
            else:
                if sp == "theta":
                    self.grad_op(rows, can_set=False)
                ix = self.const("i", np.array(rows, dtype=np.intp))
                self.add_write(sp, f"np.add.at({gv}, {ix}, {part})", None)
