"""Switches: ``no_grad()`` (record no graph), ``detect_anomaly()`` (fail on NaN/inf), both thread-local, and
``own_work()`` (the engine refuses to differentiate, while an exercise's check runs a student's code)."""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled", "AnomalyError", "cycle_collector_paused",
           "own_work", "refuse_in_own_work", "OwnWorkError"]


class AnomalyError(FloatingPointError):
    """A non-finite value or gradient met inside :func:`detect_anomaly`."""


class OwnWorkError(RuntimeError):
    """The engine was asked to differentiate (or walk a graph) inside :func:`own_work`."""


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


# The exercise whose check is running the student's code, or "" (one process-wide switch, not per
# thread: a student's thread must not escape it). Every engine entry point that computes derivatives
# or walks a graph for them (Value.backward, both backward loops, gradients and so grad,
# value_and_grad, the jacobians, forward-mode sweeps, trace and the tape's replays, the graph walks)
# starts with refuse_in_own_work: one switch, read where the engine differentiates.  It is kept on the
# sys module, so that a second copy of autograd (imported afresh, or this module reloaded) reads it too.
OWN_WORK: list[str] = sys.__dict__.setdefault("_chalkgrad_own_work", [""])


@contextmanager
def own_work(exercise: str) -> Iterator[None]:
    """Within the block, every engine entry point that differentiates raises :class:`OwnWorkError`.

    The exercises' checks run a student's "write it yourself" answer inside this block, so that an
    answer borrowing ``backward()``, ``grad`` or a tape scores nothing. Restored on exit, also on error.

    >>> from autograd import Value
    >>> with own_work("backward"):
    ...     Value(2.0).backward()
    Traceback (most recent call last):
    autograd.modes.OwnWorkError: this exercise asks you to write it yourself: backward must not call Value.backward
    """
    previous, runs = OWN_WORK[0], _ENGINE_RUNS[0]
    OWN_WORK[0] = previous or exercise  # a nested block never switches it off
    try:
        yield
    finally:
        cleared, OWN_WORK[0] = OWN_WORK[0] != (previous or exercise), previous
    if cleared or _ENGINE_RUNS[0] != runs:  # the student's code cleared the switch (and differentiated)
        raise OwnWorkError(f"this exercise asks you to write it yourself: {exercise} switched off the engine's "
                           "own-work switch (autograd.modes) and then differentiated with the engine")


# How many times an engine entry point went ahead (was not refused): own_work compares it on exit,
# so clearing OWN_WORK from inside the block, even if restored afterwards, is found out.
_ENGINE_RUNS: list[int] = sys.__dict__.setdefault("_chalkgrad_engine_runs", [0])


def refuse_in_own_work(entry: str) -> None:
    """Raise :class:`OwnWorkError` naming ``entry`` if an :func:`own_work` block is open."""
    if OWN_WORK[0]:
        raise OwnWorkError(f"this exercise asks you to write it yourself: {OWN_WORK[0]} must not call {entry}")
    _ENGINE_RUNS[0] += 1
