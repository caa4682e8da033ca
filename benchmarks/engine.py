"""Eager engine, side by side: chalkgrad vs micrograd 0.1.0 vs PyTorch 0-d tensors, in one process.

    python benchmarks/engine.py [--nodes 10000] [--repeat 5] [--tables random mixed gpt] [--gpt-steps 20]

Prints three tables. "random": forward+backward time per node, memory per node (tracemalloc) and the
deepest chain each engine differentiates, with ratios against micrograd. "mixed": a random graph that
mixes Values and numbers (a * b * 0.5, a ** 2 * 0.1, relu, +, -), chalkgrad vs micrograd. "gpt": one
training step of a tiny GPT in the style of Karpathy's microgpt, chalkgrad vs a minimal local-derivatives
Value of microgpt's kind (LocalValue below). Needs the `bench` extra (micrograd); PyTorch (`parity`
extra) is optional.
"""

from __future__ import annotations

import argparse
import gc
import math
import operator
import os
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


# --- the random graph with number operands (issue 26): a * b * 0.5, a ** 2 * 0.1, relu, +, - -----------------

def mixed_program(n: int, seed: int = 0) -> list[tuple[str, int, int]]:
    """A recipe of about n nodes over recent nodes; the scalings keep every value small without tanh."""
    rng = random.Random(seed)
    prog: list[tuple[str, int, int]] = []
    made = 8 + 19  # the leaves and the final sum
    while made < n:
        kind = rng.choice(("mul", "square", "relu", "add", "sub"))
        kept = 8 + len(prog)  # one kept node per step (the last of a * b * 0.5)
        i, j = (rng.randrange(max(0, kept - 50), kept) for _ in range(2))
        prog.append((kind, i, j))
        made += 2 if kind in ("mul", "square") else 1
    return prog


def run_mixed(leaf, prog: list[tuple[str, int, int]]):
    """Build the recipe with one engine's Value (numbers as operands, as users write them); return the root."""
    rng = random.Random(1)
    nodes = [leaf(rng.uniform(-0.5, 0.5)) for _ in range(8)]
    append = nodes.append
    for kind, i, j in prog:
        a, b = nodes[i], nodes[j]
        if kind == "mul":
            append(a * b * 0.5)
        elif kind == "square":
            append(a ** 2 * 0.1)
        elif kind == "relu":
            append(a.relu())
        elif kind == "add":
            append(a + b)
        else:
            append(a - b)
    root = nodes[-1]
    for v in nodes[-20:-1]:
        root = root + v
    return root


def mixed_timings(leaves: dict, n: int, repeat: int) -> dict[str, float]:
    """Best build + backward time per node of each engine's Value, collector on, engines taking turns."""
    prog = mixed_program(n)
    best = {name: float("inf") for name in leaves}
    for _ in range(repeat):
        for name, leaf in leaves.items():
            gc.collect()
            t0 = time.perf_counter()
            root = run_mixed(leaf, prog)
            root.backward()
            best[name] = min(best[name], (time.perf_counter() - t0) / n * 1e9)
            del root
    return best


# --- a GPT-shaped step in the style of Karpathy's microgpt, on any scalar Value -------------------------------

