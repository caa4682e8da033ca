"""Scatters of the batch replay: a group's gradient contributions added into the rows of its inputs.

Several nodes of a group may read the same row (a layer's input, a logsumexp beside each logit),
so a scatter sums duplicates; :func:`contributions` forms what it adds from a group's gradient and
the partials its rule returned.  The plan builds one per group and input space; the careful path
calls it, the fast replay binds it once to its reused arrays (:meth:`Scatter.bind`).
"""

from __future__ import annotations

from typing import Any

from ..backends import Stack
from .rows import Affine, row_index, take

__all__ = ["Scatter", "contributions"]


class Scatter:
    """Add contributions into rows ``targets`` of an array, duplicates summed.

    ``targets`` is 1-D (m nodes) or 2-D (n positions x k nodes); the contributions have that shape
    followed by the array's own trailing axes, or broadcast to it (the same for every position).
    Distinct targets that form a view (see :func:`row_index`) are added in place through it.  Duplicates
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
            ix = row_index(np, targets)
            self.view = type(ix) is tuple or type(ix) is Affine
            self.targets = ix if self.view or type(ix) is slice else flat
            return
        if targets.ndim == 2 and targets.shape[1] > 1:
            same = (targets == targets[:, :1]).all(axis=1)
            rest = np.flatnonzero(~same)
            rows = np.concatenate([targets[same, 0], targets[rest].ravel()])
            if same.any() and len(np.unique(rows)) == len(rows):  # then the parts touch distinct rows
                self.shared = [(int(i), int(targets[i, 0])) for i in np.flatnonzero(same)]
                if len(rest):
                    self.rest = Scatter(np, targets[rest])
                    self.rest_pos = row_index(np, rest)
                return
        perm = np.argsort(flat, kind="stable")
        sorted_t = flat[perm]
        starts = np.flatnonzero(np.r_[True, sorted_t[1:] != sorted_t[:-1]])
        self.targets, self.starts = row_index(np, sorted_t[starts]), starts
        self.perm = None if (perm == np.arange(len(perm))).all() else perm

    def bind(self, np: Any, dest: Any, assign: bool) -> Any:
        """This scatter into the array ``dest`` as a function of the contributions, its view of
        ``dest`` taken once; ``assign``: the target rows are written here first, so the contributions
        are stored rather than added to zeros (no zeroing, one pass less)."""
        if self.view:
            v = take(dest, self.targets)
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
            v = take(dest, self.targets)
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


def contributions(np: Any, G: Any, ds: Any, js: list[int]) -> Any:
    """G times the partials at positions ``js``, shape (len(js), k[, B]), or (1, k[, B]) broadcasting
    when every one of them is 1 (a sum's): one multiply for a :class:`Stack` of partials."""
    one = [type(ds[j]) is float and ds[j] == 1.0 for j in js]
    if all(one):
        return G[None]
    if type(ds) is Stack:
        return G * (ds.array if len(js) == len(ds) else ds.array[js])
    cs = [G if o else G * ds[j] for j, o in zip(js, one)]
    return cs[0][None] if len(cs) == 1 else np.stack(cs)

