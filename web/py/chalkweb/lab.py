"""The expression lab: run the user's code, draw its last Value, and its forward/backward frames.

``run(source)`` returns a dict the page renders: the DOT text of ``draw_dot`` (values and
gradients), one DOT text per forward and per backward step, what the code printed, or the Python
error message (one exception line with the line number, as Python would print it) instead of a
traceback through this module.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import traceback
from typing import Any

import autograd
import nn
from autograd import Value
from autograd.viz import backward_frames, draw_dot, forward_frames

__all__ = ["EXAMPLE", "run"]

FILENAME = "<lab>"
MAX_FRAMES_NODES = 100  # the step-through draws every step: keep it to graphs one can follow
MAX_DRAW_NODES = 500

EXAMPLE = '''\
# A neuron: o = tanh(x1 w1 + x2 w2 + b). Edit and press Run (Ctrl+Enter).
x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
n = x1 * w1 + x2 * w2 + b; n.label = "n"
o = n.tanh(); o.label = "o"
o.backward()
o   # the last Value is drawn, with every gradient
'''


def run(source: str, max_nodes: int | None = MAX_DRAW_NODES, cluster: bool = False) -> dict[str, Any]:
    """Execute ``source`` and describe its last Value: {"ok": True, "dot", "forward", "backward", ...}.

    The last Value is the value of the final line when that is an expression, otherwise the Value
    most recently assigned to a name.  ``max_nodes`` and ``cluster`` are ``draw_dot``'s (the lab's
    "node limit" and "cluster" controls).  On an error: {"ok": False, "error": message, "stdout": ...}.
    """
    out = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "__lab__", "Value": Value, "autograd": autograd, "nn": nn, "math": math}
    try:
        tree = ast.parse(source, FILENAME)
        final = tree.body[-1] if tree.body else None
        last = final if isinstance(final, ast.Expr) else None
        if last is not None:
            tree.body.pop()
        with contextlib.redirect_stdout(out):
            exec(compile(tree, FILENAME, "exec"), namespace)  # the user's own code, in their own page
            result = None
            if last is not None:
                result = eval(compile(ast.Expression(last.value), FILENAME, "eval"), namespace)
        root = result if isinstance(result, Value) else _last_assigned(tree, namespace)
        if root is None:
            raise _LabError("nothing to draw: end the code with a Value, e.g. a last line `o`")
        return {"ok": True, "stdout": out.getvalue(), **describe(root, max_nodes, cluster)}
    except Exception as e:  # noqa: BLE001 - any error of the user's code is shown, never raised
        return {"ok": False, "error": _message(e), "stdout": out.getvalue()}


def describe(root: Value, max_nodes: int | None = MAX_DRAW_NODES, cluster: bool = False) -> dict[str, Any]:
    """The drawing of ``root`` and, for graphs small enough to step through, its frames."""
    small = _count(root) <= MAX_FRAMES_NODES
    try:
        dot = draw_dot(root, max_nodes=max_nodes, cluster=cluster).source
    except ValueError as e:  # the node limit: name the lab's controls, not only draw_dot's arguments
        raise _LabError(f"{e} In the lab: raise the node limit or tick cluster, above the graph.") from None
    return {
        "dot": dot,
        "nodes": _count(root),
        "data": root.data,
        "forward": [g.source for g in forward_frames(root)] if small else [],
        "backward": [g.source for g in backward_frames(root)] if small else [],
        "frames_note": "" if small else f"step-through is shown for graphs of up to {MAX_FRAMES_NODES} values",
    }


class _LabError(Exception):
    """A problem with what the code left behind (not an exception of the code itself)."""


def _count(root: Value) -> int:
    return len(autograd.topological_order(root))


def _last_assigned(tree: ast.Module, namespace: dict[str, Any]) -> Value | None:
    """The Value bound by the last top-level assignment whose target is still a Value."""
    for stmt in reversed(tree.body):
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            targets = [stmt.target]
        for t in targets:
            names = [t] if isinstance(t, ast.Name) else [e for e in getattr(t, "elts", []) if isinstance(e, ast.Name)]
            for name in reversed(names):
                value = namespace.get(name.id)
                if isinstance(value, Value):
                    return value
    return None


def _message(e: BaseException) -> str:
    """Python's own message: for a syntax error its usual lines; else 'line N: Type: message'."""
    if isinstance(e, SyntaxError):
        return "".join(traceback.format_exception_only(type(e), e)).rstrip().replace(f'File "{FILENAME}", ', "")
    if isinstance(e, _LabError):
        return str(e)
    line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__)) if f.filename == FILENAME), None)
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    return f"line {line}: {text}" if line else text
