"""What every exercise check shares: the registry, calling the student's code, reading numbers back,
and one-line failure messages (the input, what was expected, what came back, the mistake if known)."""

from __future__ import annotations

import inspect
import math
import numbers
import os
import random
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from ...modes import OwnWorkError, own_work
from ...value import Value

__all__ = ["ExerciseFailed", "CHECKS", "check", "needs", "exercise", "call", "number", "number_list", "matrix",
           "answer_dict", "close", "why", "expect", "show", "fmt", "clip", "points", "hidden_rng", "refuse_builtin",
           "parts", "SEED_VARIABLE"]

CHECKS: dict[str, Callable[..., bool]] = {}
SEED_VARIABLE = "CHALKGRAD_COURSE_SEED"  # the instructor's course seed: the hidden tests' numbers


class ExerciseFailed(AssertionError):
    """An exercise's check failed; the message says which input, what was expected and what came back."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"✗ {self}"]


def check(name: str, *functions: Any, hidden: bool = False, seed: int | None = None, quiet: bool = False) -> bool:
    """Run the check of exercise ``name`` on the student's function(s): True, or raise ExerciseFailed.

    ``hidden=True`` (or a ``seed``) runs the hidden tests: the same check on numbers drawn from the
    course seed (the ``CHALKGRAD_COURSE_SEED`` environment variable, 0 if unset) instead of the
    lecture's. ``quiet=True`` prints nothing on a pass (for graders that compare printed output)."""
    if name not in CHECKS:
        raise KeyError(f"check: no exercise named {name!r}; known: {', '.join(sorted(CHECKS))}")
    return CHECKS[name](*functions, hidden=hidden, seed=seed, quiet=quiet)


@contextmanager
def needs(*names: str) -> Iterator[None]:
    """Run a demo cell that uses the student's functions; while one is still a stub, print one line.

        with needs("xor_network"):
            print(xor_network(1, 0))

    A stub raises NotImplementedError; instead of its traceback the cell prints one line, "(this demo
    needs xor_network: write it first)", so that a student version runs top to bottom and only the
    checks fail."""
    try:
        yield
    except NotImplementedError:
        print(f"(this demo needs {' and '.join(names)}: write {'them' if len(names) > 1 else 'it'} first)")


def _course_seed() -> int:
    text = os.environ.get(SEED_VARIABLE, "0").strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} should be a whole number, got {text!r}") from None


def hidden_rng(exercise: str, seed: int) -> random.Random:
    """The hidden tests' random numbers: one stream per exercise and course seed."""
    return random.Random(f"{exercise}/{seed}")


def exercise(name: str) -> Callable[[Callable[..., str]], Callable[..., bool]]:
    """Register ``fn(*functions, rng)`` as the check of exercise ``name``: ``rng`` is None for the
    visible check (the lecture's numbers) and a seeded ``random.Random`` for the hidden one."""
    def register(fn: Callable[..., str]) -> Callable[..., bool]:
        def run(*functions: Any, hidden: bool = False, seed: int | None = None, quiet: bool = False) -> bool:
            if seed is None and hidden:
                seed = _course_seed()
            for f in functions:
                refuse_builtin(name, f)
            passed = fn(*functions, rng=None if seed is None else hidden_rng(name, seed))
            if not quiet:
                print(f"✓ {name}{' (hidden tests)' if seed is not None else ''}: {passed}")
            return True

        run.__name__ = f"check_{name}"
        run.__doc__ = fn.__doc__
        CHECKS[name] = run
        return run

    return register


# --- calling the student's code -----------------------------------------------------------------
def call(exercise: str, fn: Any, *args: Any, shown: str = "", own: bool = False) -> Any:
    """``fn(*args)``, with any exception the student's code raises turned into one readable line.

    ``own=True``: the exercise asks for the work to be done by hand, so the engine's differentiation
    (backward, grad, gradients, tapes, graph walks) is switched off while ``fn`` runs."""
    name = getattr(fn, "__name__", None) or getattr(fn, "name", None) or repr(fn)
    shown = shown or f"{name}({', '.join(show(a) for a in args)})"
    if not callable(fn):
        raise ExerciseFailed(f"{exercise}: expected a function, got {type(fn).__name__} {show(fn)}")
    limit = sys.getrecursionlimit()
    try:
        if own:
            with own_work(exercise):
                return fn(*args)
        return fn(*args)
    except ExerciseFailed:
        raise
    except OwnWorkError as e:
        raise ExerciseFailed(f"{exercise}: {e}") from None
    except NotImplementedError as e:
        hint = f" Hint: {e}" if str(e) else " Write your answer where the cell says YOUR CODE HERE."
        raise ExerciseFailed(f"{exercise}: not written yet ({shown} raised NotImplementedError).{hint}") from None
    except RecursionError:
        raise ExerciseFailed(
            f"{exercise}: {shown} hit Python's recursion limit; walk the graph with a loop and a stack, "
            "not a recursive function"
        ) from None
    except Exception as e:
        raise ExerciseFailed(f"{exercise}: {shown} raised {type(e).__name__}: {clip(str(e))}") from None
    finally:
        sys.setrecursionlimit(limit)  # as it was, whatever the student's code set


