"""The record of one group of a batch plan: nodes of the same op at the same depth, run as one call.

Filled in by the plan (:class:`~autograd.tape.batch.BatchPlan`), read by the careful path and by the
fast replay (:mod:`autograd.tape.bound`), which also notes here what it found on the first replay;
in its own module so that both can name it without importing each other.
"""

from __future__ import annotations

from typing import Any

from .rows import take

__all__ = ["Group"]


class Group:
    """One group: what its nodes share and where their arguments, outputs and gradients sit."""

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

    def gather(self, V: Any, Inv: Any) -> tuple:
        """A generic group's arguments read from V and I: per position an array of shape (k, B), or (k, 1)
        for a number the same for every sample (a parameter's), broadcasting against the batch."""
        xv: Any = take(V, self.vidx) if self.vidx is not None else None
        xi: Any = take(Inv, self.iidx) if self.iidx is not None else None
        if xi is not None and self.vary:
            xi = xi[:, :, None]
        return tuple(xv[j] if v else xi[j] for v, j in self.pos)
