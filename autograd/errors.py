"""Conversions and messages, in one wording for every path: eager forward and backward, the tape's
replay and its batches (which prefix where it happened: a node, a sample).

Every message is one line of bounded length: an op with 100,000 operands names the op, the count
and the first few operands worth looking at, never all of them.
"""

from __future__ import annotations

import linecache
import math
import numbers
import re
import sys
from typing import Any, Iterable, Sequence

from .modes import AnomalyError

__all__ = ["PartialsError", "RuleError", "as_float", "names", "short", "call_text", "forward_error",
           "backward_error", "real_result", "wrong_kind", "partials_error", "not_on_backend", "as_inputs",
           "bad_apply", "anomalous_gradient", "describe", "not_a_float", "not_a_leaf", "NO_BACKWARD_SLOT"]

SHOWN = 4  # operands listed in a message; the rest are counted


def short(x: Any, limit: int = 60) -> str:
    """``repr(x)``, cut to ``limit`` characters."""
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def names(items: Any, limit: int = 8) -> str:
    """The first ``limit`` names of ``items`` joined by commas, and how many more: a bounded list for messages."""
    items = list(items)
    more = len(items) - limit
    return ", ".join(map(str, items[:limit])) + (f", ... ({more} more)" if more > 0 else "")


def as_float(x: Any, where: str) -> float:
    """``x`` as a float, or a TypeError/OverflowError naming ``where`` and the offending value."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:  # an int (or Fraction) beyond the float range
            raise OverflowError(f"{where}: {short(x)} is too large for a float") from None
    if hasattr(x, "parents"):
        raise TypeError(f"{where}: expected a number here, got {short(x)} (use .data for its number)")
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {short(x)}")


def _operands(xs: Sequence[Any]) -> list[str]:
    """The operands to show: all of a few; of many, the first non-finite ones (else the first)."""
    if len(xs) <= SHOWN + 2:
        return [short(float(x), 30) for x in xs]
    odd = [x for x in xs[:100_000] if not math.isfinite(x)][:SHOWN] or list(xs[:SHOWN])
    kind = "first non-finite" if not math.isfinite(odd[0]) else "first"
    return [f"{len(xs):,} operands, {kind}: " + ", ".join(short(float(x), 30) for x in odd) + ", ..."]


def call_text(op: Any, xs: Sequence[float]) -> str:
    """``name(operands, bound=...)``: an op applied to numbers, e.g. ``pow_const(0.0, n=-1.0)``."""
    operands = ", ".join(_operands(xs) + [f"{k}={v!r}" for k, v in op.bound])
    return f"{op.name}({operands})"


def forward_error(op: Any, xs: Sequence[float], error: Exception, where: str = "") -> Exception:
    """``op`` failed on ``xs``: the same exception type, naming the op, its operands and the reason."""
    at = f"{where}: " if where else ""
    if isinstance(error, OverflowError):
        return OverflowError(f"{at}{call_text(op, xs)}: the result is too large for a float ({error})")
    why = f"{op.domain}; " if op.domain and str(error) not in op.domain else ""  # never say it twice
    return type(error)(f"{at}{call_text(op, xs)}: {why}{error}")


def forward_failure(op: Any, inputs: Sequence[Any], error: Exception, xs: Sequence[float] | None = None) -> Exception:
    """What to raise when applying ``op`` to ``inputs`` raised ``error``; ``xs``: their numbers, when
    every input was turned into one."""
    if not callable(getattr(op, "forward", None)):
        return bad_apply(op, inputs)
    if isinstance(error, TypeError):
        if op.arity is not None and len(inputs) != op.arity:
            return arity_error(op, len(inputs))
        if op.params and not op.bound:
            return TypeError(f"{op.name}: needs its parameter(s) {', '.join(op.params)}, "
                             f"e.g. {op.name}(x, {op.params[0]}=...)")
        text = str(error)
        return error if text.startswith((op.name, op.symbol)) else TypeError(f"{op.name}: {short(text, 200)[1:-1]}")
    if xs is None and not all(hasattr(x, "parents") for x in inputs):
        return error  # turning a number into a float failed (too large): as_float's message says so
    return forward_error(op, [x.data for x in inputs] if xs is None else xs, error)


def as_inputs(op: Any, inputs: Any) -> tuple[Any, ...]:
    """``autograd.apply``'s inputs as a tuple, or the TypeError that says they must be a sequence."""
    if hasattr(inputs, "parents") or isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise bad_apply(op, inputs)
    return tuple(inputs)


def bad_apply(op: Any, inputs: Any) -> TypeError:
    """``autograd.apply`` was given something other than an op and a sequence of inputs."""
    if not callable(getattr(op, "forward", None)):
        return TypeError(f"apply: op must be an op of the table such as autograd.ops.get('exp'), got {short(op)}")
    return TypeError(f"apply: inputs must be a sequence of Values or numbers, e.g. [x, y], got {short(inputs)}")


