"""Checks of exercises 2 (the backward pass): the graphs they run on and the classic mistakes they name.

The graphs reuse nodes in both operand orders (``a + a*2`` and ``a*2 + a``: a node used before and
after something built from it), which is what exposes a topological sort that marks a node visited
when it is pushed rather than when it is expanded; a 5000-node chain runs under the default
recursion limit (restored afterwards, even if the student's code changed it)."""

from __future__ import annotations

import math
import random
import sys
from typing import Any, Callable

from ...backends import FLOAT
from ...graph import topological_order
from ...value import Value
from .core import ExerciseFailed, call, close, exercise, fmt, number, parts, why

__all__ = ["Graph", "check_topological_sort", "check_backward", "check_central_difference", "visited_on_push"]


class Graph:
    """An expression over a few leaves in which nodes are reused; built twice, identically."""

    UNARY = ("tanh", "sigmoid", "exp_neg_sq")
    BINARY = ("+", "*", "-")

    def __init__(self, leaves: list[float], steps: list[tuple[str, tuple[int, ...]]]) -> None:
        self.leaves, self.steps = leaves, steps

    @classmethod
    def drawn(cls, rng: random.Random, n_leaves: int = 3, n_nodes: int = 6) -> "Graph":
        leaves = [round(rng.uniform(-1.5, 1.5), 2) for _ in range(n_leaves)]
        steps: list[tuple[str, tuple[int, ...]]] = []
        for k in range(n_nodes):
            n = n_leaves + k
            newest = n - 1  # each step uses the latest node, so everything reaches the output
            if rng.random() < 0.3:
                steps.append((rng.choice(cls.UNARY), (newest,)))
            else:
                pair = (newest, rng.randrange(n))
                steps.append((rng.choice(cls.BINARY), pair if rng.random() < 0.5 else pair[::-1]))
        return cls(leaves, steps)

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
        parts = [", ".join(f"{names[i]} = {fmt(x)}" for i, x in enumerate(self.leaves))]
        for k, (op, args) in enumerate(self.steps):
            a = names[args[0]]
            b = names[args[1]] if len(args) > 1 else a
            unary = {"tanh": f"tanh({a})", "sigmoid": f"sigmoid({a})", "exp_neg_sq": f"exp(-{a}*{a})"}
            parts.append(f"{names[len(self.leaves) + k]} = {unary.get(op, f'{a} {op} {b}')}")
        return "; ".join(parts)

    def uses(self, i: int) -> int:
        """How many times node i is an operand (a in exp(-a*a) counts twice)."""
        return sum(args.count(i) if len(args) > 1 else 1 + (op == "exp_neg_sq") for op, args in self.steps if i in args)


_STEP: dict[str, Callable[[Value, Value], Value]] = {
    "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(), "exp_neg_sq": lambda a, b: (-(a * a)).exp(),
    "+": lambda a, b: a + b, "*": lambda a, b: a * b, "-": lambda a, b: a - b,
}
# x = 3; t1 = x*c (a node); t2 = t1*d; t3 = t1 + t2 and t3 = t2 + t1: t1 is used before and after t2, built from it
_FIXED = [
    Graph([3.0], [("*", (0, 0)), ("+", (1, 0))]),  # x*x + x
    Graph([3.0], [("*", (0, 0)), ("+", (0, 1))]),  # x + x*x
    Graph([3.0, 1.5, 2.0], [("*", (0, 1)), ("*", (3, 2)), ("+", (3, 4))]),  # a + a*2
    Graph([3.0, 1.5, 2.0], [("*", (0, 1)), ("*", (3, 2)), ("+", (4, 3))]),  # a*2 + a
    Graph([0.5, -1.2], [("*", (0, 1)), ("tanh", (0,)), ("+", (2, 3))]),
]


def graphs(count: int, rng: random.Random | None) -> list[Graph]:
    """The fixed graphs (visible check) or none (hidden), then ``count`` drawn ones."""
    drawn = rng or random.Random(0)
    return ([] if rng else _FIXED) + [Graph.drawn(drawn) for _ in range(count)]


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    return depth


def _unlink(root: Value) -> None:
    """Let a long chain go without recursion: freed from its root, each node is freed inside its child's
    deallocation, one C frame per node, which overflows the browser's (Pyodide's) stack at a few thousand."""
    for node in topological_order(root):  # the list holds every node while their links are cut
        node.parents = ()


