"""Thread-local switches: ``no_grad()`` (record no graph) and ``detect_anomaly()`` (fail on NaN/inf)."""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled", "AnomalyError", "cycle_collector_paused"]


class AnomalyError(FloatingPointError):
    """A non-finite value or gradient met inside :func:`detect_anomaly`."""


class _State(threading.local):
    # Class attributes are the defaults every new thread starts from.
    record = True  # build graph edges
    anomaly = False  # check every value and gradient
    plain = True  # record and not anomaly: the one flag the hot path reads


STATE = _State()

# How many no_grad / enable_grad / detect_anomaly blocks are open, in any thread. The hot path reads
# this plain list (cheap) and pays for the thread-local lookup only while some block is open.
OPEN_BLOCKS = [0]
_count_lock = threading.Lock()


def _set(record: bool, anomaly: bool) -> None:
    STATE.record, STATE.anomaly, STATE.plain = record, anomaly, record and not anomaly


@contextmanager
def _block(record: bool, anomaly: bool) -> Iterator[None]:
    previous = (STATE.record, STATE.anomaly)
    with _count_lock:
        OPEN_BLOCKS[0] += 1
    _set(record, anomaly)
    try:
        yield
    finally:
        _set(*previous)
        with _count_lock:
            OPEN_BLOCKS[0] -= 1


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad` (in this thread)."""
    return STATE.record


@contextmanager
def no_grad() -> Iterator[None]:
    """Within the block, operations record no parents: results are leaves (per thread).

    >>> from autograd import Value, no_grad
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.parents
    ()
    """
    with _block(False, STATE.anomaly):
        yield


@contextmanager
def enable_grad() -> Iterator[None]:
    """Re-enable graph recording inside a :func:`no_grad` block."""
    with _block(True, STATE.anomaly):
        yield


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within the block, the first NaN or infinity produced, forward or backward, raises ``AnomalyError``.

    The message names the node's op, label and inputs, so the culprit can be found in the graph.
    """
    with _block(STATE.record, True):
        yield


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (restored after, even on error).

    Value graphs hold no reference cycles, so reference counting alone frees them; the cyclic
    collector only re-scans the live graph while it is being built (about a fifth of the forward
    pass on a 10,000-node graph, measured in benchmarks/engine.py). Training loops wrap each step
    in this block; the engine itself never touches the global collector.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
