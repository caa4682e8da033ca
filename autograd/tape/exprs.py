"""Text of generated batch code: expression trees walked, shared parts found, names and slices.

Helpers of :mod:`~autograd.tape.batchgen` that know nothing of schedules: they read expression
trees of :class:`~autograd.tape.symbols.Sym` (a rule evaluated on symbols) and source text.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..backends import ELEMENTWISE, FLOAT
from .arrays import item_run
from .symbols import Sym, post_order, render

__all__ = ["makes_new_array", "atom", "short", "common_label", "shared_parts", "runs", "expr_key", "on_finite"]


def makes_new_array(text: str) -> bool:
    """Whether the expression ``text`` makes a new array of its own (not a name, a view or a broadcast)."""
    return not re.fullmatch(r"[\w.]+(\[[^\[\]]*\])*", text) and "broadcast_to" not in text and \
        not text.startswith("_c")


def atom(text: str) -> str:
    """``text`` bracketed unless it is a name, possibly indexed (so that ``.sum()`` applies to all of it)."""
    return text if re.fullmatch(r"[\w.]+(\[[^\[\]]*\])*", text) else f"({text})"


def short(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 6 else f"{', '.join(names[:3])}, ..., {names[-1]}"


def common_label(rec: Any, slots: list[int], fallback: str) -> str:
    """What the labels of ``slots`` share (``layers.0`` of ``layers.0.neurons.3.w[1]``), else ``fallback``."""
    labels = [rec.labels.get(s, "") for s in slots]
    if not all(labels):
        return fallback
    prefix = os.path.commonprefix(labels)
    if prefix != labels[0] and not re.search(r"\W$", prefix):
        prefix = re.sub(r"\w+$", "", prefix)  # a name cut in the middle (``neurons.1`` of ``neurons.12``)
    parts = re.split(r"\W+", prefix)  # without "neurons.3", "w" and "b": the layer's own name
    return "_".join(p for i, p in enumerate(parts) if p and p not in ("neurons", "w", "b")
                    and not (p.isdigit() and i and parts[i - 1] == "neurons")) or fallback


PARAM = re.compile(r"\b_x\d+\b")


def expr_key(x: Sym) -> str:
    """``x``'s text with its lambdas' parameters numbered afresh: equal keys, equal computations."""
    found: dict[str, str] = {}
    return PARAM.sub(lambda m: found.setdefault(m.group(), f"_x{len(found)}"), render(x))


def shared_parts(trees: list, others: list) -> set[str]:
    """Texts of sub-expressions worth a temp: used twice or more in ``trees`` and ``others`` together
    (and present in ``trees``), never a name, a row of a block or anything inside a lambda, nor a part
    used only inside one larger shared sub-expression (which its temp computes once)."""
    counts: dict[str, int] = {}
    within: dict[str, set] = {}  # key -> keys of the expressions it is an argument of (None: a root)
    in_trees: set[str] = set()
    for which, group in ((True, trees), (False, others)):
        for tree in group:
            free: dict[int, frozenset] = {}  # lambda parameters a sub-expression uses unbound
            nodes = post_order(tree)
            for x in nodes:
                if x.kind == "name":
                    free[id(x)] = frozenset([x.text]) if PARAM.fullmatch(x.text) else frozenset()
                else:
                    f = frozenset().union(*(free.get(id(a), frozenset()) for a in x.args))
                    free[id(x)] = f - {x.text} if x.kind == "lambda" else f
            # (use, the expression it is an argument of): a part used twice is listed twice
            uses = [(x, None) for x in nodes[-1:]] + [(a, x) for x in nodes for a in x.args if type(a) is Sym]
            for x, parent in uses:
                if x.kind in ("name", "tuple", "lambda") or free[id(x)] or \
                        (x.kind == "item" and x.args[0].kind == "name"):
                    continue
                key = expr_key(x)
                counts[key] = counts.get(key, 0) + 1
                within.setdefault(key, set()).add(None if parent is None else expr_key(parent))
                if which:
                    in_trees.add(key)
    shared = {k for k, n in counts.items() if n > 1 and k in in_trees}
    return {k for k in shared if not (len(within[k]) == 1 and within[k] <= shared)}


def runs(ds: Any, wanted: list[int]) -> list[tuple[list[int], Any]]:
    """Positions whose partials can be multiplied by the gradient as one block: consecutive rows of one
    stack (``e[0]``, ``e[1]`` ...), or the same number; else one position each."""
    out: list[list[int]] = []
    for j in wanted:
        if out and out[-1][-1] == j - 1:
            d, prev = ds[j], ds[j - 1]
            if (d == prev if type(d) is not Sym and type(prev) is not Sym else item_run([prev, d]) is not None):
                out[-1].append(j)
                continue
        out.append([j])
    return [(run, item_run([ds[j] for j in run]) if len(run) > 1 and type(ds[run[0]]) is Sym else ds[run[0]])
            for run in out]


def on_finite(tree: Any) -> Any:
    """``tree`` as the fast variant computes it, where every value is finite (an inf or NaN raises
    first): ``finite_or(x, d)`` is ``x``, so ``x - x`` is 0; then ``+ 0``, ``- 0``, ``* 1`` and ``/ 1``
    drop out (logsumexp's shift terms), a function of numbers alone is folded, and ``each(f, a)`` on
    an array is ``f`` written on ``a`` itself (``f`` elementwise).  Nodes are rewritten in place, so
    what holds one (a stack's rows) sees the new form; returns the new root."""
    new: dict[int, Any] = {}
    for x in post_order(tree):
        x.args = tuple(new.get(id(a), a) for a in x.args)
        folded = _folded(x)
        if folded is not x:
            new[id(x)] = folded
    return new.get(id(tree), tree)


def _folded(x: Sym) -> Any:
    a = x.args
    if x.kind == "op" and x.text in ("+", "-", "*", "/"):
        left, right = a
        unit = 0.0 if x.text in "+-" else 1.0
        if type(right) is float and right == unit:
            return left  # x + 0 and x - 0 (the sign of a zero aside), x * 1 and x / 1: x
        if x.text in "+*" and type(left) is float and left == unit:
            return right
        if x.text == "-" and type(left) is Sym and type(right) is Sym and render(left) == render(right):
            return 0.0  # x - x, x finite
    elif x.kind == "neg" and type(a[0]) is float:
        return -a[0]
    elif x.kind == "call" and x.text in ELEMENTWISE and all(type(v) is float for v in a):
        return getattr(FLOAT, x.text)(*a)
    elif x.kind == "call" and x.text == "finite_or":
        return a[0]
    elif x.kind == "call" and x.text == "each" and type(a[1]) is Sym and a[1].kind != "tuple":  # one array
        f, array = a
        body = f.args[0]
        if any(type(v) is Sym and v.kind == "name" and v.text == f.text for v in post_order(body)):
            # (a body that ignores its input is a constant, which each repeats for every lane)
            inlined = _substitute(body, f.text, array)
            x.kind, x.text, x.args = inlined.kind, inlined.text, inlined.args
    return x


def _substitute(tree: Any, param: str, value: Sym) -> Any:
    """``tree`` with the name ``param`` replaced by ``value`` (a copy of the nodes that contain it)."""
    new: dict[int, Any] = {}
    for x in post_order(tree):
        if x.kind == "name" and x.text == param:
            new[id(x)] = value
        elif any(id(v) in new for v in x.args):
            new[id(x)] = Sym(x.kind, x.text, tuple(new.get(id(v), v) for v in x.args))
    return new.get(id(tree), tree)