def refuse_builtin(exercise: str, fn: Any) -> None:
    """Handing in chalkgrad's own op, rule or method (by identity) is not an answer."""
    rule = getattr(fn, "rule", None) or getattr(fn, "partials", None)  # an Op's partials as written
    parts = [fn, getattr(fn, "forward", None), rule, getattr(fn, "__func__", None)]
    for part in parts:
        module = getattr(part, "__module__", None) or ""
        ours = module.split(".")[0] in ("autograd", "nn") and not module.startswith("autograd.testing")
        if inspect.isroutine(part) and ours:
            op = getattr(fn, "name", None)
            what = f"the rule of op {op!r}" if isinstance(op, str) and part is not fn else \
                getattr(part, "__qualname__", None) or repr(part)
            raise ExerciseFailed(f"{exercise}: this exercise asks you to write it yourself: {what} is chalkgrad's "
                                 f"own ({module}), not your answer")


# --- reading answers ----------------------------------------------------------------------------
def fmt(x: float, spec: str = ".6g") -> str:
    """A number as messages show it: never "-0"."""
    text = format(x + 0.0, spec)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def show(x: Any) -> str:
    if isinstance(x, float):
        return fmt(x)
    if isinstance(x, Value):
        return f"Value({fmt(x.data)})"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(show(v) for v in x[:6]) + (", ..." if len(x) > 6 else "")
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    return clip(repr(x))


def clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def number(exercise: str, what: str, x: Any) -> float:
    """A returned number: a Value's .data, a Python or numpy number (or 0-d array), a Fraction."""
    if isinstance(x, Value):
        return float(x.data)
    if getattr(x, "shape", None) == () and hasattr(x, "item"):  # a numpy scalar or 0-d array
        x = x.item()
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    one = " (an array holding one number: return the number itself, e.g. with .item())" if \
        getattr(x, "size", None) == 1 and hasattr(x, "item") else ""
    raise ExerciseFailed(f"{exercise}: {what} should be a number, got {type(x).__name__} {show(x)}{one}")


def _sequence(x: Any) -> list[Any] | None:
    if isinstance(x, (str, bytes, dict)) or isinstance(x, Value):
        return None
    if hasattr(x, "tolist") and getattr(x, "ndim", 0) >= 1:  # a numpy array
        return list(x)
    return list(x) if isinstance(x, Sequence) else None


def parts(xs: Any, n: int | None = None) -> list[Any] | None:
    """The parts of a returned tuple, list, deque or numpy array (None if it is not one, or not ``n`` long)."""
    items = _sequence(xs)
    return items if items is not None and (n is None or len(items) == n) else None


def number_list(exercise: str, what: str, xs: Any, n: int) -> list[float]:
    """A returned sequence of ``n`` numbers (a list, tuple or numpy array)."""
    items = _sequence(xs)
    if items is None or len(items) != n:
        raise ExerciseFailed(f"{exercise}: {what} should be a list of {n} numbers, got {show(xs)}")
    return [number(exercise, f"{what}[{i}]", x) for i, x in enumerate(items)]


def matrix(exercise: str, what: str, rows: Any, shape: tuple[int, int]) -> list[list[float]]:
    """A returned matrix of the given shape (nested lists or tuples, or a 2-d numpy array)."""
    items = _sequence(rows)
    if items is None or len(items) != shape[0]:
        raise ExerciseFailed(f"{exercise}: {what} should be {shape[0]} rows of {shape[1]} numbers, got {show(rows)}")
    return [number_list(exercise, f"{what}[{i}]", row, shape[1]) for i, row in enumerate(items)]


def answer_dict(exercise: str, got: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The answer as a dict: a dict with these keys, or a list or tuple of the values in this order."""
    if isinstance(got, dict):
        missing = [k for k in keys if k not in got]
        if missing:
            raise ExerciseFailed(f"{exercise}: the result has no entry {missing[0]!r} (return a dict with keys "
                                 f"{', '.join(keys)})")
        return got
    values = parts(got, len(keys))
    if values is not None:
        return dict(zip(keys, values))
    raise ExerciseFailed(f"{exercise}: should return a dict with keys {', '.join(keys)}; got {show(got)}")


def close(got: float, expected: float, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    return abs(got - expected) <= atol + rtol * abs(expected)


def why(got: float, expected: float) -> str:
    """The common mistake that would explain ``got``, if one does."""
    if expected != 0 and close(got, -expected, 1e-6):
        return " (the sign is flipped)"
    if expected != 0 and close(got, 2 * expected, 1e-6):
        return " (twice too large)"
    if expected != 0 and close(got, expected / 2, 1e-6):
        return " (half of what it should be)"
    if got == 0 and expected != 0:
        return " (is a factor of the chain rule missing?)"
    return ""


def expect(exercise: str, what: str, got: float, expected: float, rtol: float = 1e-7, hint: str = "") -> None:
    if not (close(got, expected, rtol) or (math.isnan(got) and math.isnan(expected))):
        mistake = hint or why(got, expected)
        raise ExerciseFailed(f"{exercise}: {what}: expected {fmt(expected)}, got {fmt(got)}{mistake}")


def points(fixed: Sequence[float], lo: float, hi: float, test: Callable[[float], None], n: int = 30,
           rng: random.Random | None = None) -> int:
    """Run ``test`` at fixed points, then at ``n`` drawn points (Hypothesis if installed; ``rng`` for hidden tests)."""
    if rng is not None:
        n = min(n, 12)
        drawn = [round(rng.uniform(lo, hi), 3) for _ in range(n)]
        for x in drawn:
            test(x)
        return n
    for x in fixed:
        test(x)
    if "hypothesis" not in sys.modules:
        try:
            import hypothesis  # noqa: F401
        except ImportError:  # a student's machine without the development extras
            seeded = random.Random(0)
            for _ in range(n):
                test(seeded.uniform(lo, hi))
            return len(fixed) + n
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False))
    def drawn_test(x: float) -> None:
        test(x)

    drawn_test()
    return len(fixed) + n
