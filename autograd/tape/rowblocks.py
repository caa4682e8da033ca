"""A batch's inputs given as blocks of rows: what a replay reads as ``X`` without stacking them.

A batch program reads its inputs ``X`` (n_inputs, B) only by rows: ``X[a]``, ``X[a:b]``,
``X[a:b:s]``, ``X[<index array>]`` and ``X.shape[1]`` (:mod:`~autograd.tape.batch_slots`).  A caller
whose inputs come from different places (``nn.fit``: a batch's pixels, gathered from the data set,
and its target masks) can hand them over as blocks of rows, (k_i, B) each, whose rows stacked are
the inputs.  :class:`RowBlocks` answers those reads: a read inside one block is a view of that block
(or, for an index array, one gather from it), and only a read that spans blocks copies them into
one array.  Stacking the blocks first would copy every input once more per batch.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import Any, Sequence

from ..errors import short

__all__ = ["RowBlocks"]


class RowBlocks:
    """Blocks of rows (k_i, B), read as the one array (sum k_i, B) they stack to."""

    __slots__ = ("blocks", "starts", "shape")

    def __init__(self, blocks: Sequence[Any], n_rows: int, where: str) -> None:
        import numpy as np

        arrays = [b if type(b) is np.ndarray and b.dtype == np.float64 else np.asarray(b, dtype=float) for b in blocks]
        shapes = [a.shape for a in arrays]
        if not arrays or any(len(s) != 2 for s in shapes) or len({s[1] for s in shapes}) != 1 \
                or sum(s[0] for s in shapes) != n_rows:
            raise ValueError(f"{where}: blocks of rows must be 2-D, (k_i, B) with one B and sum k_i == "
                             f"{n_rows} inputs, got shapes {short(shapes, 120)}")
        self.blocks = arrays
        self.starts = [0, *accumulate(s[0] for s in shapes)]
        self.shape = (n_rows, shapes[0][1])

    def __getitem__(self, key: Any) -> Any:
        import numpy as np

        starts, blocks = self.starts, self.blocks
        if type(key) is slice:
            start, stop, step = key.indices(self.shape[0])
            k = bisect_right(starts, start) - 1
            if 0 < step and start <= stop and k < len(blocks) and stop <= starts[k + 1]:  # inside one block: a view
                return blocks[k][start - starts[k]:stop - starts[k]:step]
        elif isinstance(key, (int, np.integer)) and 0 <= key < self.shape[0]:
            k = bisect_right(starts, key) - 1  # the last block starting at or before row key: not an empty one
            return blocks[k][key - starts[k]]
        elif isinstance(key, np.ndarray) and key.dtype.kind in "iu" and len(key) and key.min() >= 0:
            which = np.searchsorted(starts, key, side="right") - 1
            k = int(which[0])
            if k < len(blocks) and (which == k).all():  # rows of one block: one gather from it
                return blocks[k][key - starts[k]]
        return self.stacked()[key]  # a read spanning blocks (or anything else): from one copy of them all

    def stacked(self) -> Any:
        """The one array (n, B): a copy of every block."""
        import numpy as np

        return np.concatenate(self.blocks)

    def finite(self) -> bool:
        """Whether every number is finite."""
        import numpy as np

        return all(bool(np.isfinite(a).all()) for a in self.blocks)

