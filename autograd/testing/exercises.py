"""Checks for the exercise notebooks (notebooks/exercises/): one function per exercise.

    from autograd.testing.exercises import check_tanh, check
    check_tanh(my_tanh)          # prints "✓ tanh: ..." and returns True
    check("tanh", my_tanh)       # the same check, by name (quiet=True: no pass line)

A check calls the student's function on the lecture's numbers and on drawn inputs and compares
with chalkgrad's own answer.  On a mistake it raises :class:`ExerciseFailed`, an ``AssertionError``
whose message is one line: the input, what was expected, what came back and, where a common
mistake explains the difference, which one.  The student's own exceptions (a stub's
``NotImplementedError`` with its hint included) are reported the same way, never as a traceback;
in Jupyter the failure shows as that one line.  Checks are plain Python, so pytest, nbgrader and
otter-grader can call them as they are.
"""

from __future__ import annotations

import math
import random
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from ..backends import FLOAT
from ..functional import grad
from ..functions import dot
from ..graph import topological_order
from ..value import Value
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["ExerciseFailed", "CHECKS", "check", "needs"]  # and check_<name> for every exercise in CHECKS

CHECKS: dict[str, Callable[..., bool]] = {}


class ExerciseFailed(AssertionError):
    """An exercise's check failed; the message says which input, what was expected and what came back."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"✗ {self}"]


def check(name: str, *functions: Any, quiet: bool = False) -> bool:
    """Run the check of exercise ``name`` on the student's function(s): True, or raise ExerciseFailed.

    ``quiet=True`` prints nothing on a pass (for graders that compare printed output)."""
    if name not in CHECKS:
        raise KeyError(f"check: no exercise named {name!r}; known: {', '.join(sorted(CHECKS))}")
    return CHECKS[name](*functions, quiet=quiet)


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


def _exercise(name: str) -> Callable:
    def register(fn: Callable[..., str]) -> Callable[..., bool]:
        def run(*functions: Any, quiet: bool = False) -> bool:
            passed = fn(*functions)
            if not quiet:
                print(f"✓ {name}: {passed}")
            return True

        run.__name__ = f"check_{name}"
        run.__doc__ = fn.__doc__
        CHECKS[name] = run
        globals()[run.__name__] = run
        __all__.append(run.__name__)
        return run

    return register


# --- calling the student's code -----------------------------------------------------------------
def _call(exercise: str, fn: Any, *args: Any, shown: str = "") -> Any:
    """``fn(*args)``, with any exception the student's code raises turned into one readable line."""
    name = getattr(fn, "__name__", None) or getattr(fn, "name", None) or repr(fn)
    call = shown or f"{name}({', '.join(_show(a) for a in args)})"
    if not callable(fn):
        raise ExerciseFailed(f"{exercise}: expected a function, got {type(fn).__name__} {_show(fn)}")
    try:
        return fn(*args)
    except ExerciseFailed:
        raise
    except NotImplementedError as e:
        raise ExerciseFailed(f"{exercise}: not written yet ({call} raised NotImplementedError). Hint: {e}") from None
    except RecursionError:
        raise ExerciseFailed(
            f"{exercise}: {call} hit Python's recursion limit; walk the graph with a loop and a stack, "
            "not a recursive function"
        ) from None
    except Exception as e:
        raise ExerciseFailed(f"{exercise}: {call} raised {type(e).__name__}: {_clip(str(e))}") from None


