"""A training run's parameters, one snapshot per epoch, within a fixed memory budget (the timeline).

Each snapshot is an ``array('d')`` of the parameters' values: 8 bytes per parameter, exact doubles,
so a restored epoch gives bit-for-bit the boundary it had.  When the snapshots would exceed the
budget, every second one is dropped and from then on only every ``stride``-th epoch is kept.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

__all__ = ["BUDGET_BYTES", "Recording"]

BUDGET_BYTES = 8 * 1024 * 1024


class Recording:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self.stride = 1
        self.snapshots: dict[int, array] = {}

    def add(self, epoch: int, values: Iterable[float]) -> None:
        if epoch % self.stride:
            return
        self.snapshots[epoch] = array("d", values)
        while self.nbytes() > self.budget and len(self.snapshots) > 2:
            self.stride *= 2
            last = max(self.snapshots)
            self.snapshots = {e: a for e, a in self.snapshots.items() if e % self.stride == 0 or e == last}

    def nearest(self, epoch: int) -> int:
        """The latest recorded epoch at or before ``epoch`` (the first one if none is)."""
        earlier = [e for e in self.snapshots if e <= epoch]
        return max(earlier) if earlier else min(self.snapshots)

    def nbytes(self) -> int:
        return sum(a.itemsize * len(a) for a in self.snapshots.values())

    def summary(self) -> dict[str, int]:
        return {"kept": len(self.snapshots), "bytes": self.nbytes(), "budget": self.budget, "stride": self.stride}
