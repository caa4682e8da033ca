"""Batch evaluation: a tape over B samples at once, vectorised across nodes as well as samples.

Nodes are grouped by (depth, op, fan-in, which inputs vary per sample); a group's inputs are
gathered into stacked arrays and the op table's rules run once on the numpy backend, so a replay
costs a few numpy calls per group, not per node.  Values that vary per sample live in ``V``
(rows x B); parameters, constants and everything computed only from them live in ``I`` (one
number each) and broadcast.  ``dot`` groups pass their weights and inputs as lanes of two stacked
blocks, which the backend contracts in one matmul (a layer of neurons sharing one input vector) or
einsum; the partials the table returns (d/dw_i = x_i, d/dx_i = w_i) are contracted the same way.

The parts, one concept a module: this one is the plan (grouping, rows, the careful path); row
indices are in :mod:`~autograd.tape.rows`, scatters of gradient contributions in
:mod:`~autograd.tape.scatter`, the group record in :mod:`~autograd.tape.group`, the memo of backend
calls in :mod:`~autograd.tape.memo`, and the fast replay bound to reused arrays in
:mod:`~autograd.tape.bound`.
"""

from __future__ import annotations

from typing import Any

from ..backends import Block, Lane, contract, numpy_backend
from ..table import BUILTINS
from .bound import FastReplay
from .group import Group
from .rows import row_index, take
from .scatter import Scatter, contributions
from .trace import Recording

_MATH_ERRORS = (ArithmeticError, ValueError)

__all__ = ["BatchPlan"]