def _show(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, Value):
        return f"Value({x.data:.6g})"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_show(v) for v in x[:6]) + (", ..." if len(x) > 6 else "")
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    return _clip(repr(x))


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _number(exercise: str, what: str, x: Any) -> float:
    """A returned number (a Value's .data, a float, an int); anything else is named."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise ExerciseFailed(f"{exercise}: {what} should be a number, got {type(x).__name__} {_show(x)}")


def _numbers(exercise: str, what: str, xs: Any, n: int) -> list[float]:
    if not isinstance(xs, (list, tuple)) or len(xs) != n:
        raise ExerciseFailed(f"{exercise}: {what} should be a list of {n} numbers, got {_show(xs)}")
    return [_number(exercise, f"{what}[{i}]", x) for i, x in enumerate(xs)]


def _close(got: float, expected: float, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    return abs(got - expected) <= atol + rtol * abs(expected)


def _why(got: float, expected: float) -> str:
    """The common mistake that would explain ``got``, if one does."""
    if expected != 0 and _close(got, -expected, 1e-6):
        return " (the sign is flipped)"
    if expected != 0 and _close(got, 2 * expected, 1e-6):
        return " (twice too large)"
    if expected != 0 and _close(got, expected / 2, 1e-6):
        return " (half of what it should be)"
    if got == 0 and expected != 0:
        return " (is a factor of the chain rule missing?)"
    return ""


def _expect(exercise: str, what: str, got: float, expected: float, rtol: float = 1e-7, hint: str = "") -> None:
    if not _close(got, expected, rtol):
        raise ExerciseFailed(f"{exercise}: {what}: expected {expected:.6g}, got {got:.6g}{hint or _why(got, expected)}")


def _points(fixed: Sequence[float], lo: float, hi: float, test: Callable[[float], None], n: int = 30) -> int:
    """Run ``test`` at fixed points, then at ``n`` points drawn by Hypothesis (seeded draws if absent)."""
    for x in fixed:
        test(x)
    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
    except ImportError:  # a student's machine without the development extras
        rng = random.Random(0)
        for _ in range(n):
            test(rng.uniform(lo, hi))
        return len(fixed) + n

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False))
    def drawn(x: float) -> None:
        test(x)

    drawn()
    return len(fixed) + n


# --- 01 derivatives by hand: user ops made with defop ------------------------------------------
def _unary_op(exercise: str, op: Any, f: Callable, df: Callable, d2f: Callable, fname: str) -> str:
    def at(x: float) -> None:
        y = _call(exercise, op, Value(x), shown=f"{fname}({x:.6g})")
        _expect(exercise, f"{fname}({x:.6g})", _number(exercise, f"{fname}({x:.6g})", y), f(x))
        d1 = _call(exercise, grad(lambda v: op(v)), x, shown=f"the backward pass through {fname} at x = {x:.6g}")
        _expect(exercise, f"d/dx {fname}(x) at x = {x:.6g}", d1, df(x))
        on_values = " — write the derivative with m's functions (m.exp, not math.exp) so it can be differentiated again"
        try:
            shown = f"the second derivative of {fname} at x = {x:.6g}"
            d2 = _call(exercise, grad(grad(lambda v: op(v))), x, shown=shown)
        except ExerciseFailed as e:
            raise ExerciseFailed(f"{e}{on_values if 'TypeError' in str(e) else ''}") from None
        d2 = _number(exercise, "d²/dx²", d2)
        _expect(exercise, f"d²/dx² {fname}(x) at x = {x:.6g}", d2, d2f(x), 1e-6, hint=on_values if d2 == 0 else "")
        for checker in (gradcheck, gradgradcheck):
            try:
                checker(lambda v: op(v), [x])
            except GradcheckError as e:
                raise ExerciseFailed(f"{exercise}: {checker.__name__} at x = {x:.6g}: {_clip(str(e))}") from None

    n = _points([0.0, 0.5, -1.5, 2.0], -4.0, 4.0, at)
    return f"{fname}, its first and second derivatives match at {n} points (gradcheck and gradgradcheck pass)"


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@_exercise("tanh")
def _check_tanh(op: Any) -> str:
    """The op made with defop computes tanh, and its partials give tanh' (and, differentiated, tanh'')."""
    return _unary_op("tanh", op, math.tanh, lambda x: 1 - math.tanh(x) ** 2,
                     lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), "my_tanh")


@_exercise("sigmoid")
def _check_sigmoid(op: Any) -> str:
    """The op made with defop computes σ, and its partials give σ' = σ(1 − σ) (and σ'')."""
    return _unary_op("sigmoid", op, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
                     lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x)), "my_sigmoid")


@_exercise("softplus")
def _check_softplus(op: Any) -> str:
    """The op made with defop computes log(1 + eˣ), and its partials give σ(x) (and σ')."""
    return _unary_op("softplus", op, lambda x: math.log1p(math.exp(x)), _sigmoid,
                     lambda x: _sigmoid(x) * (1 - _sigmoid(x)), "my_softplus")