class LocalValue:
    """The peer: a minimal Value of microgpt's kind (local derivatives stored at each op, __slots__, no closures)."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, n): return LocalValue(self.data ** n, (self,), (n * self.data ** (n - 1),))
    def log(self): return LocalValue(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): return LocalValue(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return LocalValue(max(0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other ** -1
    def __rtruediv__(self, other): return other * self ** -1

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]  # microgpt's depth-first order, without recursion
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in reversed(v._children))
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


NAMES = ("emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila ella "
         "avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey nora").split()


class TinyGPT:
    """microgpt's model at a tiny size: embeddings, rmsnorm, multi-head scalar attention, a relu MLP, Adam."""

    def __init__(self, value, n_embd: int = 8, n_head: int = 2, block_size: int = 8, seed: int = 42) -> None:
        self.chars = sorted(set("".join(NAMES)))
        self.bos = len(self.chars)
        vocab = len(self.chars) + 1
        rng = random.Random(seed)

        def matrix(rows, cols):
            return [[value(rng.gauss(0, 0.08)) for _ in range(cols)] for _ in range(rows)]

        self.n_head, self.head_dim, self.block_size = n_head, n_embd // n_head, block_size
        self.w = {"wte": matrix(vocab, n_embd), "wpe": matrix(block_size, n_embd), "lm_head": matrix(vocab, n_embd),
                  "wq": matrix(n_embd, n_embd), "wk": matrix(n_embd, n_embd), "wv": matrix(n_embd, n_embd),
                  "wo": matrix(n_embd, n_embd), "fc1": matrix(4 * n_embd, n_embd), "fc2": matrix(n_embd, 4 * n_embd)}
        self.params = [p for mat in self.w.values() for row in mat for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def forward(self, token: int, pos: int, keys: list, values: list) -> list:
        w, hd = self.w, self.head_dim
        x = rmsnorm([t + p for t, p in zip(w["wte"][token], w["wpe"][pos])])
        residual = x
        x = rmsnorm(x)
        q, k, v = linear(x, w["wq"]), linear(x, w["wk"]), linear(x, w["wv"])
        keys.append(k)
        values.append(v)
        attended = []
        for h in range(self.n_head):
            s = h * hd
            logits = [sum(q[s + j] * kt[s + j] for j in range(hd)) / hd ** 0.5 for kt in keys]
            weights = softmax(logits)
            attended.extend(sum(weights[t] * values[t][s + j] for t in range(len(values))) for j in range(hd))
        x = [a + b for a, b in zip(linear(attended, w["wo"]), residual)]
        residual = x
        x = [h.relu() for h in linear(rmsnorm(x), w["fc1"])]
        x = [a + b for a, b in zip(linear(x, w["fc2"]), residual)]
        return linear(x, w["lm_head"])

    def step(self, number: int, lr: float = 0.01, b1: float = 0.85, b2: float = 0.99, eps: float = 1e-8) -> float:
        """One training step on one name: the mean next-character loss, backward, Adam on every scalar."""
        tokens = [self.bos] + [self.chars.index(c) for c in NAMES[number % len(NAMES)]] + [self.bos]
        n = min(self.block_size, len(tokens) - 1)
        keys: list = []
        values: list = []
        losses = [-softmax(self.forward(tokens[i], i, keys, values))[tokens[i + 1]].log() for i in range(n)]
        loss = (1 / n) * sum(losses)
        loss.backward()
        self.t += 1
        for i, p in enumerate(self.params):
            self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad
            self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad ** 2
            m_hat, v_hat = self.m[i] / (1 - b1 ** self.t), self.v[i] / (1 - b2 ** self.t)
            p.data -= lr * m_hat / (v_hat ** 0.5 + eps)
            p.grad = 0
        return loss.data


def linear(x: list, w: list) -> list:
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits: list) -> list:
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: list) -> list:
    scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt_timings(values: dict, steps: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Best time of one GPT step per engine (collector on, engines taking turns on the same names), and the losses."""
    models = {name: TinyGPT(value) for name, value in values.items()}
    best = {name: float("inf") for name in values}
    losses: dict[str, list[float]] = {name: [] for name in values}
    for step in range(steps):
        for name, model in models.items():
            gc.collect()
            t0 = time.perf_counter()
            losses[name].append(model.step(step))
            best[name] = min(best[name], time.perf_counter() - t0)
    return best, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out (its import makes the heap, and so every full collection, larger)")
    parser.add_argument("--tables", nargs="*", default=["random", "mixed", "gpt"], choices=["random", "mixed", "gpt"])
    parser.add_argument("--gpt-steps", type=int, default=20)
    args = parser.parse_args()
    if args.no_torch:
        sys.modules["torch"] = None  # makes `import torch` fail, so engines() skips it
    found = engines()
    print(f"# {platform.machine()}, Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    if "random" in args.tables:
        random_table(found, args.nodes, args.repeat)
    if "mixed" in args.tables:
        mixed_table(found, args.nodes, args.repeat)
    if "gpt" in args.tables:
        gpt_table(args.gpt_steps)


def mixed_table(found: dict, n: int, repeat: int) -> None:
    leaves = {name: e["leaf"] for name, e in found.items() if not name.startswith("torch")}
    times = mixed_timings(leaves, n, repeat)
    print(f"\n# random graph of {n:,} nodes mixing Values and numbers (a * b * 0.5, a ** 2 * 0.1, relu, +, -), "
          f"build + backward, cyclic GC on, best of {repeat}")
    print("| engine | ns/node | speed vs micrograd |")
    print("|---|---|---|")
    for name, t in times.items():
        ratio = f"{times['micrograd'] / t:.2f}x" if "micrograd" in times else "-"
        print(f"| {name} | {t:,.0f} | {ratio} |")


def gpt_table(steps: int) -> None:
    times, losses = gpt_timings({"chalkgrad": autograd.Value, "local-derivatives Value": LocalValue}, steps)
    agree = max(abs(a - b) for a, b in zip(losses["chalkgrad"], losses["local-derivatives Value"]))
    print(f"\n# GPT-shaped step (microgpt's model: n_embd 8, 2 heads, 1 layer, block 8; Adam on all "
          f"{len(TinyGPT(float).params):,} scalars), cyclic GC on, best of {steps} steps; "
          f"losses agree within {agree:.1e}")
    print("| engine | ms/step | speed vs local-derivatives Value |")
    print("|---|---|---|")
    for name, t in times.items():
        print(f"| {name} | {t * 1e3:,.1f} | {times['local-derivatives Value'] / t:.2f}x |")


def random_table(found: dict, nodes: int, repeat: int) -> None:
    prog = random_program(nodes)
    n = len(prog) + 8 + 20
    print(f"# eager engine, random graph of {n:,} nodes (+ - * tanh relu exp); "
          f"{platform.machine()}, Python {platform.python_version()}, best of {repeat}")
    mems = {name: memory_per_node(e, prog, n) for name, e in found.items()}
    depths = {name: deepest_chain(e) for name, e in found.items()}
    ref = "micrograd" if "micrograd" in found else None
    print("| engine | cyclic GC | forward ns/node | backward ns/node | fwd+bwd ns/node | vs micrograd "
          "| bytes/node | vs micrograd | deepest chain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for collector in (True, False):
        times = timings(found, prog, n, repeat, collector)
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
