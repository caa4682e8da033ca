"""Eager engine, side by side: chalkgrad vs micrograd 0.1.0 vs PyTorch 0-d tensors, in one process.

    python benchmarks/engine.py [--nodes 10000] [--repeat 5]

Prints a table of forward+backward time per node, memory per node (tracemalloc) and the deepest
chain each engine differentiates, with ratios against micrograd. Needs the `bench` extra
(micrograd); PyTorch (`parity` extra) is optional.
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import random
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd  # noqa: E402

UNARY = ("tanh", "relu", "exp")
BINARY = ("add", "mul", "sub")


def random_program(n: int, seed: int = 0) -> list[tuple]:
    """A recipe for a random graph of about n nodes: + - * tanh relu exp over recent nodes.

    The recipe is simulated on floats while it is drawn so that nothing overflows: a node whose
    magnitude passes 5 is squashed with tanh at once, and later steps use the squashed node.
    """
    rng = random.Random(seed)
    rng_leaves = random.Random(1)
    vals = [rng_leaves.uniform(-0.5, 0.5) for _ in range(8)]
    usable = list(range(8))  # indices of nodes of moderate size
    prog: list[tuple] = []

    def add(step: tuple, value: float) -> None:
        prog.append(step)
        vals.append(value)
        if abs(value) > 5:
            prog.append(("tanh", len(vals) - 1))
            vals.append(math.tanh(value))
        usable.append(len(vals) - 1)

    def pick() -> int:
        return usable[rng.randrange(max(0, len(usable) - 50), len(usable))]

    while len(vals) < n:
        if rng.random() < 0.3:
            name, i = rng.choice(UNARY), pick()
            x = vals[i]
            add((name, i), math.tanh(x) if name == "tanh" else max(x, 0.0) if name == "relu" else math.exp(x * 0.01))
        else:
            name, i, j = rng.choice(BINARY), pick(), pick()
            a, b = vals[i], vals[j]
            add((name, i, j), a + b if name == "add" else a * b if name == "mul" else a - b)
    return prog


def build(make: Callable[[float], object], prog: list[tuple], unary: dict) -> tuple[object, list]:
    rng = random.Random(1)
    leaves = [make(rng.uniform(-0.5, 0.5)) for _ in range(8)]
    nodes = list(leaves)
    for step in prog:
        if len(step) == 2:
            nodes.append(unary[step[0]](nodes[step[1]]))
        else:
            a, b = nodes[step[1]], nodes[step[2]]
            nodes.append(a + b if step[0] == "add" else a * b if step[0] == "mul" else a - b)
    # Sum the last few nodes into one root, squashed so that values stay finite.
    root = nodes[-1]
    for v in nodes[-20:-1]:
        root = root + v
    return unary["tanh"](root), leaves


def engines() -> dict[str, tuple[Callable, dict, Callable]]:
    """name -> (make leaf, unary ops, backward)."""
    found = {
        "chalkgrad": (
            autograd.Value,
            {"tanh": lambda v: v.tanh(), "relu": lambda v: v.relu(), "exp": lambda v: (v * 0.01).exp()},
            lambda root: root.backward(),
        )
    }
    try:
        import math

        from micrograd.engine import Value as MValue

        def m_tanh(v):  # micrograd 0.1.0 has no tanh: build it from its own ops
            e = (v * 2).exp() if hasattr(v, "exp") else None
            if e is None:
                out = MValue(math.tanh(v.data), (v,), "tanh")

                def _backward():
                    v.grad += (1 - out.data**2) * out.grad

                out._backward = _backward
                return out
            return (e - 1) / (e + 1)

        def m_exp(v):
            x = v * 0.01
            out = MValue(math.exp(x.data), (x,), "exp")

            def _backward():
                x.grad += out.data * out.grad

            out._backward = _backward
            return out

        found["micrograd"] = (MValue, {"tanh": m_tanh, "relu": lambda v: v.relu(), "exp": m_exp},
                              lambda root: root.backward())
    except ImportError:
        print("micrograd not installed (pip install -e '.[bench]'): its column is skipped")
    try:
        import torch

        def t_leaf(x):
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        found["torch 0-d"] = (t_leaf, {"tanh": torch.tanh, "relu": torch.relu,
                                       "exp": lambda v: torch.exp(v * 0.01)},
                              lambda root: root.backward())
    except ImportError:
        pass
    return found


def time_per_node(engine, prog, n, repeat) -> float:
    make, unary, backward = engine
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        root, _ = build(make, prog, unary)
        backward(root)
        best = min(best, time.perf_counter() - t0)
        del root
    return best / n * 1e9


def memory_per_node(engine, prog, n) -> float:
    make, unary, _ = engine
    gc.collect()
    tracemalloc.start()
    root, _ = build(make, prog, unary)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del root
    return current / n


def deepest_chain(engine, limits=(1_000, 10_000, 1_000_000)) -> str:
    make, _, backward = engine
    ok = "-"
    for depth in limits:
        try:
            x = make(0.5)
            y = x
            for _ in range(depth):
                y = y * 1.0
            backward(y)
            ok = f"{depth:,}"
        except RecursionError:
            return f"< {depth:,} (RecursionError)"
        finally:
            y = x = None
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    prog = random_program(args.nodes)
    n = len(prog) + 8 + 20
    found = engines()
    print(f"# eager engine, random graph of ~{n:,} nodes; {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    rows = {name: (time_per_node(e, prog, n, args.repeat), memory_per_node(e, prog, n), deepest_chain(e))
            for name, e in found.items()}
    ref = rows.get("micrograd")
    print("| engine | fwd+bwd ns/node | vs micrograd | bytes/node | vs micrograd | deepest chain |")
    print("|---|---|---|---|---|---|")
    for name, (t, mem, depth) in rows.items():
        rt = f"{t / ref[0]:.2f}x" if ref else "-"
        rm = f"{mem / ref[1]:.2f}x" if ref else "-"
        print(f"| {name} | {t:,.0f} | {rt} | {mem:,.0f} | {rm} | {depth} |")


if __name__ == "__main__":
    main()
