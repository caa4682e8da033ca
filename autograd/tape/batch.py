"""Batch evaluation: a tape over B samples at once, vectorised across nodes as well as samples.

Nodes are grouped by (depth, op, fan-in, which inputs vary per sample); a group's inputs are
gathered into stacked arrays and the op table's rules run once on the numpy backend, so a replay
costs a few numpy calls per group, not per node.  Values that vary per sample live in ``V``
(rows x B); parameters, constants and everything computed only from them live in ``I`` (one
number each) and broadcast.  ``dot`` groups pass their weights and inputs as lanes of two stacked
blocks, which the backend contracts in one matmul (a layer of neurons sharing one input vector) or
einsum; the partials the table returns (d/dw_i = x_i, d/dx_i = w_i) are contracted the same way.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any

from ..backends import FLOAT, Block, Lane, Stack, contract, numpy_backend
from ..errors import backward_error, forward_error
from .trace import Recording

_MATH_ERRORS = (ArithmeticError, ValueError)

__all__ = ["BatchPlan"]


def _ix(np: Any, rows: Any) -> Any:
    """An index for rows of V or I that is a view (no copy) whenever the rows allow: a slice for an
    evenly spaced run, (slice, shape) for a consecutive block, an :class:`_Affine` view for a block
    of evenly spaced runs (a layer's weights, one neuron's run after another); else an index array."""
    rows = np.asarray(rows, dtype=np.intp)
    flat = rows.ravel()
    if not flat.size:
        return rows
    r0 = int(flat[0])
    if rows.ndim == 1:
        step = int(flat[1] - flat[0]) if flat.size > 1 else 1
        if step >= 1 and (flat == r0 + step * np.arange(flat.size)).all():
            return slice(r0, r0 + step * (flat.size - 1) + 1, step)
        return rows
    if (flat == np.arange(r0, r0 + flat.size)).all():
        return slice(r0, r0 + flat.size), rows.shape
    if rows.ndim == 2 and rows.shape[0] > 1 and rows.shape[1] > 1:
        a, b = int(rows[1, 0] - r0), int(rows[0, 1] - r0)
        if a >= 1 and b >= 1 and (rows == r0 + a * np.arange(rows.shape[0])[:, None]
                                   + b * np.arange(rows.shape[1])[None, :]).all():
            return _Affine(r0, rows.shape, (a, b))
    return rows


class _Affine:
    """Rows ``r0 + a*i + b*j`` of an array as a strided view of shape (n, k, ...), without a copy."""

    __slots__ = ("r0", "shape", "steps")

    def __init__(self, r0: int, shape: tuple, steps: tuple) -> None:
        self.r0, self.shape, self.steps = r0, shape, steps

    def view(self, a: Any) -> Any:
        import numpy as np

        row = a.strides[0]
        strides = (row * self.steps[0], row * self.steps[1]) + a.strides[1:]
        if a.flags.c_contiguous:  # V, I and their gradients: a view straight onto the buffer (cheapest)
            return np.ndarray(self.shape + a.shape[1:], a.dtype, a, self.r0 * row, strides)
        return np.lib.stride_tricks.as_strided(a[self.r0:], shape=self.shape + a.shape[1:], strides=strides)


def _rows_of(np: Any, ix: Any) -> Any:
    """The rows an index made by :func:`_ix` reads, flat."""
    t = type(ix)
    if t is slice:
        return np.arange(ix.start, ix.stop, ix.step or 1)
    if t is tuple:
        return np.arange(ix[0].start, ix[0].stop)
    if t is _Affine:
        return (ix.r0 + ix.steps[0] * np.arange(ix.shape[0])[:, None]
                + ix.steps[1] * np.arange(ix.shape[1])[None, :]).ravel()
    return np.asarray(ix).ravel()


def _take(a: Any, ix: Any) -> Any:
    t = type(ix)
    if t is tuple:
        return a[ix[0]].reshape(ix[1] + a.shape[1:])
    return ix.view(a) if t is _Affine else a[ix]


class _Scatter:
    """Add contributions into rows ``targets`` of an array, duplicates summed.

    ``targets`` is 1-D (m nodes) or 2-D (n positions x k nodes); the contributions have that shape
    followed by the array's own trailing axes, or broadcast to it (the same for every position).
    Distinct targets that form a view (see :func:`_ix`) are added in place through it.  Duplicates
    of one row across a whole position (every node of a group reading the same value, a logsumexp
    beside each logit) are summed per position; other duplicates are sorted and summed in segments.
    """

    __slots__ = ("shape", "targets", "perm", "starts", "view", "shared", "rest", "rest_pos")

    def __init__(self, np: Any, targets: Any, shift: int = 0) -> None:
        targets = np.asarray(targets, dtype=np.intp) - shift
        flat = targets.ravel()
        self.shape = targets.shape
        self.perm = self.starts = self.rest = self.rest_pos = None
        self.shared: list[tuple[int, int]] = []
        self.view = False
        if len(np.unique(flat)) == len(flat):
            ix = _ix(np, targets)
            self.view = type(ix) is tuple or type(ix) is _Affine
            self.targets = ix if self.view or type(ix) is slice else flat
            return
        if targets.ndim == 2 and targets.shape[1] > 1:
            same = (targets == targets[:, :1]).all(axis=1)
            rest = np.flatnonzero(~same)
            rows = np.concatenate([targets[same, 0], targets[rest].ravel()])
            if same.any() and len(np.unique(rows)) == len(rows):  # then the parts touch distinct rows
                self.shared = [(int(i), int(targets[i, 0])) for i in np.flatnonzero(same)]
                if len(rest):
                    self.rest = _Scatter(np, targets[rest])
                    self.rest_pos = _ix(np, rest)
                return
        perm = np.argsort(flat, kind="stable")
        sorted_t = flat[perm]
        starts = np.flatnonzero(np.r_[True, sorted_t[1:] != sorted_t[:-1]])
        self.targets, self.starts = _ix(np, sorted_t[starts]), starts
        self.perm = None if (perm == np.arange(len(perm))).all() else perm

    def bind(self, np: Any, dest: Any, assign: bool) -> Any:
        """This scatter into the array ``dest`` as a function of the contributions, its view of
        ``dest`` taken once; ``assign``: the target rows are written here first, so the contributions
        are stored rather than added to zeros (no zeroing, one pass less)."""
        if self.view:
            v = _take(dest, self.targets)
            shape = v.shape

            def into_view(c: Any) -> None:
                if c.ndim != len(shape):
                    c = c.reshape(shape)
                if assign:
                    v[...] = c
                else:
                    np.add(v, c, out=v)
            return into_view
        full = self.shape + dest.shape[1:]
        if self.shared or self.rest is not None:
            shared = self.shared
            rest = self.rest.bind(np, dest, assign) if self.rest is not None else None
            rest_pos = self.rest_pos

            def per_position(c: Any) -> None:
                if c.shape != full:
                    c = np.broadcast_to(c, full)
                for i, t in shared:
                    if assign:
                        dest[t] = c[i].sum(axis=0)
                    else:
                        dest[t] += c[i].sum(axis=0)
                if rest is not None:
                    rest(c[rest_pos])
            return per_position
        targets, starts, perm, tail = self.targets, self.starts, self.perm, (-1,) + dest.shape[1:]

        def rows(c: Any) -> None:
            if c.shape != full:
                c = np.broadcast_to(c, full)
            c = c.reshape(tail)
            if starts is not None:
                c = np.add.reduceat(c if perm is None else c[perm], starts, axis=0)
            if assign:
                dest[targets] = c
            else:
                dest[targets] += c
        return rows

    def rows(self, np: Any) -> Any:
        """The rows this scatter writes (each once)."""
        if self.view:
            t = self.targets
            if type(t) is tuple:
                return np.arange(t[0].start, t[0].stop)
            return (t.r0 + t.steps[0] * np.arange(t.shape[0])[:, None]
                    + t.steps[1] * np.arange(t.shape[1])[None, :]).ravel()
        if self.shared or self.rest is not None:
            own = np.array([t for _, t in self.shared], dtype=np.intp)
            return own if self.rest is None else np.concatenate([own, self.rest.rows(np)])
        t = self.targets
        return np.arange(t.start, t.stop, t.step) if type(t) is slice else np.asarray(t).ravel()

    def __call__(self, np: Any, dest: Any, c: Any) -> None:
        if self.view:
            v = _take(dest, self.targets)
            v += c if c.ndim == v.ndim else c.reshape(v.shape)
            return
        full = self.shape + dest.shape[1:]
        if c.shape != full:
            c = np.broadcast_to(c, full)
        if self.shared or self.rest is not None:
            for i, t in self.shared:
                dest[t] += c[i].sum(axis=0)
            if self.rest is not None:
                self.rest(np, dest, c[self.rest_pos])
            return
        c = c.reshape((-1,) + dest.shape[1:])
        if self.starts is None:
            dest[self.targets] += c
        else:
            dest[self.targets] += np.add.reduceat(c if self.perm is None else c[self.perm], self.starts, axis=0)


def _contributions(np: Any, G: Any, ds: Any, js: list[int]) -> Any:
    """G times the partials at positions ``js``, shape (len(js), k[, B]), or (1, k[, B]) broadcasting
    when every one of them is 1 (a sum's): one multiply for a :class:`Stack` of partials."""
    one = [type(ds[j]) is float and ds[j] == 1.0 for j in js]
    if all(one):
        return G[None]
    if type(ds) is Stack:
        return G * (ds.array if len(js) == len(ds) else ds.array[js])
    cs = [G if o else G * ds[j] for j, o in zip(js, one)]
    return cs[0][None] if len(cs) == 1 else np.stack(cs)


def _shared(rows: Any) -> bool:
    """True when all k nodes (columns of ``rows``, n x k) read the same n slots, e.g. a layer's input."""
    return rows.shape[1] > 1 and bool((rows == rows[:, :1]).all())


class _Group:
    __slots__ = ("op", "nodes", "k", "vary", "out", "gout", "kind", "pos", "vidx", "iidx", "bw", "bx",
                 "lanes", "wsrc", "xsrc", "bias", "scatters", "n", "assign", "checked", "memo", "glink")
    op: Any
    nodes: Any
    k: Any
    vary: Any
    out: Any
    gout: Any
    kind: Any
    pos: Any
    vidx: Any
    iidx: Any
    bw: Any
    bx: Any
    lanes: Any
    wsrc: Any
    xsrc: Any
    bias: Any
    scatters: Any
    n: Any
    assign: Any  # per scatter: store (first write of its rows) rather than add
    checked: bool  # its partials' result validated (on the first fast replay)
    memo: bool | None  # the partials rule reuses the forward rule's results (None: not known yet)
    glink: Any  # per scatter: the group it hands its contributions to as that group's gradient, or None


def _identity(a: Any) -> Any:
    """What a remembered call's argument is compared by: the object itself (by identity, held by the
    memo so that the identity stays its own); a plain tuple or list by its items; a function (the
    ``f`` of ``each``) by its code and the objects its closure and defaults hold."""
    t = type(a)
    if t is tuple or t is list:
        return (t, *map(id, a))
    if t is FunctionType:
        try:
            cells = tuple(id(c.cell_contents) for c in a.__closure__ or ())
        except ValueError:  # an empty cell: never the same
            return id(a)
        return (a.__code__, cells, tuple(map(id, a.__defaults__ or ())), id(a.__kwdefaults__))
    return id(a)


def _freeze(r: Any) -> None:
    # a remembered result is shared by the forward and partials rules: neither may change it in place
    if type(r) is Stack:
        r.array.flags.writeable = False
        for row in r:
            row.flags.writeable = False
    elif hasattr(r, "flags"):
        r.flags.writeable = False


class _Memo:
    """The numpy backend, remembering what a group's forward rule computed for its partials rule,
    which often starts by computing the same (logsumexp's shifted exps): a call of the same function on
    the same objects returns the result it gave (read-only) instead of computing it again.  Rules are
    pure functions of their arguments and the arrays do not change within a replay, so a hit is the
    same result; a rule that changes a result in place (``s += ...``) fails on the read-only array on
    the group's first replay, which then turns remembering off for that group."""

    def __init__(self, nb: Any) -> None:
        self.cache: dict | None = None
        self.hits = 0
        self._depth = 0  # calls made from inside a remembered call (each's f) are not remembered
        for name, fn in vars(nb).items():
            setattr(self, name, self._remember(name, fn))

    def _remember(self, name: str, fn: Any) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            cache = self.cache
            if cache is None or self._depth or kw:
                return fn(*args, **kw)
            key = (name, *map(_identity, args))
            hit = cache.get(key)
            if hit is not None:
                self.hits += 1
                return hit[0]
            self._depth += 1
            try:
                r = fn(*args)
            finally:
                self._depth -= 1
            _freeze(r)
            cache[key] = (r, args)  # the arguments are kept: their identities stay unique
            return r
        return call


class _Bound:
    """The arrays of one batch size (V, I and their gradients, reused from replay to replay) and each
    group's forward and backward steps bound to views of them, worked out once: a replay is then a
    flat list of calls to the op table's rules and of numpy assignments."""

    __slots__ = ("B", "V", "Inv", "GV", "GI", "steps", "outs", "memo", "rebind", "cols", "vin", "cells", "gcells")

    def __init__(self, plan: BatchPlan, np: Any, nb: Any, B: int) -> None:
        self.B = B
        self.memo = _Memo(nb)
        # dot blocks that read inputs only take them from the caller's columns (no copy into V):
        # ``rebind(columns)`` for each, when the columns are another array than last time
        self.rebind: list = []
        self.cols: Any = None
        self.V = np.empty((plan.n_var, B))
        self.Inv = np.empty(plan.n_inv)
        self.GV = np.zeros((plan.n_var - plan.shift, B))
        self.GI = np.zeros(plan.n_inv)
        # each group's output at this replay (V's rows, or the rule's own array)
        self.cells: list[list[Any]] = [[None] for _ in plan.groups]
        # each group's gradient at this replay: V's gradient rows, or the array handed over by its reader
        self.gcells: list[list[Any]] = [[_take(self.GV if g.vary else self.GI, g.gout)] for g in plan.groups]
        self.steps = [plan._bind(np, nb, i, self) for i in range(len(plan.groups))]
        self.vin = self.V[:plan.rec.n_inputs]
        rec = plan.rec
        if all(plan.vary[s] for s in rec.outputs):
            self.outs = np.array([plan.row[s] for s in rec.outputs], dtype=np.intp)
        else:
            self.outs = None


class BatchPlan:
    """The grouped schedule of one recording (built once, replayed for any batch size)."""

    def __init__(self, rec: Recording, input_grads: bool = True) -> None:
        import numpy as np

        self.rec = rec
        n_in, n_p, n_c, first = rec.n_inputs, len(rec.params), len(rec.consts), rec.first_node
        n = rec.n_slots
        vary = [True] * n_in + [False] * (n_p + n_c) + [False] * rec.n_nodes
        needs = [input_grads] * n_in + [True] * n_p + [False] * n_c + [False] * rec.n_nodes
        depth = [0] * n
        groups: dict[tuple, list[int]] = {}
        # Identical nodes (same op of the same slots, constants compared by value) are computed once:
        # a duplicate's row is its original's, so the gradients its consumers send add up there.
        canon = list(range(n))
        by_value: dict[str, int] = {}
        for c in range(n_in + n_p, first):
            canon[c] = by_value.setdefault(rec.consts[c - n_in - n_p].hex(), c)  # hex: -0.0 and nan stay apart
        seen: dict[tuple, int] = {}
        dups: list[int] = []
        for i in range(rec.n_nodes):
            s = first + i
            ps = tuple(canon[p] for p in rec.parents(i))
            key = (rec.codes[i], ps)
            original = seen.get(key)
            if original is not None:
                canon[s] = original
                vary[s], needs[s], depth[s] = vary[original], needs[original], depth[original]
                dups.append(s)
                continue
            seen[key] = s
            pat = tuple(vary[p] for p in ps)
            vary[s] = any(pat)
            needs[s] = any(needs[p] for p in ps)
            depth[s] = 1 + max((depth[p] for p in ps), default=0)
            groups.setdefault((depth[s], rec.codes[i], len(ps), pat), []).append(i)
        ordered = sorted(groups.items(), key=lambda kv: kv[0][0])
        # Rows: inputs first in V, parameters then constants first in I, then each group's nodes
        # consecutively, so that a group's outputs (and often the next group's inputs) are slices.
        row = [0] * n
        nv, ni = n_in, n_p + n_c
        for s in range(n_in):
            row[s] = s
        for s in range(n_in, first):
            row[s] = s - n_in
        for _, nodes in ordered:
            for i in nodes:
                s = first + i
                if vary[s]:
                    row[s], nv = nv, nv + 1
                else:
                    row[s], ni = ni, ni + 1
        for s in dups:
            row[s] = row[canon[s]]
        self.n_var, self.n_inv = nv, ni
        self.shift = 0 if input_grads else n_in  # without input gradients, V's gradient skips them
        self.vary, self.row, self.needs = vary, row, needs
        self.consts = np.asarray(rec.consts, dtype=float)
        self._rows, self._needs = np.array(row, dtype=np.intp), np.array(needs, dtype=bool)
        self.groups = [self._group(np, key, idx) for key, idx in ordered]
        del self._rows, self._needs
        self._first_writes(np)
        self._inputs_read(np)
        self._links(np)
        self._pool: dict[int, list[_Bound]] = {}

    def _links(self, np: Any) -> None:
        """Which groups' outputs the fast replay need not copy into V: those read only as one whole
        block, in order (a layer's outputs by the next layer), which their readers then take from
        the array the rule returned (``_link``: source id -> producing group; ``_keep``: the
        groups whose outputs go into V)."""
        start = {}
        for i, g in enumerate(self.groups):
            if g.vary:
                start[g.out.start] = i
        owner = np.full(self.n_var, -1, dtype=np.intp)
        for i, g in enumerate(self.groups):
            if g.vary:
                owner[g.out] = i
        keep = [not g.vary for g in self.groups]
        self._link: dict[int, int] = {}

        def read(src: Any, ix: Any, linkable: bool) -> None:
            rows = _rows_of(np, ix)
            if not len(rows):
                return
            p = start.get(int(rows[0]), -1)
            if (linkable and p >= 0 and type(ix) is not np.ndarray and len(rows) == self.groups[p].k
                    and bool((rows == np.arange(rows[0], rows[0] + len(rows))).all())):
                self._link[id(src)] = p
                return
            for q in np.unique(owner[rows]):
                if q >= 0:
                    keep[q] = True

        for g in self.groups:
            if g.kind == "dot":
                for src in (g.wsrc, g.xsrc):
                    if src[0]:
                        read(src, src[1], True)
                if g.bias is not None and g.bias[0]:
                    read(g.bias, g.bias[1], False)
            elif g.vidx is not None:
                read(g, g.vidx, type(g.iidx) is not np.ndarray)
        for s in self.rec.outputs:
            if self.vary[s] and owner[self.row[s]] >= 0:
                keep[owner[self.row[s]]] = True
        self._keep = keep

    def _inputs_read(self, np: Any) -> None:
        """Which dot blocks read inputs only (``_direct``, by id of their source): the fast replay
        takes those from the caller's columns; the inputs read otherwise (``_copied``, runs of rows)
        are copied into V."""
        n_in = self.rec.n_inputs
        copied = np.zeros(n_in, dtype=bool)
        self._direct: dict[int, bool] = {}
        for g in self.groups:
            if g.kind == "dot":
                srcs = [g.wsrc, g.xsrc] + ([g.bias] if g.bias is not None else [])
                for j, src in enumerate(srcs):
                    if not src[0]:
                        continue
                    rows = _rows_of(np, src[1])
                    direct = j < 2 and type(src[1]) is not np.ndarray and bool((rows < n_in).all())
                    self._direct[id(src)] = direct
                    if not direct:
                        copied[rows[rows < n_in]] = True
            elif g.vidx is not None:
                rows = _rows_of(np, g.vidx)
                copied[rows[rows < n_in]] = True
        for s in self.rec.outputs:
            if self.vary[s] and self.row[s] < n_in:
                copied[self.row[s]] = True
        runs = np.flatnonzero(np.diff(np.r_[0, copied.astype(np.int8), 0]))
        self._copied = [slice(int(a), int(b)) for a, b in zip(runs[::2], runs[1::2])]

    def _first_writes(self, np: Any) -> None:
        """Which of V's gradient rows each scatter writes first (in backward order): those it can
        store into instead of adding to zeros, and the rows that still need zeroing (read before any
        write, or written in part by a scatter that also adds).  Input gradients (returned) keep
        the zeros-and-add of the eager engine."""
        rows = self.n_var - self.shift
        written = np.zeros(rows, dtype=bool)
        zero = np.zeros(rows, dtype=bool)
        written[:self.rec.n_inputs - self.shift] = zero[:self.rec.n_inputs - self.shift] = True
        writes = np.zeros(rows, dtype=np.intp)
        candidates: list = []
        self._seeds: list[tuple[int, bool]] = []
        for s in self.rec.seeded:
            if self.vary[s] and self.row[s] >= self.shift:
                r = self.row[s] - self.shift
                self._seeds.append((r, not written[r]))
                written[r] = True
                writes[r] += 1
        for g in reversed(self.groups):
            if g.vary:
                gout = np.arange(g.gout.start, g.gout.stop, g.gout.step)
                zero[gout[~written[gout]]] = True
                written[gout] = True
            scs = ([(sc, src[0]) for sc, src in zip(g.scatters[:2], (g.wsrc, g.xsrc))]
                   + [(g.scatters[2], g.bias[0] if g.bias is not None else False)]
                   if g.kind == "dot" else [(sc, space) for space, _, sc in g.scatters])
            modes = []
            for sc, space in scs:
                if sc is None or not space:
                    modes.append(False)
                    continue
                t = sc.rows(np)
                fresh = ~written[t]
                assign = bool(fresh.all())
                if not assign:
                    zero[t[fresh]] = True
                written[t] = True
                writes[t] += 1
                if assign and (sc.view or (type(getattr(sc, "targets", None)) is slice and sc.starts is None)):
                    candidates.append((g, len(modes), t))
                modes.append(assign)
            g.assign = modes
            g.glink = [None] * len(modes)
        # A scatter that alone writes exactly one group's gradient rows, in order, hands that group
        # its contributions as they are (no copy into V's gradient).
        start = {g.gout.start: i for i, g in enumerate(self.groups) if g.vary}
        for g, j, t in candidates:
            q = start.get(int(t[0]))
            if (q is not None and (writes[t] == 1).all() and len(t) == self.groups[q].k
                    and bool((t == np.arange(t[0], t[0] + len(t))).all())):
                g.glink[j] = q
        zero |= ~written  # never written (the gradients of nodes that do not reach an output): zeros
        runs = np.flatnonzero(np.diff(np.r_[0, zero.astype(np.int8), 0]))
        self._zero = [slice(int(a), int(b)) for a, b in zip(runs[::2], runs[1::2])]

    # --- planning -------------------------------------------------------------------------------
    def _group(self, np: Any, key: Any, nodes: Any) -> _Group:
        rec, row = self.rec, self.row
        _, code, r, pat = key
        g = _Group()
        g.op, g.nodes, g.k, g.n = rec.ops[code], nodes, len(nodes), r
        g.checked = False
        g.memo = None
        first = rec.first_node
        g.vary = any(pat)
        out = np.array([row[first + i] for i in nodes], dtype=np.intp)
        g.out = _ix(np, out)
        g.gout = _ix(np, out - (self.shift if g.vary else 0))
        slots = np.array([list(rec.parents(i)) for i in nodes], dtype=np.intp).reshape(len(nodes), r).T
        rows = self._rows[slots] if r else slots  # (r, k)
        needs = self._needs[slots] if r else np.zeros((0, g.k), bool)
        nw = r // 2
        if (g.op.name == "dot" and nw and len(set(pat[:nw])) == 1 and len(set(pat[nw:2 * nw])) == 1):
            g.kind = "dot"
            share_w, share_x = _shared(rows[:nw]), _shared(rows[nw:2 * nw])
            if share_w and share_x:
                # Identical nodes (the same weights and inputs): one block keeps its k axis, or the
                # contraction would have no node axis for its k outputs.
                share_w = False
            g.bw, g.wsrc, w_sc = self._block(np, rows[:nw], pat[0], needs[:nw].any(), share_w)
            g.bx, g.xsrc, x_sc = self._block(np, rows[nw:2 * nw], pat[nw], needs[nw:2 * nw].any(), share_x)
            g.lanes = tuple(Lane(g.bw, j) for j in range(nw)) + tuple(Lane(g.bx, j) for j in range(nw))
            g.bias = None
            b_sc = None
            if r % 2:
                g.bias = (pat[-1], _ix(np, rows[-1]))
                b_sc = self._scatter(np, rows[-1], pat[-1]) if needs[-1].any() else None
            g.scatters = (w_sc, x_sc, b_sc)
            return g
        g.kind = "generic"
        vpos = [j for j in range(r) if pat[j]]
        ipos = [j for j in range(r) if not pat[j]]
        g.vidx = _ix(np, rows[vpos]) if vpos else None
        g.iidx = _ix(np, rows[ipos]) if ipos else None
        g.pos = [(True, vpos.index(j)) if pat[j] else (False, ipos.index(j)) for j in range(r)]
        g.scatters = []
        for space in (True, False):
            js = [j for j in range(r) if pat[j] == space and needs[j].any()]
            if js:
                g.scatters.append((space, js, self._scatter(np, rows[js], space)))
        return g

    def _scatter(self, np: Any, rows: Any, varies: bool) -> _Scatter:
        return _Scatter(np, rows, self.shift if varies else 0)

    def _block(self, np: Any, rows: Any, varies: bool, needs_grad: bool, shared: bool) -> Any:
        """A block of n positions x k nodes; a row of inputs shared by all k nodes is kept once."""
        spec = "n" + ("" if shared else "k") + ("b" if varies else "")
        rows = rows[:, 0] if shared else rows
        sc = self._scatter(np, rows, varies) if needs_grad else None
        return Block(spec), (varies, _ix(np, rows)), sc

    # --- the fast replay: steps bound to reused arrays ------------------------------------------------
    def _scatter_fn(self, np: Any, bd: _Bound, g: _Group, j: int, sc: _Scatter, dest: Any) -> Any:
        """Scatter ``j`` of group ``g`` bound to ``dest``; one that hands its contributions over
        (``g.glink``) sets the reading group's gradient to them, or stores them when they are not
        one number per row and sample (then broadcast)."""
        q = g.glink[j]
        if q is None:
            return sc.bind(np, dest, g.assign[j])
        v = _take(dest, sc.targets)
        cell, own, store = bd.gcells[q], bd.gcells[q][0], sc.bind(np, dest, True)
        shape, gshape = v.shape, own.shape

        def hand_over(c: Any) -> None:
            if (type(c) is np.ndarray and c.dtype == np.float64
                    and (c.shape == shape or (c.ndim != len(shape) and c.size == v.size))):
                cell[0] = c.reshape(gshape)
                return
            store(c)
            cell[0] = own
        return hand_over

    def _bind(self, np: Any, nb: Any, gi: int, bd: _Bound) -> tuple[Any, Any]:
        """(forward, backward) of group ``gi`` on the arrays of ``bd``: ``forward()`` returns the
        arguments the rule got, ``backward(args)`` sends the group's gradient on to its inputs."""
        g = self.groups[gi]
        V, Inv, GV, GI = bd.V, bd.Inv, bd.GV, bd.GI
        fwd = g.op.forward
        out = _take(V if g.vary else Inv, g.out)  # a slice: the group's nodes are consecutive rows
        gcell = bd.gcells[gi]
        fixed: Any = None
        gather: Any = None
        cell, keep, oshape = bd.cells[gi], self._keep[gi], out.shape
        links: list = []  # (block, producer's cell, shape): blocks read from another group's output
        if g.kind == "dot":
            bw, bx = Block(g.bw.spec), Block(g.bx.spec)
            bw.array = _take(V if g.wsrc[0] else Inv, g.wsrc[1])
            bx.array = _take(V if g.xsrc[0] else Inv, g.xsrc[1])
            for blk, src in ((bw, g.wsrc), (bx, g.xsrc)):
                if src[0] and type(src[1]) is not np.ndarray and self._direct.get(id(src)):
                    # input i is row i of V and of the columns alike
                    bd.rebind.append(lambda a, blk=blk, ix=src[1]: setattr(blk, "array", _take(a, ix)))
                if id(src) in self._link:
                    links.append((blk, bd.cells[self._link[id(src)]], blk.array.shape))
            nw = len(g.lanes) // 2
            lanes = tuple(Lane(bw, j) for j in range(nw)) + tuple(Lane(bx, j) for j in range(nw))
            fixed = lanes
            if g.bias is not None:
                b = _take(V if g.bias[0] else Inv, g.bias[1])
                fixed = fixed + (b[:, None] if g.vary and not g.bias[0] else b,)
            # rows that are no view (an index array): gathered again at every replay
            moving = [(blk, V if src[0] else Inv, src[1]) for blk, src in ((bw, g.wsrc), (bx, g.xsrc))
                      if type(src[1]) is np.ndarray]
            if moving or links or (g.bias is not None and type(g.bias[1]) is np.ndarray):
                fixed, bsrc, widen = None, g.bias, g.vary and g.bias is not None and not g.bias[0]

                def gather() -> tuple:
                    for blk, space, ix in moving:
                        blk.array = space[ix]
                    for blk, src_cell, shape in links:
                        blk.array = src_cell[0].reshape(shape)
                    if bsrc is None:
                        return lanes
                    b = _take(V if bsrc[0] else Inv, bsrc[1])
                    return lanes + (b[:, None] if widen else b,)
        else:
            views = (type(g.vidx) is not np.ndarray) and (type(g.iidx) is not np.ndarray)
            if views and id(g) in self._link:
                src_cell, vshape = bd.cells[self._link[id(g)]], _take(V, g.vidx).shape
                xi_fixed: Any = _take(Inv, g.iidx) if g.iidx is not None else None
                if xi_fixed is not None and g.vary:
                    xi_fixed = xi_fixed[:, :, None]
                pos = g.pos

                def gather() -> tuple:
                    xv = src_cell[0].reshape(vshape)
                    return tuple(xv[j] if v else xi_fixed[j] for v, j in pos)
            elif views:
                xv: Any = _take(V, g.vidx) if g.vidx is not None else None
                xi: Any = _take(Inv, g.iidx) if g.iidx is not None else None
                if xi is not None and g.vary:
                    xi = xi[:, :, None]
                fixed = tuple(xv[j] if v else xi[j] for v, j in g.pos)
            else:
                vidx, iidx, pos, vary = g.vidx, g.iidx, g.pos, g.vary

                def gather() -> tuple:
                    xv: Any = _take(V, vidx) if vidx is not None else None
                    xi: Any = _take(Inv, iidx) if iidx is not None else None
                    if xi is not None and vary:
                        xi = xi[:, :, None]
                    return tuple(xv[j] if v else xi[j] for v, j in pos)

        # The forward rule's intermediate results, for the partials rule (see _Memo): remembered on
        # the group's first replay, and from then on if the partials used any of them.
        mm = bd.memo
        kept: list = [None]

        def store(res: Any) -> None:
            # read only as a whole block by later groups: they take the rule's array itself
            if not keep and type(res) is np.ndarray and res.shape == oshape and res.dtype == np.float64:
                cell[0] = res
            else:
                out[...] = res
                cell[0] = out

        def forward(grad: bool) -> Any:
            args = fixed if fixed is not None else gather()
            if not grad or g.memo is False:
                store(fwd(nb, *args))
                return args
            mm.cache = kept[0] = {}
            try:
                store(fwd(mm, *args))
            except ValueError:
                if g.memo is not None:
                    raise
                g.memo, kept[0] = False, None  # the rule writes into a result: computed without memo
                store(fwd(nb, *args))
            finally:
                mm.cache = None
            return args

        rule = g.op.rule

        def partials(args: Any) -> Any:
            m = nb
            if kept[0] is not None:
                m, mm.cache, mm.hits = mm, kept[0], 0
            try:
                if g.checked:
                    ds = rule(m, cell[0], *args)
                else:
                    ds = g.op.checked_partials(m, cell[0], *args)  # validated once: same rule, same shapes
                    g.checked = True
            except ValueError:
                if m is nb or g.memo is not None:
                    raise
                g.memo, kept[0], mm.cache = False, None, None  # the rule writes into a result
                return partials(args)
            finally:
                mm.cache = kept[0] = None
            if g.memo is None and m is mm:
                g.memo = mm.hits > 0
            return ds

        if g.kind == "dot":
            nw = len(g.lanes) // 2
            gblk = Block("kb" if g.vary else "k")
            blocks = []
            for i, (src, blk, d0) in enumerate(((g.wsrc, g.bw, 0), (g.xsrc, g.bx, nw))):
                if g.scatters[i] is not None:
                    blocks.append((self._scatter_fn(np, bd, g, i, g.scatters[i], GV if src[0] else GI), blk.spec, d0))
            bsc = g.scatters[2]
            bias_sc = None
            if bsc is not None:
                bias_sc = (self._scatter_fn(np, bd, g, 2, bsc, GV if g.bias[0] else GI), g.vary and not g.bias[0])

            def backward(args: Any) -> None:
                G = gblk.array = gcell[0]
                ds = partials(args)
                for sc, spec, d0 in blocks:
                    d = ds[d0]
                    if type(d) is not Lane or ds[d0 + nw - 1].block is not d.block:
                        raise TypeError(f"batch: {g.op.name} partials are not lanes of one block")
                    sc(contract(gblk, d.block, spec))
                if bias_sc is not None:
                    d = ds[-1]
                    c = G if (type(d) is float and d == 1.0) else G * d
                    if bias_sc[1]:
                        c = c.sum(axis=1)
                    bias_sc[0](c)
            return forward, backward

        scs = [(space, js, self._scatter_fn(np, bd, g, j, sc, GV if space else GI))
               for j, (space, js, sc) in enumerate(g.scatters)]
        vary = g.vary

        def backward_generic(args: Any) -> None:
            G = gcell[0]
            ds = partials(args)
            for space, js, sc in scs:
                c = _contributions(np, G, ds, js)
                if vary and not space:
                    c = c.sum(axis=-1)  # a parameter's gradient: summed over the batch
                sc(c)
        return forward, backward_generic

    def _fast(self, np: Any, nb: Any, columns: Any, B: int, params: Any, grad: bool, reduce: str) -> Any:
        """The replay with numpy's floating-point errors raised (finite inputs): FloatingPointError
        at the first inf or NaN, for :meth:`run` to take the careful path."""
        rec = self.rec
        pool = self._pool.get(B)
        bd = pool.pop() if pool else None
        if bd is None:
            bd = _Bound(self, np, nb, B)
        try:
            V, Inv, GV, GI = bd.V, bd.Inv, bd.GV, bd.GI
            n_in, n_p = rec.n_inputs, len(rec.params)
            if n_in:
                if (type(columns) is np.ndarray and columns.dtype == np.float64 and columns.flags.c_contiguous
                        and columns.shape == (n_in, B)):
                    if not np.isfinite(columns).all():
                        return None
                    for rows in self._copied:  # the inputs read other than by a dot block
                        V[rows] = columns[rows]
                    direct = columns
                else:
                    V[:n_in] = columns
                    if not np.isfinite(bd.vin).all():
                        return None
                    direct = bd.vin
                if bd.cols is not direct:
                    for rebind in bd.rebind:
                        rebind(direct)
                    bd.cols = direct
            Inv[:n_p] = params if params is not None else [p.data for p in rec.params]
            Inv[n_p:n_p + len(self.consts)] = self.consts
            if not np.isfinite(Inv[:n_p + len(self.consts)]).all():
                return None
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                saved = [f(grad) for f, _ in bd.steps]
                if bd.outs is not None:
                    outs = V[bd.outs]
                else:
                    outs = np.array([V[self.row[s]] if self.vary[s] else np.full(B, Inv[self.row[s]])
                                     for s in rec.outputs])
                if not grad:
                    return outs, None, None
                for z in self._zero:
                    GV[z] = 0.0
                GI.fill(0.0)
                for r, first in self._seeds:
                    if first:
                        GV[r] = 1.0
                    else:
                        GV[r] += 1.0
                for s in rec.seeded:
                    if not self.vary[s]:
                        GI[self.row[s]] += B  # an output the same for every sample: B seeds of 1
                for (_, b), args in zip(reversed(bd.steps), reversed(saved)):
                    b(args)
            pg = GI[:n_p] / B if reduce == "mean" else GI[:n_p].copy()
            return outs, (GV[:n_in].copy() if not self.shift else None), pg
        finally:
            pool = self._pool.setdefault(B, [])
            if len(pool) < 2:
                pool.append(bd)
            if len(self._pool) > 4:  # batch sizes seen long ago: their arrays are freed
                for old in list(self._pool)[:-4]:
                    del self._pool[old]

    # --- replay -----------------------------------------------------------------------------------
    def run(self, columns: Any, grad: bool, reduce: str = "sum", params: Any = None) -> tuple[Any, Any, Any]:
        """Evaluate B samples: (outputs (n_out, B), input grads (n_in, B) or None, param grads).

        ``columns`` is a sequence of n_in arrays of shape (B,) or one array (n_in, B); ``params``
        the parameters' values as an array in ``rec.params`` order, or None to read each Value's
        ``.data`` (live, at every replay).

        Each sample gets what the eager engine gives it: its numbers, or its error.  With finite
        inputs, parameters and constants the replay runs with numpy's floating-point errors raised,
        so the first inf or NaN stops it; then (and for non-finite inputs) it runs again carefully:
        errors ignored, and every non-finite number checked against the float rule, which raises
        where eager raises (exp overflow, log of 0) and agrees where eager gives inf or NaN (1e305 *
        1e4, inf - inf).
        """
        import numpy as np

        nb = numpy_backend()
        rec = self.rec
        B = (columns.shape[1] if isinstance(columns, np.ndarray) else len(columns[0])) if len(columns) else 1
        try:
            done = self._fast(np, nb, columns, B, params, grad, reduce)
        except FloatingPointError:
            done = None  # an inf or NaN appeared: eager may raise there, or carry it on
        if done is not None:
            return done  # type: ignore[no-any-return]
        V = np.empty((self.n_var, B))
        if len(columns):
            V[:rec.n_inputs] = columns
        Inv = np.empty(self.n_inv)
        n_p = len(rec.params)
        Inv[:n_p] = params if params is not None else [p.data for p in rec.params]
        Inv[n_p:n_p + len(self.consts)] = self.consts
        with np.errstate(all="ignore"):
            return self._pass(np, nb, V, Inv, B, grad, reduce, careful=True)

    def _pass(self, np: Any, nb: Any, V: Any, Inv: Any, B: int, grad: bool, reduce: str,
              careful: bool) -> tuple[Any, Any, Any]:
        rec = self.rec
        n_p = len(rec.params)
        saved = []
        for g in self.groups:
            try:
                saved.append(self._forward(np, nb, g, V, Inv))
            except FloatingPointError as e:
                if not careful:
                    raise
                raise self._explain(np, g, V, Inv, e) from None
            if careful:
                vals = V[g.out] if g.vary else Inv[g.out]
                bad = ~np.isfinite(vals)
                if bad.any():
                    error = self._eager_error(g, V, Inv, np.argwhere(bad))
                    if error is not None:
                        raise error
        outs = np.array([V[self.row[s]] if self.vary[s] else np.full(B, Inv[self.row[s]]) for s in rec.outputs])
        if not grad:
            return outs, None, None
        GV = np.zeros((self.n_var - self.shift, B))
        GI = np.zeros(self.n_inv)
        for s in rec.seeded:
            if self.vary[s]:
                if self.row[s] >= self.shift:  # (an input as output, its gradient unwanted)
                    GV[self.row[s] - self.shift] += 1.0
            else:
                GI[self.row[s]] += B  # an output the same for every sample: B seeds of 1
        for g, (args, out) in zip(reversed(self.groups), reversed(saved)):
            try:
                self._backward(np, nb, g, args, out, GV, GI, V, Inv if careful else None)
            except FloatingPointError as e:
                if not careful:
                    raise
                raise ValueError(f"batch: backward through {g.op.name} failed ({e})") from None
        pg = GI[:n_p] / B if reduce == "mean" else GI[:n_p]
        return outs, (GV[:rec.n_inputs] if not self.shift else None), pg

    def _forward(self, np: Any, nb: Any, g: _Group, V: Any, Inv: Any) -> Any:
        if g.kind == "dot":
            g.bw.array = _take(V if g.wsrc[0] else Inv, g.wsrc[1])
            g.bx.array = _take(V if g.xsrc[0] else Inv, g.xsrc[1])
            args = g.lanes
            if g.bias is not None:
                b = V[g.bias[1]] if g.bias[0] else Inv[g.bias[1]]
                args = args + (b[:, None] if g.vary and not g.bias[0] else b,)
        else:
            xv: Any = _take(V, g.vidx) if g.vidx is not None else None
            xi: Any = _take(Inv, g.iidx) if g.iidx is not None else None
            if xi is not None and g.vary:
                xi = xi[:, :, None]
            args = tuple(xv[j] if v else xi[j] for v, j in g.pos)
        out = g.op.forward(nb, *args)
        # backward reads the output back from V or I: the rule's array is freed now, not kept to the end
        if g.vary:
            V[g.out] = out
            return args, V[g.out]
        Inv[g.out] = out
        return args, Inv[g.out]

    def _backward(self, np: Any, nb: Any, g: _Group, args: Any, out: Any, GV: Any, GI: Any,
                  V: Any = None, Inv: Any = None) -> None:
        G = GV[g.gout] if g.vary else GI[g.gout]
        ds = g.op.checked_partials(nb, out, *args)
        if Inv is not None:  # careful: a non-finite partial may be one the float rule refuses
            for d in ds:
                if type(d) is np.ndarray and not np.isfinite(d).all():
                    error = self._eager_error(g, V, Inv, np.argwhere(~np.isfinite(d)), backward=True)
                    if error is not None:
                        raise error
        if g.kind == "dot":
            nw = len(g.lanes) // 2
            gblk = Block("kb" if g.vary else "k")
            gblk.array = G
            for (sc, blk, src, d0) in ((g.scatters[0], g.bw, g.wsrc, 0), (g.scatters[1], g.bx, g.xsrc, nw)):
                if sc is None:
                    continue
                d = ds[d0]
                if type(d) is not Lane or ds[d0 + nw - 1].block is not d.block:
                    raise TypeError(f"batch: {g.op.name} partials are not lanes of one block")
                sc(np, GV if src[0] else GI, contract(gblk, d.block, blk.spec))
            if g.scatters[2] is not None:
                c = G if (type(ds[-1]) is float and ds[-1] == 1.0) else G * ds[-1]
                if g.vary and not g.bias[0]:
                    c = c.sum(axis=1)
                g.scatters[2](np, GV if g.bias[0] else GI, c)
            return
        for space, js, sc in g.scatters:
            c = _contributions(np, G, ds, js)
            if g.vary and not space:
                c = c.sum(axis=-1)  # a parameter's gradient: summed over the batch
            sc(np, GV if space else GI, c)

    def _at(self, V: Any, Inv: Any, s: int, b: int) -> Any:
        return V[self.row[s], b] if self.vary[s] else Inv[self.row[s]]

    def _explain(self, np: Any, g: _Group, V: Any, Inv: Any, error: Exception) -> Exception:
        """A numpy error raised by a rule itself (pow_positive): the eager engine's error for one sample."""
        every = [(j, b) for b in range(V.shape[1]) for j in range(g.k)]
        return self._eager_error(g, V, Inv, every) or ValueError(f"batch: {g.op.name} failed ({error})")

    def _eager_error(self, g: _Group, V: Any, Inv: Any, where: Any, backward: bool = False) -> Exception | None:
        """The eager engine's error for the first (node j of the group, sample b) in ``where`` whose
        forward (or partials) the float rule refuses; None when eager computes them all."""
        rec, first = self.rec, self.rec.first_node
        for j, b in sorted(((int(p[0]), int(p[-1]) if len(p) > 1 else 0) for p in where), key=lambda jb: jb[1]):
            i = g.nodes[j]
            vals = [float(self._at(V, Inv, p, b)) for p in rec.parents(i)]
            try:
                if backward:
                    g.op.partials(FLOAT, float(self._at(V, Inv, first + i, b)), *vals)
                else:
                    g.op.forward(FLOAT, *vals)
            except _MATH_ERRORS as e:
                make = backward_error if backward else forward_error
                return make(g.op, vals, e, f"batch sample {b}")
        return None
