"""Row indices of the batch replay: which rows of V or I (or of their gradients) a group reads or writes.

A group's rows are chosen so that they are usually a slice or a regular block; :func:`row_index`
turns them into the cheapest index that reads them (a view, no copy, whenever the rows allow),
:func:`take` reads through it and :func:`rows_of` lists the rows back.  Kept apart from the plan
because the plan, the scatters and the bound replay all index the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["row_index", "Affine", "rows_of", "take"]


def row_index(np: Any, rows: Any) -> Any:
    """An index for rows of V or I that is a view (no copy) whenever the rows allow: a slice for an
    evenly spaced run, (slice, shape) for a consecutive block, an :class:`Affine` view for a block
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
            return Affine(r0, rows.shape, (a, b))
    return rows


class Affine:
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


def rows_of(np: Any, ix: Any) -> Any:
    """The rows an index made by :func:`row_index` reads, flat."""
    t = type(ix)
    if t is slice:
        return np.arange(ix.start, ix.stop, ix.step or 1)
    if t is tuple:
        return np.arange(ix[0].start, ix[0].stop)
    if t is Affine:
        return (ix.r0 + ix.steps[0] * np.arange(ix.shape[0])[:, None]
                + ix.steps[1] * np.arange(ix.shape[1])[None, :]).ravel()
    return np.asarray(ix).ravel()


def take(a: Any, ix: Any) -> Any:
    """The rows of ``a`` that an index made by :func:`row_index` reads: a view where the index is one."""
    t = type(ix)
    if t is tuple:
        return a[ix[0]].reshape(ix[1] + a.shape[1:])
    return ix.view(a) if t is Affine else a[ix]

