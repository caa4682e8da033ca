"""The tape's error messages: the eager engine's wording, prefixed with where (node, sample)."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["call_text", "forward_error", "backward_error"]


def call_text(op: Any, xs: Sequence[float]) -> str:
    """``name(operands, bound=...)``, as the eager engine writes an op applied to numbers."""
    operands = ", ".join([repr(float(x)) for x in xs] + [f"{k}={v!r}" for k, v in op.bound])
    return f"{op.name}({operands})"


def forward_error(where: str, op: Any, xs: Sequence[float], error: Exception) -> Exception:
    """``op`` failed on ``xs``: the eager engine's exception type and reason (autograd.value._domain_error)."""
    if isinstance(error, OverflowError):
        return OverflowError(f"{where}: {call_text(op, xs)}: the result is too large for a float ({error})")
    why = f"{op.domain}; " if op.domain else ""
    return type(error)(f"{where}: {call_text(op, xs)}: {why}{error}")


def backward_error(where: str, op: Any, xs: Sequence[float], error: Exception) -> Exception:
    """``op``'s partials failed on ``xs``: the forward was defined there, its derivative is not."""
    return type(error)(f"{where}: backward through {call_text(op, xs)}: derivative undefined here ({error})")