# --- 02 the backward pass ----------------------------------------------------------------------
class _Graph:
    """A random expression over a few leaves in which nodes are reused; built twice, identically."""

    UNARY = ("tanh", "sigmoid", "exp_neg_sq")
    BINARY = ("+", "*", "-")

    def __init__(self, seed: int, n_leaves: int = 3, n_nodes: int = 6) -> None:
        rng = random.Random(seed)
        self.leaves = [round(rng.uniform(-1.5, 1.5), 2) for _ in range(n_leaves)]
        self.steps: list[tuple[str, tuple[int, ...]]] = []
        for k in range(n_nodes):
            n = n_leaves + k
            newest = n - 1  # each step uses the latest node, so everything reaches the output
            if rng.random() < 0.3:
                self.steps.append((rng.choice(self.UNARY), (newest,)))
            else:
                self.steps.append((rng.choice(self.BINARY), (newest, rng.randrange(n))))

    @classmethod
    def fixed(cls, leaves: list[float], steps: list[tuple[str, tuple[int, ...]]]) -> "_Graph":
        g = cls.__new__(cls)
        g.leaves, g.steps = leaves, steps
        return g

    def build(self) -> list[Value]:
        names = "abcdefgh"
        nodes = [Value(x, label=names[i]) for i, x in enumerate(self.leaves)]
        for k, (op, args) in enumerate(self.steps):
            a = nodes[args[0]]
            b = nodes[args[1]] if len(args) > 1 else a
            out = _STEP[op](a, b)
            out.label = f"t{k + 1}"
            nodes.append(out)
        return nodes

    def describe(self) -> str:
        names = [chr(ord("a") + i) for i in range(len(self.leaves))] + [f"t{k + 1}" for k in range(len(self.steps))]
        parts = [", ".join(f"{names[i]} = {x:g}" for i, x in enumerate(self.leaves))]
        for k, (op, args) in enumerate(self.steps):
            a = names[args[0]]
            b = names[args[1]] if len(args) > 1 else a
            unary = {"tanh": f"tanh({a})", "sigmoid": f"sigmoid({a})", "exp_neg_sq": f"exp(-{a}*{a})"}
            expr = unary.get(op, f"{a} {op} {b}")
            parts.append(f"{names[len(self.leaves) + k]} = {expr}")
        return "; ".join(parts)

    def uses(self, i: int) -> int:
        """How many times node i is an operand (a in exp(-a*a) counts twice)."""
        return sum(args.count(i) if len(args) > 1 else 1 + (op == "exp_neg_sq") for op, args in self.steps if i in args)


_STEP: dict[str, Callable[[Value, Value], Value]] = {
    "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(), "exp_neg_sq": lambda a, b: (-(a * a)).exp(),
    "+": lambda a, b: a + b, "*": lambda a, b: a * b, "-": lambda a, b: a - b,
}
_REUSE = _Graph.fixed([3.0], [("*", (0, 0)), ("+", (1, 0))])  # x*x + x: x is used three times


def _graphs(count: int) -> list[_Graph]:
    return [_REUSE, _Graph.fixed([0.5, -1.2], [("*", (0, 1)), ("tanh", (0,)), ("+", (2, 3))])] + [
        _Graph(seed) for seed in range(count)
    ]


@_exercise("topological_sort")
def _check_topological_sort(fn: Any) -> str:
    """fn(root) lists every node root depends on once, parents before children, without recursion."""
    for g in _graphs(20):
        nodes = g.build()
        order = _own_sort(fn, nodes[-1], f"topological_sort on  {g.describe()}")
        _check_order(order, nodes[-1], g.describe())
    chain = Value(0.1, label="x0")
    for _ in range(5000):
        chain = chain * 1.0
    order = _own_sort(fn, chain, "topological_sort on a chain of 5000 multiplications")
    _check_order(order, chain, "a chain of 5000 multiplications")
    return "every node once, parents first, on 22 graphs with reused nodes and a 5000-node chain"


def _own_sort(fn: Any, root: Value, shown: str) -> Any:
    """``fn(root)`` with chalkgrad's own graph walks (autograd.graph's topological_order and reachable)
    switched off, wherever the student's module or the package names them: the point is to write one."""
    import autograd

    from .. import graph

    message = "topological_sort: write the walk yourself; this exercise must not call autograd's topological_order"
    if fn is graph.topological_order or fn is graph.reachable:
        raise ExerciseFailed(message)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ExerciseFailed(message)

    originals = (graph.topological_order, graph.reachable)
    spaces = [vars(graph), vars(autograd)]
    student_globals = getattr(fn, "__globals__", None)
    if isinstance(student_globals, dict):
        spaces.append(student_globals)
    saved = [(space, name, value) for space in spaces for name, value in list(space.items())
             if any(value is o for o in originals)]
    for space, name, _ in saved:
        space[name] = refuse
    try:
        return _call("topological_sort", fn, root, shown=shown)
    finally:
        for space, name, value in saved:
            space[name] = value


