"""The fast replay of a batch plan: its groups' steps bound once to arrays reused from replay to replay.

What a plan needs for a replay of finite numbers, and the careful path (:mod:`autograd.tape.batch`)
does without: which outputs need no copy into V, which inputs are read from the caller's columns,
which gradient rows are stored rather than added to zeros (worked out once per plan), and per batch
size the arrays with every group's forward and backward bound to views of them, so that a replay
is a flat list of rule calls.  Apart from the plan so that the plan reads as the schedule it is.
"""

from __future__ import annotations

from typing import Any

from ..backends import Block, Lane, contract
from .group import Group
from .memo import Memo
from .rows import row_index, rows_of, take
from .scatter import Scatter, contributions
from .trace import Recording

__all__ = ["FastReplay"]


class _Bound:
    """The arrays of one batch size (V, I and their gradients, reused from replay to replay) and each
    group's forward and backward steps bound to views of them, worked out once: a replay is then a
    flat list of calls to the op table's rules and of numpy assignments."""

    __slots__ = ("B", "V", "Inv", "GV", "GI", "steps", "outs", "memo", "rebind", "cols", "vin", "cells", "gcells")

    def __init__(self, replay: FastReplay, np: Any, nb: Any, B: int) -> None:
        self.B = B
        self.memo = Memo(nb)
        # dot blocks that read inputs only take them from the caller's columns (no copy into V):
        # (block, rows) for each, its view taken again when the columns are another array than last time
        self.rebind: list = []
        self.cols: Any = None
        self.V = np.empty((replay.n_var, B))
        self.Inv = np.empty(replay.n_inv)
        self.GV = np.zeros((replay.n_var - replay.shift, B))
        self.GI = np.zeros(replay.n_inv)
        # each group's output at this replay (V's rows, or the rule's own array)
        self.cells: list[list[Any]] = [[None] for _ in replay.groups]
        # each group's gradient at this replay: V's gradient rows, or the array handed over by its reader
        self.gcells: list[list[Any]] = [[take(self.GV if g.vary else self.GI, g.gout)] for g in replay.groups]
        self.steps = [replay._bind(np, nb, i, self) for i in range(len(replay.groups))]
        self.vin = self.V[:replay.rec.n_inputs]
        rec = replay.rec
        if all(replay.vary[s] for s in rec.outputs):
            self.outs = np.array([replay.row[s] for s in rec.outputs], dtype=np.intp)
        else:
            self.outs = None

    def nbytes(self) -> int:
        """The bytes of its arrays and of the rules' results it holds from the last replay."""
        held = [self.V, self.Inv, self.GV, self.GI, *(c[0] for c in self.cells), *(c[0] for c in self.gcells)]
        own = {id(a): a.nbytes for a in held if hasattr(a, "nbytes") and getattr(a, "base", None) is None}
        return sum(own.values())


