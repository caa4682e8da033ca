"""Messages for a failing op, in one wording for every path: eager forward and backward, the tape's
replay and its batches (which prefix where it happened: a node, a sample)."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["call_text", "forward_error", "backward_error"]


def call_text(op: Any, xs: Sequence[float]) -> str:
    """``name(operands, bound=...)``: an op applied to numbers, e.g. ``pow_const(0.0, n=-1.0)``."""
    operands = ", ".join([repr(float(x)) for x in xs] + [f"{k}={v!r}" for k, v in op.bound])
    return f"{op.name}({operands})"


def forward_error(op: Any, xs: Sequence[float], error: Exception, where: str = "") -> Exception:
    """``op`` failed on ``xs``: the same exception type, naming the op, its operands and the reason."""
    at = f"{where}: " if where else ""
    if isinstance(error, OverflowError):
        return OverflowError(f"{at}{call_text(op, xs)}: the result is too large for a float ({error})")
    why = f"{op.domain}; " if op.domain else ""
    return type(error)(f"{at}{call_text(op, xs)}: {why}{error}")


def backward_error(op: Any, xs: Sequence[float], error: Exception, where: str = "") -> Exception:
    """``op``'s partials failed on ``xs``: the forward was defined there, its derivative is not."""
    at = f"{where}: " if where else ""
    return type(error)(f"{at}backward through {call_text(op, xs)}: derivative undefined here ({error})")