def _check_order(order: Any, root: Value, where: str) -> None:
    if not isinstance(order, (list, tuple)):
        raise ExerciseFailed(f"topological_sort: should return a list of nodes, got {type(order).__name__}")
    seen: dict[int, int] = {}
    for i, v in enumerate(order):
        if not isinstance(v, Value):
            raise ExerciseFailed(f"topological_sort: entry {i} is {type(v).__name__} {_show(v)}, not a node "
                                 f"(on {where})")
        if id(v) in seen:
            raise ExerciseFailed(f"topological_sort: node {v.label or v.op or v.data!r} appears twice on {where} "
                                 "(keep a set of visited nodes)")
        seen[id(v)] = i
    wanted = _reachable(root)
    missing = [v for v in wanted if id(v) not in seen]
    if missing:
        m = missing[0]
        raise ExerciseFailed(f"topological_sort: node {m.label or m.op or m.data!r} is missing on {where}")
    if len(seen) != len(wanted):
        raise ExerciseFailed(f"topological_sort: {len(seen) - len(wanted)} node(s) that the output does not depend on")
    for v in order:
        for p in v.parents:
            if seen[id(p)] > seen[id(v)]:
                raise ExerciseFailed(
                    f"topological_sort: {p.label or p.op} comes after its child {v.label or v.op} on {where} "
                    "(parents must come first)"
                )


def _reachable(root: Value) -> list[Value]:
    nodes, seen = [root], {id(root)}
    for v in nodes:
        for p in v.parents:
            if id(p) not in seen:
                seen.add(id(p))
                nodes.append(p)
    return nodes


@_exercise("backward")
def _check_backward(fn: Any) -> str:
    """fn(root) fills every leaf's .grad with d root / d leaf, as Value.backward does."""
    graphs = _graphs(30)
    for g in graphs:
        mine, theirs = g.build(), g.build()
        _no_backward("backward", fn, mine[-1], shown=f"backward on  {g.describe()}",
                     message="backward: write the chain-rule loop yourself; this exercise must not call Value.backward")
        theirs[-1].backward()
        for i, (a, b) in enumerate(zip(mine[: len(g.leaves)], theirs)):
            got = _number("backward", f"{a.label}.grad", a.grad)
            if not _close(got, b.grad, 1e-9):
                raise ExerciseFailed(
                    f"backward: on  {g.describe()}  (output {theirs[-1].label}): {a.label}.grad: expected "
                    f"{b.grad:.6g}, got {got:.6g}{_backward_mistake(g, i, got, b.grad)}"
                )
    return f"leaf gradients equal Value.backward's on {len(graphs)} graphs with reused nodes"


def _backward_mistake(g: _Graph, leaf: int, got: float, expected: float) -> str:
    """Name the mistake if a chain-rule loop that makes it gives the student's number."""
    if _close(got, _flawed_backward(g, leaf, overwrite=True), 1e-9):
        label = g.build()[leaf].label
        return f"; {label} is used {g.uses(leaf)} times: add (+=) each contribution instead of overwriting (=)"
    if _close(got, _flawed_backward(g, leaf, outer_factor=False), 1e-9):
        return "; multiply each local derivative by the node's own gradient (the chain rule's outer factor)"
    if _close(got, _flawed_backward(g, leaf, children_first=False), 1e-9):
        return "; visit the nodes children first: reversed(topological order)"
    if got == 0:
        return " (nothing reached it: does root.grad start at 1?)"
    return _why(got, expected)


def _flawed_backward(g: _Graph, leaf: int, overwrite: bool = False, outer_factor: bool = True,
                     children_first: bool = True) -> float:
    """The leaf's gradient from a chain-rule loop with one classic mistake."""
    nodes = g.build()
    nodes[-1].grad = 1.0
    order = topological_order(nodes[-1])
    for node in reversed(order) if children_first else order:
        if node.fn is not None:
            ds = node.fn.partials(FLOAT, node.data, *[p.data for p in node.parents])
            for p, d in zip(node.parents, ds):
                p.grad = (0.0 if overwrite else p.grad) + (node.grad if outer_factor else 1.0) * d
    return float(nodes[leaf].grad)


