"""Thread-local switches: ``no_grad()`` (record no graph) and ``detect_anomaly()`` (fail on NaN/inf)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled", "AnomalyError"]


class AnomalyError(FloatingPointError):
    """A non-finite value or gradient met inside :func:`detect_anomaly`."""


class _State(threading.local):
    # Class attributes are the defaults every new thread starts from.
    record = True  # build graph edges
    anomaly = False  # check every value and gradient
    plain = True  # record and not anomaly: the one flag the hot path reads


def _set(record: bool, anomaly: bool) -> None:
    STATE.record, STATE.anomaly, STATE.plain = record, anomaly, record and not anomaly


STATE = _State()


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
    previous = STATE.record
    _set(False, STATE.anomaly)
    try:
        yield
    finally:
        _set(previous, STATE.anomaly)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Re-enable graph recording inside a :func:`no_grad` block."""
    previous = STATE.record
    _set(True, STATE.anomaly)
    try:
        yield
    finally:
        _set(previous, STATE.anomaly)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within the block, the first NaN or infinity produced, forward or backward, raises ``AnomalyError``.

    The message names the node's op, label and inputs, so the culprit can be found in the graph.
    """
    previous = STATE.anomaly
    _set(STATE.record, True)
    try:
        yield
    finally:
        _set(STATE.record, previous)