def _on_chain(exercise: str, fn: Any, n: int) -> tuple[Value, Value, Any]:
    """``fn`` on a chain of ``n`` multiplications, under the default recursion limit (1000 frames
    beyond the caller's), restored afterwards whatever the student's code set."""
    x = Value(0.5, label="x0")
    chain = x
    for _ in range(n):
        chain = chain * 1.0
    default, limits = _stack_depth() + 1000, []

    def watched(root: Value) -> Any:
        result = fn(root)
        limits.append(sys.getrecursionlimit())
        return result

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(default)
    try:
        result = call(exercise, watched, chain, shown=f"{exercise} on a chain of {n} multiplications", own=True)
    finally:
        sys.setrecursionlimit(limit)
    if limits != [default]:
        raise ExerciseFailed(f"{exercise}: your code changed Python's recursion limit; walk the graph with a loop "
                             "and a stack instead")
    return x, chain, result


@exercise("topological_sort")
def check_topological_sort(fn: Any, rng: random.Random | None = None) -> str:
    """fn(root) lists every node root depends on once, parents before children, without recursion."""
    cases = graphs(20, rng)
    for g in cases:
        nodes = g.build()
        order = call("topological_sort", fn, nodes[-1], shown=f"topological_sort on {g.describe()}", own=True)
        check_order(order, nodes[-1], g.describe())
    _, chain, order = _on_chain("topological_sort", fn, 5000)
    try:
        check_order(order, chain, "a chain of 5000 multiplications")
    finally:
        _unlink(chain)
    return f"every node once, parents first, on {len(cases)} graphs with reused nodes and a 5000-node chain"


def _name(v: Value) -> str:
    return repr(v.label or v.op or v.data)


def check_order(order: Any, root: Value, where: str) -> None:
    nodes = parts(order)
    if nodes is None:
        raise ExerciseFailed(f"topological_sort: should return a list of nodes, got {type(order).__name__}")
    seen: dict[int, int] = {}
    for i, v in enumerate(nodes):
        if not isinstance(v, Value):
            raise ExerciseFailed(f"topological_sort: entry {i} is {type(v).__name__}, not a node (on {where})")
        if id(v) in seen:
            raise ExerciseFailed(f"topological_sort: node {_name(v)} appears twice on {where} "
                                 "(keep a set of visited nodes)")
        seen[id(v)] = i
    wanted = _reachable(root)
    missing = [v for v in wanted if id(v) not in seen]
    if missing:
        raise ExerciseFailed(f"topological_sort: node {_name(missing[0])} is missing on {where}")
    if len(seen) != len(wanted):
        raise ExerciseFailed(f"topological_sort: {len(seen) - len(wanted)} node(s) that the output does not depend on")
    for v in nodes:
        for p in v.parents:
            if seen[id(p)] > seen[id(v)]:
                raise ExerciseFailed(
                    f"topological_sort: {_name(p)} comes after its child {_name(v)} on {where} (parents must come "
                    "first; mark a node visited when its parents are expanded, not when it is pushed)")


def _reachable(root: Value) -> list[Value]:
    nodes, seen = [root], {id(root)}
    for v in nodes:
        for p in v.parents:
            if id(p) not in seen:
                seen.add(id(p))
                nodes.append(p)
    return nodes


@exercise("backward")
def check_backward(fn: Any, rng: random.Random | None = None) -> str:
    """fn(root) fills every leaf's .grad with d root / d leaf, as Value.backward does."""
    cases = graphs(30, rng)
    for g in cases:
        mine, theirs = g.build(), g.build()
        call("backward", fn, mine[-1], shown=f"backward on {g.describe()}", own=True)
        theirs[-1].backward()
        for i, (a, b) in enumerate(zip(mine[: len(g.leaves)], theirs)):
            got = number("backward", f"{a.label}.grad", a.grad)
            if not close(got, b.grad, 1e-9):
                raise ExerciseFailed(
                    f"backward: on {g.describe()} (output {theirs[-1].label}): {a.label}.grad: expected "
                    f"{fmt(b.grad)}, got {fmt(got)}{_backward_mistake(g, i, got, b.grad)}")
    x, chain, _ = _on_chain("backward", fn, 3000)
    _unlink(chain)
    got = number("backward", "x0.grad", x.grad)
    if not close(got, 1.0, 1e-9):
        raise ExerciseFailed(f"backward: on a chain of 3000 multiplications by 1: x0.grad: expected 1, got {fmt(got)}")
    return f"leaf gradients equal Value.backward's on {len(cases)} graphs with reused nodes and a 3000-node chain"