class FastReplay:
    """The fast replay of one plan's groups (:meth:`run`); a few bound arrays kept per batch size."""

    def __init__(self, np: Any, rec: Recording, groups: list[Group], n_var: int, n_inv: int, shift: int,
                 vary: list[bool], row: list[int], consts: Any) -> None:
        self.rec, self.groups, self.n_var, self.n_inv, self.shift = rec, groups, n_var, n_inv, shift
        self.vary, self.row, self.consts = vary, row, consts
        self._first_writes(np)
        self._inputs_read(np)
        self._links(np)
        self._pool: dict[int, list[_Bound]] = {}

    def kept_bytes(self) -> int:
        """The bytes of the arrays kept between replays (for every batch size seen lately)."""
        return sum(bd.nbytes() for sets in self._pool.values() for bd in sets)

    def free(self, min_bytes: int = 0) -> None:
        """Drop the kept arrays of each batch size whose set holds at least ``min_bytes``: the next
        replay of that size allocates (and binds) them again."""
        for B in [B for B, sets in self._pool.items() if sets and sets[0].nbytes() >= min_bytes]:
            del self._pool[B]

    # --- what it may skip, worked out once ---------------------------------------------------------
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
            rows = rows_of(np, ix)
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
                    rows = rows_of(np, src[1])
                    # read in place: a block of inputs shared by the group's nodes (a layer's input,
                    # contracted by a matrix product, which takes the caller's columns in any memory order)
                    direct = (j < 2 and type(src[1]) is not np.ndarray and bool((rows < n_in).all())
                              and "k" not in (g.bw, g.bx)[j].spec)
                    self._direct[id(src)] = direct
                    if not direct:
                        copied[rows[rows < n_in]] = True
            elif g.vidx is not None:
                rows = rows_of(np, g.vidx)
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


    # --- steps bound to reused arrays -------------------------------------------------------------
    def _scatter_fn(self, np: Any, bd: _Bound, g: Group, j: int, sc: Scatter, dest: Any) -> Any:
        """Scatter ``j`` of group ``g`` bound to ``dest``; one that hands its contributions over
        (``g.glink``) sets the reading group's gradient to them, or stores them when they are not
        one number per row and sample (then broadcast)."""
        q = g.glink[j]
        if q is None:
            return sc.bind(np, dest, g.assign[j])
        v = take(dest, sc.targets)
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

    @staticmethod
    def _position_views(np: Any, g: Group, V: Any, Inv: Any) -> tuple | None:
        """A generic group's arguments as views, one per position (what :meth:`Group.gather` reads, without
        copying): rows that are a view as a whole are read through it; otherwise a position whose k nodes
        all read one row (a logsumexp beside each logit) is that row repeated by a stride of 0, and other
        positions are views where their rows allow.  None if some position is no view (then the rows are
        gathered at every replay)."""
        args = []
        for varies, j in g.pos:
            src, idx = (V, g.vidx) if varies else (Inv, g.iidx)
            if type(idx) is not np.ndarray:  # all positions in one view
                a = take(src, idx)[j]
            elif len(idx[j]) > 1 and bool((idx[j] == idx[j][0]).all()):
                # the shape the gather would give, without copying: a rule sees (k, B) as it would
                # (``s = m.exp(a); s += b`` needs it), read-only like any argument
                row = src[int(idx[j][0])]
                a = np.broadcast_to(row, (len(idx[j]),) + row.shape)
            else:
                ix = row_index(np, idx[j])
                if type(ix) is np.ndarray:
                    return None
                a = take(src, ix)
            args.append(a[:, None] if g.vary and not varies else a)  # a parameter's number, for every sample
        return tuple(args)

    def _bind(self, np: Any, nb: Any, gi: int, bd: _Bound) -> tuple[Any, Any]:
        """(forward, backward) of group ``gi`` on the arrays of ``bd``: ``forward()`` returns the
        arguments the rule got, ``backward(args)`` sends the group's gradient on to its inputs."""
        g = self.groups[gi]
        V, Inv, GV, GI = bd.V, bd.Inv, bd.GV, bd.GI
        fwd = g.op.forward_on  # a rule written for floats only is named when it meets arrays
        out = take(V if g.vary else Inv, g.out)  # a slice: the group's nodes are consecutive rows
        gcell = bd.gcells[gi]
        fixed: Any = None
        gather: Any = None
        cell, keep, oshape = bd.cells[gi], self._keep[gi], out.shape
        links: list = []  # (block, producer's cell, shape): blocks read from another group's output
        if g.kind == "dot":
            bw, bx = Block(g.bw.spec), Block(g.bx.spec)
            bw.array = take(V if g.wsrc[0] else Inv, g.wsrc[1])
            bx.array = take(V if g.xsrc[0] else Inv, g.xsrc[1])
            for blk, src in ((bw, g.wsrc), (bx, g.xsrc)):
                if src[0] and type(src[1]) is not np.ndarray and self._direct.get(id(src)):
                    bd.rebind.append((blk, src[1]))  # input i is row i of V and of the columns alike
                if id(src) in self._link:
                    links.append((blk, bd.cells[self._link[id(src)]], blk.array.shape))
            nw = len(g.lanes) // 2
            lanes = tuple(Lane(bw, j) for j in range(nw)) + tuple(Lane(bx, j) for j in range(nw))
            fixed = lanes
            if g.bias is not None:
                b = take(V if g.bias[0] else Inv, g.bias[1])
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
                    b = take(V if bsrc[0] else Inv, bsrc[1])
                    return lanes + (b[:, None] if widen else b,)
        else:
            views = (type(g.vidx) is not np.ndarray) and (type(g.iidx) is not np.ndarray)
            if views and id(g) in self._link:
                src_cell, vshape = bd.cells[self._link[id(g)]], take(V, g.vidx).shape
                xi_fixed: Any = take(Inv, g.iidx) if g.iidx is not None else None
                if xi_fixed is not None and g.vary:
                    xi_fixed = xi_fixed[:, :, None]
                pos = g.pos

                def gather() -> tuple:
                    xv = src_cell[0].reshape(vshape)
                    return tuple(xv[j] if v else xi_fixed[j] for v, j in pos)
            else:
                fixed = self._position_views(np, g, V, Inv)
                if fixed is None:  # some position's rows are no view: gathered at every replay
                    def gather() -> tuple:
                        return g.gather(V, Inv)

        # The forward rule's intermediate results, for the partials rule (see Memo): remembered on
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
                c = contributions(np, G, ds, js)
                if vary and not space:
                    c = c.sum(axis=-1)  # a parameter's gradient: summed over the batch
                sc(c)
        return forward, backward_generic

    # --- the replay -----------------------------------------------------------------------------------
    def run(self, np: Any, nb: Any, columns: Any, B: int, params: Any, grad: bool, reduce: str,
            finite: bool = False) -> Any:
        """The replay with numpy's floating-point errors raised (finite inputs): FloatingPointError
        at the first inf or NaN, for ``BatchPlan.run`` to take the careful path.  ``finite``: the
        caller checked that every column is finite (not checked again here)."""
        rec = self.rec
        pool = self._pool.get(B)
        bd = pool.pop() if pool else None
        if bd is None:
            bd = _Bound(self, np, nb, B)
        try:
            V, Inv, GV, GI = bd.V, bd.Inv, bd.GV, bd.GI
            n_in, n_p = rec.n_inputs, len(rec.params)
            if n_in:
                # an array of the columns, in any memory order (the transpose of a row per sample too),
                # is read in place by the dot blocks that take only inputs
                direct = columns if (type(columns) is np.ndarray and columns.dtype == np.float64
                                     and columns.shape == (n_in, B)) else None
                if direct is not None and bd.cols is not direct:
                    for blk, ix in bd.rebind:
                        blk.array = take(direct, ix)
                        if not np.may_share_memory(blk.array, direct):  # a copy would miss a refill: copy into V
                            direct = None
                            break
                    bd.cols = direct
                if direct is not None:
                    if not finite and not np.isfinite(columns).all():
                        return None
                    for rows in self._copied:  # the inputs read other than by a dot block
                        V[rows] = columns[rows]
                else:
                    V[:n_in] = columns
                    if not np.isfinite(bd.vin).all():
                        return None
                    if bd.cols is not bd.vin:
                        for blk, ix in bd.rebind:
                            blk.array = take(bd.vin, ix)
                        bd.cols = bd.vin
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