@_exercise("central_difference")
def _check_central_difference(fn: Any) -> str:
    """fn(f, x, h) approximates f'(x) by (f(x + h) − f(x − h)) / 2h, accurate to O(h²)."""
    cases = [("exp", math.exp, 1.0, math.e), ("sin", math.sin, 0.3, math.cos(0.3)),
             ("x ** 3", lambda x: x ** 3, -2.0, 12.0), ("tanh", math.tanh, 0.7, 1 - math.tanh(0.7) ** 2)]
    h = 1e-4
    for name, f, x, exact in cases:
        got = _number("central_difference", "the result", _call(
            "central_difference", fn, f, x, h, shown=f"central_difference({name}, {x}, h={h})"))
        if not _close(got, exact, 1e-7):
            hint = _why(got, exact)
            if not hint and abs(got - exact) < 1e-3 * abs(exact):
                hint = " (the error is O(h): a one-sided difference? use f(x + h) and f(x - h))"
            raise ExerciseFailed(
                f"central_difference: f = {name} at x = {x}, h = {h}: expected {exact:.10g}, got {got:.10g}{hint}")
    return f"f'(x) to 7 digits for {len(cases)} functions with h = {h}"


# --- 03 the lectures' worked examples ----------------------------------------------------------
def _no_backward(exercise: str, fn: Any, *args: Any, shown: str = "", message: str = "") -> Any:
    """Call fn(*args) with Value.backward switched off: the point is to do the chain rule by hand."""
    original = Value.backward
    message = message or f"{exercise}: compute it by hand; this exercise must not call backward()"

    def refuse(self: Value, *args: Any, **kwargs: Any) -> None:
        raise ExerciseFailed(message)

    Value.backward = refuse  # type: ignore[method-assign]
    try:
        return _call(exercise, fn, *args, shown=shown)
    finally:
        Value.backward = original  # type: ignore[method-assign]


def _compare_dict(exercise: str, got: Any, expected: dict[str, Any], rtol: float = 1e-9) -> None:
    if not isinstance(got, dict):
        raise ExerciseFailed(f"{exercise}: should return a dict with keys {', '.join(expected)}; got {_show(got)}")
    for key, want in expected.items():
        if key not in got:
            raise ExerciseFailed(f"{exercise}: the result has no entry {key!r}")
        if isinstance(want, list):
            flat_want = [x for row in want for x in (row if isinstance(row, list) else [row])]
            g = got[key]
            flat_got = [x for row in g for x in (row if isinstance(row, (list, tuple)) else [row])] \
                if isinstance(g, (list, tuple)) else None
            if flat_got is None or len(flat_got) != len(flat_want):
                raise ExerciseFailed(f"{exercise}: {key}: expected {want}, got {_show(g)}")
            for i, (a, b) in enumerate(zip(flat_got, flat_want)):
                _expect(exercise, f"{key} (entry {i} of {_show(want)})", _number(exercise, key, a), b, rtol)
        else:
            _expect(exercise, key, _number(exercise, key, got[key]), want, rtol)


def _imperial_reference() -> dict[str, float]:
    w_a, b_a = [Value(0.25), Value(0.75), Value(0.75)], Value(1.0)
    w_b, b_b = [Value(0.5), Value(0.125), Value(0.25)], Value(1.0)
    w_c, b_c = [Value(0.5), Value(0.125)], Value(0.5)
    x, y, lr = [4.0, -8.0, 4.0], 2.0, 0.1
    s_a, s_b = dot(w_a, x, b_a), dot(w_b, x, b_b)
    f_a, f_b = s_a.relu(), s_b.relu()
    s_c = dot(w_c, [f_a, f_b], b_c)
    f_c = s_c.relu()
    loss = 0.5 * (f_c - y) ** 2
    loss.backward()
    return {"f_a": f_a.data, "f_b": f_b.data, "f_c": f_c.data, "loss": loss.data, "delta_c": s_c.grad,
            "delta_b": s_b.grad, "w_3b": w_b[2].data - lr * w_b[2].grad}


@_exercise("imperial_example")
def _check_imperial_example(fn: Any) -> str:
    """fn() returns the Imperial College 3-2-1 ReLU example's values, deltas and updated w_3b, by hand."""
    expected = _imperial_reference()
    _compare_dict("imperial_example", _no_backward("imperial_example", fn), expected)
    return "f_c = 0.875, loss = 0.6328, δ_c = −1.125, δ_b = −0.140625, w_3b → 0.30625, as the engine computes"