def _shared(rows: Any) -> bool:
    """True when all k nodes (columns of ``rows``, n x k) read the same n slots, e.g. a layer's input."""
    return rows.shape[1] > 1 and bool((rows == rows[:, :1]).all())


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
        self._fast = FastReplay(np, rec, self.groups, self.n_var, self.n_inv, self.shift, vary, row, self.consts)

    # --- planning -------------------------------------------------------------------------------
    def _group(self, np: Any, key: Any, nodes: Any) -> Group:
        rec, row = self.rec, self.row
        _, code, r, pat = key
        g = Group()
        g.op, g.nodes, g.k, g.n = rec.ops[code], nodes, len(nodes), r
        g.checked = False
        g.memo = None
        first = rec.first_node
        g.vary = any(pat)
        out = np.array([row[first + i] for i in nodes], dtype=np.intp)
        g.out = row_index(np, out)
        g.gout = row_index(np, out - (self.shift if g.vary else 0))
        slots = np.array([list(rec.parents(i)) for i in nodes], dtype=np.intp).reshape(len(nodes), r).T
        rows = self._rows[slots] if r else slots  # (r, k)
        needs = self._needs[slots] if r else np.zeros((0, g.k), bool)
        nw = r // 2
        # the built-in dot itself (a replacement named "dot" is a rule like any other: the generic path)
        if (g.op is BUILTINS["dot"] and nw and len(set(pat[:nw])) == 1 and len(set(pat[nw:2 * nw])) == 1):
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
                g.bias = (pat[-1], row_index(np, rows[-1]))
                b_sc = self._scatter(np, rows[-1], pat[-1]) if needs[-1].any() else None
            g.scatters = (w_sc, x_sc, b_sc)
            return g
        g.kind = "generic"
        vpos = [j for j in range(r) if pat[j]]
        ipos = [j for j in range(r) if not pat[j]]
        g.vidx = row_index(np, rows[vpos]) if vpos else None
        g.iidx = row_index(np, rows[ipos]) if ipos else None
        g.pos = [(True, vpos.index(j)) if pat[j] else (False, ipos.index(j)) for j in range(r)]
        g.scatters = []
        for space in (True, False):
            js = [j for j in range(r) if pat[j] == space and needs[j].any()]
            if js:
                g.scatters.append((space, js, self._scatter(np, rows[js], space)))
        return g

    def _scatter(self, np: Any, rows: Any, varies: bool) -> Scatter:
        return Scatter(np, rows, self.shift if varies else 0)

    def _block(self, np: Any, rows: Any, varies: bool, needs_grad: bool, shared: bool) -> Any:
        """A block of n positions x k nodes; a row of inputs shared by all k nodes is kept once."""
        spec = "n" + ("" if shared else "k") + ("b" if varies else "")
        rows = rows[:, 0] if shared else rows
        sc = self._scatter(np, rows, varies) if needs_grad else None
        return Block(spec), (varies, row_index(np, rows)), sc

    def kept_bytes(self) -> int:
        """The bytes of the arrays the fast replay keeps between calls (see :class:`FastReplay`)."""
        return self._fast.kept_bytes()

    def free(self, min_bytes: int = 0) -> None:
        """Drop the arrays the fast replay keeps between calls, for batch sizes holding at least ``min_bytes``."""
        self._fast.free(min_bytes)

    # --- replay -----------------------------------------------------------------------------------
    def run(self, columns: Any, grad: bool, reduce: str = "sum", params: Any = None,
            finite: bool = False) -> tuple[Any, Any, Any]:
        """Evaluate B samples: (outputs (n_out, B), input grads (n_in, B) or None, param grads).

        ``columns`` is a sequence of n_in arrays of shape (B,) or one array (n_in, B); ``params``
        the parameters' values as an array in ``rec.params`` order, or None to read each Value's
        ``.data`` (live, at every replay); ``finite``: the caller has checked that every column is
        finite (the fast path then does not check them again).

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
            done = self._fast.run(np, nb, columns, B, params, grad, reduce, finite)
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

    def _forward(self, np: Any, nb: Any, g: Group, V: Any, Inv: Any) -> Any:
        if g.kind == "dot":
            g.bw.array = take(V if g.wsrc[0] else Inv, g.wsrc[1])
            g.bx.array = take(V if g.xsrc[0] else Inv, g.xsrc[1])
            args = g.lanes
            if g.bias is not None:
                b = V[g.bias[1]] if g.bias[0] else Inv[g.bias[1]]
                args = args + (b[:, None] if g.vary and not g.bias[0] else b,)
        else:
            args = g.gather(V, Inv)
        out = g.op.forward_on(nb, *args)
        # backward reads the output back from V or I: the rule's array is freed now, not kept to the end
        if g.vary:
            V[g.out] = out
            return args, V[g.out]
        Inv[g.out] = out
        return args, Inv[g.out]

    def _backward(self, np: Any, nb: Any, g: Group, args: Any, out: Any, GV: Any, GI: Any,
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
            c = contributions(np, G, ds, js)
            if g.vary and not space:
                c = c.sum(axis=-1)  # a parameter's gradient: summed over the batch
            sc(np, GV if space else GI, c)

    def _at(self, V: Any, Inv: Any, s: int, b: int) -> Any:
        return V[self.row[s], b] if self.vary[s] else Inv[self.row[s]]

    def _explain(self, np: Any, g: Group, V: Any, Inv: Any, error: Exception) -> Exception:
        """A numpy error raised by a rule itself (pow_positive): the eager engine's error for one sample."""
        every = [(j, b) for b in range(V.shape[1]) for j in range(g.k)]
        return self._eager_error(g, V, Inv, every) or ValueError(f"batch: {g.op.name} failed ({error})")

    def _eager_error(self, g: Group, V: Any, Inv: Any, where: Any, backward: bool = False) -> Exception | None:
        """The eager engine's error for the first (node j of the group, sample b) in ``where`` whose
        forward (or partials) the float rule refuses; None when eager computes them all."""
        rec, first = self.rec, self.rec.first_node
        for j, b in sorted(((int(p[0]), int(p[-1]) if len(p) > 1 else 0) for p in where), key=lambda jb: jb[1]):
            i = g.nodes[j]
            vals = [float(self._at(V, Inv, p, b)) for p in rec.parents(i)]
            try:
                if backward:
                    g.op.float_partials(float(self._at(V, Inv, first + i, b)), *vals, where=f"batch sample {b}")
                else:
                    g.op.float_forward(*vals, where=f"batch sample {b}")
            except _MATH_ERRORS as e:
                return e
        return None