def anomalous_value(op: Any, data: float, inputs: Sequence[Any]) -> AnomalyError:
    """The error detect_anomaly raises when ``op`` produces a NaN or an infinity."""
    return AnomalyError(f"{op.name} produced {data!r} from {describe(inputs)}")


def backward_error(op: Any, xs: Sequence[float], error: Exception, where: str = "") -> Exception:
    """``op``'s partials failed on ``xs``: the forward was defined there, its derivative is not."""
    at = f"{where}: " if where else ""
    return type(error)(f"{at}backward through {call_text(op, xs)}: derivative undefined here ({error})")


def _real(x: Any) -> bool:
    """A real number: a float, an int, a bool, a numpy scalar of those (numpy's bool is no numbers.Real)."""
    return isinstance(x, numbers.Real) or type(x).__name__ == "bool_"


def wrong_kind(x: Any, on: str) -> str | None:
    """None if ``x`` is what a rule may return on backend ``on`` ("symbols", "arrays", "values"): a real
    number (a bool counts as 0 or 1, as in Python), or a symbol, a real array, a Value; else ``x`` in
    words."""
    if _real(x):
        return None
    kind = type(x).__name__
    if (on == "symbols" and kind == "Sym") or (on == "values" and (hasattr(x, "parents") or kind == "OnBuiltins")) or (
            on == "arrays" and kind == "ndarray" and x.dtype.kind in "biuf"):
        return None
    return f"{kind} {short(x)}"


def real_result(op: Any, result: Any, xs: Sequence[Any], where: str = "") -> float:
    """A forward rule's result on floats as a float: a real number (an int, a bool or a numpy float
    becomes a float); a complex number is a ValueError (a math error, as ``(-4.0) ** 0.5`` is in a real
    engine), anything else (None, a str, a sequence, a Value) a TypeError; both name the op and inputs."""
    at = f"{where}: " if where else ""
    if _real(result):
        try:
            return float(result)
        except OverflowError:  # an int beyond the float range
            raise OverflowError(f"{at}{call_text(op, xs)}: the result is too large for a float") from None
    if isinstance(result, numbers.Complex):
        raise ValueError(f"{at}{call_text(op, xs)}: the forward rule returned the complex number {short(result)}; "
                         "a Value holds a real number (a negative base with a fractional exponent? m.pow(x, n) "
                         "and m.sqrt(x) refuse it)")
    hint = " (a Value's number is its .data)" if hasattr(result, "parents") else ""
    raise TypeError(f"{at}{call_text(op, xs)}: the forward rule must return a real number, it returned "
                    f"{type(result).__name__} {short(result)}{hint}")


class RuleError(TypeError):
    """A rule written for floats (``math.tanh(x)``, ``if x > 0:``) ran on another backend: symbols,
    arrays or Values.  The message names the op and says what to write instead."""


BACKENDS = {"symbols": "the tape's symbols (generated code)", "arrays": "numpy arrays (a batch)",
           "values": "Values (create_graph, nested transforms)"}
REWRITE = ("write rules with the backend m: m.tanh(x) (not math.tanh(x)), m.select(x, a, b), m.step(x) or "
           "m.maximum(x, 0.0) (not `if x > 0:`)")


def not_on_backend(op: Any, rule: str, backend: str, error: Exception) -> RuleError:
    """``op``'s ``rule`` ("forward" or "partials") failed with ``error`` on ``backend`` ("symbols",
    "arrays"): it was written for floats only."""
    return RuleError(f"{op.name}: its {rule} rule cannot run on {BACKENDS[backend]}: {REWRITE} "
                     f"({type(error).__name__}: {short(str(error), 160)})")


def not_generic(backend_error: Exception) -> bool:
    """True if ``backend_error`` says a rule was written for floats only: math.f on a symbol or an
    array, a comparison of symbols, or numpy's 'truth value of an array is ambiguous' (``if x > 0:``)."""
    text = str(backend_error)
    if isinstance(backend_error, ValueError):
        return "truth value of an array" in text
    return isinstance(backend_error, TypeError) and not isinstance(backend_error, PartialsError)


class PartialsError(TypeError):
    """A partials rule returned something other than a tuple of one derivative per input."""


def partials_error(op: Any, returned: Any, n_inputs: int, on_floats: bool, on: str = "") -> PartialsError | None:
    """None if ``returned`` is what a partials rule must return (a tuple of one derivative per input,
    numbers when evaluated on floats, what :func:`wrong_kind` allows on backend ``on`` otherwise), else
    the TypeError that says what it returned instead."""
    want = f"a tuple of {n_inputs} derivative(s), one per input"
    if not isinstance(returned, tuple):  # a tuple subclass too: the numpy backend's Stack
        got = f"{type(returned).__name__} {short(returned)}"
    elif len(returned) != n_inputs:
        got = f"{len(returned)} value(s) {short(returned)}"
    elif on_floats and not all(map(_real, returned)):
        bad = next(d for d in returned if not _real(d))
        got = f"a tuple holding {type(bad).__name__} {short(bad)}"
    elif on and any(wrong_kind(d, on) for d in returned if type(d) is not float):
        got = "a tuple holding " + next(w for w in (wrong_kind(d, on) for d in returned) if w)
    else:
        return None
    return PartialsError(f"{op.name}: partials must return {want}, e.g. (d,) for one input; it returned {got}")


