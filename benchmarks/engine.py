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
import operator
import platform
import random
import sys
import time
import tracemalloc
from pathlib import Path

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
            add((name, i), math.tanh(x) if name == "tanh" else max(x, 0.0) if name == "relu" else math.exp(x))
        else:
            name, i, j = rng.choice(BINARY), pick(), pick()
            a, b = vals[i], vals[j]
            add((name, i, j), a + b if name == "add" else a * b if name == "mul" else a - b)
    return prog


def build(engine: dict, prog: list[tuple]) -> tuple[object, list]:
    """Run the recipe on one engine: its leaf maker and its op callables, no wrappers in between."""
    make, table = engine["leaf"], engine["ops"]
    steps = [(table[s[0]], s[1], s[2] if len(s) == 3 else -1) for s in prog]
    rng = random.Random(1)
    leaves = [make(rng.uniform(-0.5, 0.5)) for _ in range(8)]
    nodes = list(leaves)
    append = nodes.append
    for fn, i, j in steps:
        append(fn(nodes[i]) if j < 0 else fn(nodes[i], nodes[j]))
    # Sum the last few nodes into one root, squashed so that values stay finite.
    root = nodes[-1]
    for v in nodes[-20:-1]:
        root = root + v
    return table["tanh"](root), leaves


def engines() -> dict[str, dict]:
    """name -> {"leaf": make a leaf, "ops": op name -> callable, "backward": run backward}."""
    binary = {"add": operator.add, "mul": operator.mul, "sub": operator.sub}
    V = autograd.Value
    found = {"chalkgrad": {"leaf": V, "ops": {**binary, "tanh": V.tanh, "relu": V.relu, "exp": V.exp},
                           "backward": V.backward}}
    try:
        from micrograd.engine import Value as MValue

        # micrograd 0.1.0 has no tanh or exp: add them the way its own ops are written (a closure).
        def m_tanh(v):
            out = MValue(math.tanh(v.data), (v,), "tanh")

            def _backward():
                v.grad += (1 - out.data**2) * out.grad

            out._backward = _backward
            return out

        def m_exp(v):
            out = MValue(math.exp(v.data), (v,), "exp")

            def _backward():
                v.grad += out.data * out.grad

            out._backward = _backward
            return out

        found["micrograd"] = {"leaf": MValue, "ops": {**binary, "tanh": m_tanh, "relu": MValue.relu, "exp": m_exp},
                              "backward": MValue.backward}
    except ImportError:
        print("micrograd not installed (pip install -e '.[bench]'): its column is skipped")
    try:
        import torch

        def t_leaf(x):
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        found["torch 0-d"] = {"leaf": t_leaf, "ops": {**binary, "tanh": torch.tanh, "relu": torch.relu,
                                                     "exp": torch.exp},
                              "backward": torch.Tensor.backward}
    except ImportError:
        pass
    return found


def timings(found: dict, prog: list[tuple], n: int, repeat: int, collector: bool) -> dict:
    """Best forward and backward time per node of each engine, with Python's cyclic collector on or
    paused. Engines take turns, so that a busy machine slows them alike, and each run starts from a
    collected heap, so that no engine pays for another run's garbage."""
    best = {name: [float("inf"), float("inf")] for name in found}
    for _ in range(repeat):
        for name, engine in found.items():
            gc.collect()
            if not collector:
                gc.disable()
            try:
                t0 = time.perf_counter()
                root, _ = build(engine, prog)
                t1 = time.perf_counter()
                engine["backward"](root)
                t2 = time.perf_counter()
                del root
            finally:
                gc.enable()
            best[name][0] = min(best[name][0], (t1 - t0) / n * 1e9)
            best[name][1] = min(best[name][1], (t2 - t1) / n * 1e9)
    return {name: (f, b) for name, (f, b) in best.items()}


def memory_per_node(engine: dict, prog: list[tuple], n: int) -> float:
    gc.collect()
    tracemalloc.start()
    root, _ = build(engine, prog)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del root
    return current / n


def deepest_chain(engine: dict, limits=(1_000, 10_000, 1_000_000)) -> str:
    ok = "-"
    for depth in limits:
        x = y = None
        try:
            x = engine["leaf"](0.5)
            y = x
            for _ in range(depth):
                y = y * 1.0
            engine["backward"](y)
            ok = f"{depth:,}"
        except RecursionError:
            return f"< {depth:,} (RecursionError)"
        finally:
            y = x = None
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out (its import makes the heap, and so every full collection, larger)")
    args = parser.parse_args()
    if args.no_torch:
        sys.modules["torch"] = None  # makes `import torch` fail, so engines() skips it
    prog = random_program(args.nodes)
    n = len(prog) + 8 + 20
    found = engines()
    print(f"# eager engine, random graph of {n:,} nodes (+ - * tanh relu exp); "
          f"{platform.machine()}, Python {platform.python_version()}, best of {args.repeat}")
    mems = {name: memory_per_node(e, prog, n) for name, e in found.items()}
    depths = {name: deepest_chain(e) for name, e in found.items()}
    ref = "micrograd" if "micrograd" in found else None
    print("| engine | cyclic GC | forward ns/node | backward ns/node | fwd+bwd ns/node | vs micrograd "
          "| bytes/node | vs micrograd | deepest chain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for collector in (True, False):
        times = timings(found, prog, n, args.repeat, collector)
        for name in found:
            f, b = times[name]
            total = f + b
            rt = f"{total / sum(times[ref]):.2f}x" if ref else "-"
            if name.startswith("torch"):  # its tensors live in C++ allocations tracemalloc cannot see
                mem, rm = "n/a", "n/a"
            else:
                mem, rm = f"{mems[name]:,.0f}", f"{mems[name] / mems[ref]:.2f}x" if ref else "-"
            print(f"| {name} | {'on' if collector else 'paused'} | {f:,.0f} | {b:,.0f} | {total:,.0f} | {rt} "
                  f"| {mem} | {rm} | {depths[name]} |")

if __name__ == "__main__":
    main()