def _backward_mistake(g: Graph, leaf: int, got: float, expected: float) -> str:
    """Name the mistake if a chain-rule loop that makes it gives the student's number."""
    label = g.build()[leaf].label
    mistakes = [
        (dict(overwrite=True), f"; {label} is used {g.uses(leaf)} times: add (+=) each contribution instead of "
                               "overwriting (=)"),
        (dict(sign=-1.0), "; add each contribution (+=), do not subtract it (-=)"),
        (dict(order="parents_first"), "; visit the nodes children first: reversed(topological order)"),
        (dict(order="visited_on_push"), "; your topological order puts a node after one of its children: mark a "
                                        "node visited when its parents are expanded, not when it is pushed"),
        (dict(outer_factor=False), "; multiply each local derivative by the node's own gradient (the chain rule's "
                                   "outer factor)"),
    ]
    hints = [hint for flaw, hint in mistakes if close(got, _flawed_backward(g, leaf, **flaw), 1e-9)]  # type: ignore[arg-type]
    if hints:
        return "; or ".join(hints)
    if got == 0:
        return " (nothing reached it: does root.grad start at 1?)"
    return why(got, expected)


def visited_on_push(root: Value) -> list[Value]:
    """The classic wrong sort: a node is marked visited when pushed, so a reused node may come late."""
    order, visited, stack = [], {root}, [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for p in node.parents:
            if p not in visited:
                visited.add(p)
                stack.append((p, False))
    return order


def _flawed_backward(g: Graph, leaf: int, overwrite: bool = False, outer_factor: bool = True,
                     order: str = "children_first", sign: float = 1.0) -> float:
    """The leaf's gradient from a chain-rule loop with one classic mistake."""
    nodes = g.build()
    nodes[-1].grad = 1.0
    walk = {"children_first": lambda r: reversed(topological_order(r)), "parents_first": topological_order,
            "visited_on_push": lambda r: reversed(visited_on_push(r))}[order](nodes[-1])
    for node in walk:
        if node.fn is not None:
            ds = node.fn.partials(FLOAT, node.data, *[p.data for p in node.parents])
            for p, d in zip(node.parents, ds):
                p.grad = (0.0 if overwrite else p.grad) + sign * (node.grad if outer_factor else 1.0) * d
    return float(nodes[leaf].grad)


_FUNCTIONS: list[tuple[str, Callable[[float], float], Callable[[float], float]]] = [
    ("exp", math.exp, math.exp), ("sin", math.sin, math.cos), ("x ** 3", lambda x: x ** 3, lambda x: 3 * x * x),
    ("tanh", math.tanh, lambda x: 1 - math.tanh(x) ** 2),
]


@exercise("central_difference")
def check_central_difference(fn: Any, rng: random.Random | None = None) -> str:
    """fn(f, x, h) is (f(x + h) − f(x − h)) / 2h, for the h it is given (accurate to O(h²))."""
    draw = rng or random.Random(1)
    cases = [(name, f, df, round(draw.uniform(-1.5, 1.5), 3) if rng else x0, h)
             for (name, f, df), x0 in zip(_FUNCTIONS, [1.0, 0.3, -2.0, 0.7]) for h in (1e-4, 1e-2, 0.1)]
    for name, f, df, x, h in cases:
        shown = f"central_difference({name}, {fmt(x)}, h={fmt(h)})"
        got = number("central_difference", "the result", call("central_difference", fn, f, x, h, shown=shown, own=True))
        want = (f(x + h) - f(x - h)) / (2 * h)
        if not close(got, want, 1e-8, 1e-12):
            hint = why(got, want)
            if not hint and close(got, want * h * h, 1e-6):
                hint = " (/ 2*h divides by 2, then multiplies by h: write / (2 * h))"
            elif not hint and close(got, (f(x + 1e-4) - f(x - 1e-4)) / 2e-4, 1e-8):
                hint = " (use the h you are given)"
            elif not hint and close(got, (f(x + h) - f(x)) / h, 1e-8):
                hint = " (a one-sided difference, O(h): use f(x + h) and f(x - h))"
            raise ExerciseFailed(f"central_difference: {shown}: expected {fmt(want, '.10g')}, got {fmt(got, '.10g')}"
                                 f" (exact f'(x) = {fmt(df(x), '.10g')}){hint}")
    return f"(f(x + h) − f(x − h)) / 2h for {len(_FUNCTIONS)} functions and h = 0.0001, 0.01, 0.1"