def arity_error(op: Any, n: int) -> TypeError:
    """``op`` was applied to the wrong number of inputs."""
    return TypeError(f"{op.name}: takes {op.arity} input(s), got {n}")


def no_second_derivative(op: Any, error: Exception) -> TypeError:
    """``op``'s partials could not run on Values (they call math.*, or compare with ==)."""
    return TypeError(
        f"{op.name}: its derivative rule cannot be evaluated on Values, so it has no second derivative "
        f"(needed for create_graph / nested transforms): {type(error).__name__}: {short(str(error), 200)}"
    )


def describe(values: Sequence[Any]) -> str:
    """``label=data`` for a few nodes (the rest counted): what an anomaly message shows of the inputs."""
    shown = ", ".join(f"{v.label or v.op or 'leaf'}={v.data!r}" for v in values[:SHOWN])
    return shown + (f", ... ({len(values):,} inputs)" if len(values) > SHOWN else "")


def anomalous_gradient(node: Any, parent: Any, grad: Any) -> AnomalyError:
    """The error detect_anomaly raises when backward through ``node`` gives ``parent`` a non-finite gradient."""
    return AnomalyError(
        f"backward through {node.op} (label {node.label!r}, inputs {describe(node.parents)}) "
        f"gave a non-finite gradient {short(grad)} for {short(parent)}"
    )


# --- micrograd habits, met with a pointer -----------------------------------------------------------
def not_a_float(methods: Iterable[str], converter: str = "float") -> TypeError:
    """``float(x)``, ``int(x)``, ``round(x)`` or ``math.f(x)`` on a Value: each would cut the graph
    silently.  The hint names the function that received the Value (``x.exp()`` for ``math.exp(x)``)."""
    called = converter if converter != "float" else _called_function()
    name = called.rpartition(".")[2]
    hint = ""
    if called.startswith("math.") and name in methods:
        hint = f"use x.{name}() instead of math.{name}(x) to keep the graph; "
    elif converter != "float":
        hint = f"{converter}(x.data) converts its number; "
    what = {"float": "math functions and float()", "int": "int()", "round": "round()"}[converter]
    return TypeError(
        f"a Value is not a float: {what} would cut it out of the graph; {hint}"
        "Value methods (x.exp(), x.tanh(), x.log(), ...) keep it in, x.item() or x.data give its number"
    )


def _called_function() -> str:
    """The function that received the Value, as written in the caller's source (``math.exp`` of
    ``math.sqrt(2.0) * math.exp(x)``): the call being executed, found from the caller's instruction
    offset and its source position (Python 3.11+; before, only a line with a single call names it);
    "" when unknown (no source, no positions, or a call not written as ``f(...)``)."""
    try:
        frame = sys._getframe(3)  # _called_function <- not_a_float <- Value.__float__ <- the caller
    except ValueError:  # no Python caller
        return ""
    code = frame.f_code
    positions = getattr(code, "co_positions", None)
    where = list(positions())[frame.f_lasti // 2] if positions else (None,) * 4
    line, end_line, col, end_col = where if len(where) == 4 else (None,) * 4
    if line is None or col is None or end_col is None:  # the whole line, if it holds one call only
        text = linecache.getline(code.co_filename, frame.f_lineno)
        calls = re.findall(r"([A-Za-z_][\w.]*)\s*\(", text)
        return calls[0] if len(calls) == 1 else ""
    lines = [linecache.getline(code.co_filename, n) for n in range(line, (end_line or line) + 1)]
    text = "".join(lines)[col:] if len(lines) > 1 else lines[0][col:end_col]
    called = re.match(r"\s*([A-Za-z_][\w.]*)\s*\(", text)
    return called.group(1) if called else ""


def not_a_leaf(label: Any, op: Any) -> TypeError:
    """micrograd's ``Value(data, (a, b), '+')``, or a label that is not a string."""
    if isinstance(label, (tuple, list, set)) or op:
        return TypeError(
            "Value(data, (a, b), '+'): parents are made by operations, not passed in: write a + b, "
            "or autograd.apply(op, [a, b]) for any op of the table"
        )
    return TypeError(f"Value: label must be a str, got {type(label).__name__} {short(label)}")


NO_BACKWARD_SLOT = (
    "a Value has no _backward to set: a node's derivative comes from its op in the table. To add an op "
    "with its own derivative, declare it with autograd.defop(name, forward=..., partials=...)"
)