def _and_reference() -> dict[str, Any]:
    W1 = [[Value(-0.9), Value(0.9)], [Value(0.0), Value(0.9)]]
    W2 = [Value(-0.9), Value(0.9)]
    x, y, lr = [1.0, 1.0], 1.0, 0.2

    def forward() -> Value:
        return dot(W2, [dot(row, x).relu() for row in W1])

    f = forward()
    loss = (y - f) ** 2
    loss.backward()
    out: dict[str, Any] = {"f": f.data, "loss": loss.data, "grad_W2": [w.grad for w in W2],
                           "grad_W1": [[w.grad for w in row] for row in W1]}
    for w in [*W1[0], *W1[1], *W2]:
        w.data -= lr * w.grad
    out.update(W2=[w.data for w in W2], W1=[[w.data for w in row] for row in W1], f_new=forward().data)
    return out


@_exercise("and_example")
def _check_and_example(fn: Any) -> str:
    """fn() returns the ETH tutorial's AND example: output, loss, gradients, updated weights, new output."""
    expected = _and_reference()
    _compare_dict("and_example", _no_backward("and_example", fn), expected)
    return "f = 0.81, loss = 0.0361, W2 → [−0.9, 0.9684], W1 → [[−0.9, 0.9], [0.0684, 0.9684]], new f = 1.004"


@_exercise("one_hidden_unit")
def _check_one_hidden_unit(fn: Any) -> str:
    """fn(w, w1, x) returns (df/dw, df/dw1) for f = w·σ(w1·x), by the chain rule, without backward()."""
    def at(x: float) -> None:
        w, w1 = 0.8 - 0.3 * x, 0.5 + 0.2 * x
        got = _no_backward("one_hidden_unit", fn, w, w1, x)
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            raise ExerciseFailed(f"one_hidden_unit: should return (df/dw, df/dw1), got {_show(got)}")
        vw, vw1 = Value(w), Value(w1)
        (vw * (vw1 * x).sigmoid()).backward()
        where = f"at w = {w:.6g}, w1 = {w1:.6g}, x = {x:.6g}"
        _expect("one_hidden_unit", f"df/dw {where}", _number("one_hidden_unit", "df/dw", got[0]), vw.grad)
        _expect("one_hidden_unit", f"df/dw1 {where}", _number("one_hidden_unit", "df/dw1", got[1]), vw1.grad,
                hint=" (the chain rule has three factors here: w, σ'(w1·x) and x)")

    n = _points([1.5, -2.0], -3.0, 3.0, at, n=20)
    return f"both derivatives equal backward()'s at {n} points"


# --- 04 networks -------------------------------------------------------------------------------
def _params(rng: random.Random, n: int) -> list[Value]:
    return [Value(round(rng.uniform(-1, 1), 3)) for _ in range(n)]


def _check_graph(exercise: str, out: Any, ref: Value, params: list[Value], refparams: list[Value],
                 where: str, names: list[str]) -> None:
    if not isinstance(out, Value):
        raise ExerciseFailed(f"{exercise}: {where} should return a Value (so gradients can flow), "
                             f"got {type(out).__name__} {_show(out)}")
    _expect(exercise, f"{where}", out.data, ref.data, 1e-9)
    out.backward()
    ref.backward()
    for i, (p, q) in enumerate(zip(params, refparams)):
        got = _number(exercise, f"the gradient of {names[i]}", p.grad)
        if not _close(got, q.grad, 1e-9):
            raise ExerciseFailed(f"{exercise}: {where}: d output / d {names[i]}: expected {q.grad:.6g}, got "
                                 f"{got:.6g} (keep the Values: no .data inside the network)")


@_exercise("neuron")
def _check_neuron(fn: Any) -> str:
    """fn(w, b, x) = relu(w·x + b), built from Values so that w and b get gradients."""
    for seed in range(10):
        rng = random.Random(seed)
        n = 1 + seed % 4
        w, b, x = _params(rng, n), _params(rng, 1)[0], [round(rng.uniform(-2, 2), 2) for _ in range(n)]
        if seed == 0:
            w, b, x = [Value(0.5)], Value(0.25), [1.0]
        w2, b2 = [Value(v.data) for v in w], Value(b.data)
        out = _call("neuron", fn, w, b, x)
        where = f"neuron(w={_show([v.data for v in w])}, b={b.data:g}, x={_show(x)})"
        _check_graph("neuron", out, dot(w2, x, b2).relu(), [*w, b], [*w2, b2], where,
                     [*(f"w[{i}]" for i in range(n)), "b"])
    return "relu(w·x + b) and its gradients on 10 neurons"


@_exercise("layer")
def _check_layer(fn: Any) -> str:
    """fn(W, b, x) = [relu(W[i]·x + b[i]) for each unit i]: a list of Values."""
    for seed in range(8):
        rng = random.Random(100 + seed)
        n_in, n_out = 1 + seed % 3, 1 + (seed * 7) % 4
        W = [_params(rng, n_in) for _ in range(n_out)]
        b = _params(rng, n_out)
        x = [round(rng.uniform(-2, 2), 2) for _ in range(n_in)]
        W2, b2 = [[Value(v.data) for v in row] for row in W], [Value(v.data) for v in b]
        outs = _call("layer", fn, W, b, x)
        where = f"layer of {n_out} unit(s) with {n_in} input(s), x={_show(x)}"
        if not isinstance(outs, (list, tuple)) or len(outs) != n_out:
            raise ExerciseFailed(f"layer: {where}: should return a list of {n_out} Values, got {_show(outs)}")
        for j, (o, row, bj, row2, bj2) in enumerate(zip(outs, W, b, W2, b2)):
            _check_graph("layer", o, dot(row2, x, bj2).relu(), [*row, bj], [*row2, bj2], f"{where}, unit {j}",
                         [*(f"W[{j}][{i}]" for i in range(n_in)), f"b[{j}]"])
    return "every unit's relu(W[i]·x + b[i]) and its gradients on 8 layers"


def _mlp_reference(layers: list[tuple[list[list[Value]], list[Value]]], x: list[Any]) -> Value:
    h: list[Any] = list(x)
    for k, (W, b) in enumerate(layers):
        z = [dot(row, h, bi) for row, bi in zip(W, b)]
        h = z if k == len(layers) - 1 else [zi.relu() for zi in z]
    out: Value = h[0]
    return out


@_exercise("mlp")
def _check_mlp(fn: Any) -> str:
    """fn(layers, x): ReLU layers, then a linear output unit; layers is a list of (W, b)."""
    for seed in range(6):
        rng = random.Random(200 + seed)
        sizes = [2, 3, 3, 1] if seed % 2 else [3, 4, 1]
        layers = [([_params(rng, n_in) for _ in range(n_out)], _params(rng, n_out))
                  for n_in, n_out in zip(sizes, sizes[1:])]
        twin = [([[Value(v.data) for v in row] for row in W], [Value(v.data) for v in b]) for W, b in layers]
        x = [round(rng.uniform(-2, 2), 2) for _ in range(sizes[0])]
        out = _call("mlp", fn, layers, x)
        ref = _mlp_reference(twin, x)
        flat = [v for W, b in layers for v in [*[w for row in W for w in row], *b]]
        flat2 = [v for W, b in twin for v in [*[w for row in W for w in row], *b]]
        where = f"mlp with sizes {sizes} at x={_show(x)}"
        if isinstance(out, Value) and not _close(out.data, ref.data, 1e-9):
            relu_out = ref.data < 0 and out.data == 0
            hint = " (no ReLU on the output layer: it is linear)" if relu_out else ""
            why = hint or _why(out.data, ref.data)
            raise ExerciseFailed(f"mlp: {where}: expected {ref.data:.6g}, got {out.data:.6g}{why}")
        _check_graph("mlp", out, ref, flat, flat2, where, [f"parameter {i}" for i in range(len(flat))])
    return "outputs and gradients of 6 networks (ReLU hidden layers, linear output)"


@_exercise("xor")
def _check_xor(fn: Any) -> str:
    """fn(x1, x2) is the hand-set ReLU network v·relu(Wx + b) and returns XOR of x1, x2."""
    for x1, x2 in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        got = _number("xor", f"xor_network({x1}, {x2})", _call("xor", fn, x1, x2))
        _expect("xor", f"xor_network({x1}, {x2})", got, float(x1 != x2))
    return "0, 1, 1, 0 on the four inputs"


# --- 05 training -------------------------------------------------------------------------------
@_exercise("momentum_step")
def _check_momentum_step(fn: Any) -> str:
    """fn(w, a, g, lr, m) returns (new w, new a) with a ← m·a + lr·g and w ← w − a (lists of floats)."""
    rng = random.Random(5)
    w, a = [0.5, -1.0, 2.0], [0.0, 0.0, 0.0]
    for step, lr in enumerate([0.1, 0.1, 0.05, 0.02]):
        g = [round(rng.uniform(-1, 1), 3) for _ in w]
        m = 0.9
        got = _call("momentum_step", fn, list(w), list(a), list(g), lr, m)
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            raise ExerciseFailed(f"momentum_step: should return (new_w, new_a), got {_show(got)}")
        new_a = [m * ai + lr * gi for ai, gi in zip(a, g)]
        new_w = [wi - ai for wi, ai in zip(w, new_a)]
        where = f"step {step + 1} (w={_show(w)}, a={_show(a)}, g={_show(g)}, lr={lr}, m={m})"
        got_w = _numbers("momentum_step", "new_w", got[0], len(w))
        got_a = _numbers("momentum_step", "new_a", got[1], len(w))
        for i in range(len(w)):
            _expect("momentum_step", f"{where}: a[{i}]", got_a[i], new_a[i], 1e-9,  # a named mistake first
                    hint=_why(got_a[i], new_a[i]) or " (the lecture's form puts lr inside a: a ← m·a + lr·g)")
            _expect("momentum_step", f"{where}: w[{i}]", got_w[i], new_w[i], 1e-9)
        w, a = new_w, new_a
    return "4 steps of a ← m·a + lr·g, w ← w − a with a changing learning rate"


@_exercise("inverse_time")
def _check_inverse_time(fn: Any) -> str:
    """fn(t) = min(0.1, 100/t) for t = 1, 2, 3, ...; constant 0.1 up to t = 1000, then decaying."""
    for t in [1, 2, 10, 999, 1000, 1001, 2000, 10 ** 5]:
        got = _number("inverse_time", f"inverse_time({t})", _call("inverse_time", fn, t))
        _expect("inverse_time", f"inverse_time({t})", got, min(0.1, 100 / t))
    return "min(0.1, 100/t) at 8 steps from t = 1 to 100000"


@_exercise("l2_gradient")
def _check_l2_gradient(fn: Any) -> str:
    """fn(w, lam) is the gradient of the penalty lam/2 · Σ w² with respect to each w (a list of floats)."""
    for seed in range(5):
        rng = random.Random(300 + seed)
        w = [round(rng.uniform(-2, 2), 3) for _ in range(1 + seed)]
        lam = [0.1, 0.01, 1.0, 0.5, 3e-3][seed]
        vs = [Value(x) for x in w]
        (lam / 2 * sum((v * v for v in vs), Value(0.0))).backward()
        got = _numbers("l2_gradient", f"l2_gradient({_show(w)}, {lam})", _call("l2_gradient", fn, list(w), lam), len(w))
        for i, (g, v) in enumerate(zip(got, vs)):
            _expect("l2_gradient", f"l2_gradient(w={_show(w)}, lam={lam})[{i}]", g, v.grad, 1e-9)
    return "lam·w, the gradient backward() gives for lam/2 Σ w², on 5 weight vectors"


@_exercise("dropout_scale")
def _check_dropout_scale(fn: Any) -> str:
    """fn(W, p) scales trained weights for test time when units were dropped with probability p."""
    for p in [0.5, 0.2, 0.8]:
        W = [[0.4, -1.2], [2.0, 0.5]]
        got = _call("dropout_scale", fn, [list(r) for r in W], p)
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            raise ExerciseFailed(f"dropout_scale: should return a matrix like W, got {_show(got)}")
        for i, (row, grow) in enumerate(zip(W, got)):
            gr = _numbers("dropout_scale", f"row {i}", grow, 2)
            for j, (w, g) in enumerate(zip(row, gr)):
                hint = " (p is the probability of dropping a unit; the keep probability is 1 − p)" \
                    if _close(g, w * p) else ""
                _expect("dropout_scale", f"dropout_scale(W, p={p})[{i}][{j}] with W[{i}][{j}] = {w}", g,
                        w * (1 - p), 1e-9, hint=hint)
    return "weights times the keep probability 1 − p, for p = 0.5, 0.2, 0.8"


@_exercise("init_variance")
def _check_init_variance(fn: Any) -> str:
    """fn(kind, n_in, n_out) is the weight variance: 'he' → 2/n_in, 'glorot' → 2/(n_in + n_out)."""
    for n_in, n_out in [(2, 1), (100, 50), (784, 10), (3, 300)]:
        for kind, want in [("he", 2 / n_in), ("glorot", 2 / (n_in + n_out))]:
            what = f"init_variance({kind!r}, n_in={n_in}, n_out={n_out})"
            got = _number("init_variance", what, _call("init_variance", fn, kind, n_in, n_out))
            hint = " (that is the standard deviation; return the variance)" if _close(got, math.sqrt(want)) else ""
            _expect("init_variance", what, got, want, 1e-9, hint=hint)
    return "He 2/n_in and Glorot 2/(n_in + n_out) for 4 layer shapes"
