"""The tape compiler, side by side: chalkgrad tape vs micrograd 0.1.0, plain floats and PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/compile.py [--threads 1] [--quick]

One process, three workloads, best of several repeats, reported as ratios:

1. BurTorch's tiny graph (a=-41, b=2; c=a+b; d=a*b+b**3; e=c-d; f=e**2; g=f/2; backward),
   100,000 replays: tape.value_and_grad vs micrograd (graph rebuilt each time, as it must) vs the
   expression and its derivative hand-written in plain floats.
2. micrograd's demo step: MLP(2, [16, 16, 1]), 100 moons samples, hinge + 1e-4 L2, forward +
   backward + SGD: the tape (per-sample loss traced once, replayed over the batch) vs micrograd
   vs idiomatic PyTorch (nn.Linear, batched float32 tensors).
3. Digits, 64 -> 32 -> 10, softmax cross-entropy, one full-batch epoch (1,797 samples): tape vs
   PyTorch.

BLAS and PyTorch run single-threaded by default (``--threads``) so that the numbers are
reproducible on a busy 2-core machine.  Also prints the memory per node of a tape vs the eager
graph, and the numpy calls one replay of the moons MLP makes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import platform
import pstats
import random
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import trace  # noqa: E402
from nn import datasets  # noqa: E402


def best(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


# --- 1. the tiny graph ---------------------------------------------------------------------------
def tiny(a, b):
    c = a + b
    d = a * b + b**3
    e = c - d
    f = e**2
    return f / 2


def tiny_plain(a: float, b: float) -> tuple[float, float, float]:
    """The expression and its derivative, written by hand on floats."""
    c = a + b
    d = a * b + b**3
    e = c - d
    f = e**2
    g = f / 2
    de = e  # d(e^2 / 2)/de
    return g, de * (1.0 - b), de * (1.0 - a - 3.0 * b * b)


def bench_tiny(n: int, repeat: int) -> dict[str, float]:
    out = {}
    tape = trace(tiny, -41.0, 2.0)
    tape.value_and_grad(-41.0, 2.0)  # compiles the generated source
    vg = tape.value_and_grad
    assert vg(-41.0, 2.0) == (612.5, (-35.0, 1050.0)) == (tiny_plain(-41.0, 2.0)[0], tiny_plain(-41.0, 2.0)[1:])

    def run_tape():
        for _ in range(n):
            vg(-41.0, 2.0)

    def run_plain():
        for _ in range(n):
            tiny_plain(-41.0, 2.0)

    def run_eager():
        for _ in range(n // 10):
            a, b = autograd.Value(-41.0), autograd.Value(2.0)
            tiny(a, b).backward()

    out["tape"] = best(run_tape, 1, repeat) / n
    out["plain floats"] = best(run_plain, 1, repeat) / n
    out["chalkgrad eager"] = best(run_eager, 1, repeat) / (n // 10)
    try:
        from micrograd.engine import Value as MValue

        def run_micrograd():
            for _ in range(n // 10):
                a, b = MValue(-41.0), MValue(2.0)
                g = tiny(a, b)
                g.backward()

        out["micrograd"] = best(run_micrograd, 1, repeat) / (n // 10)
    except ImportError:
        pass
    return out


# --- 2. micrograd's demo step ------------------------------------------------------------------------
def bench_moons(repeat: int) -> tuple[dict[str, float], dict]:
    X, y = datasets.demo_moons(labels="sign")
    y = y.astype(float)
    out, info = {}, {}

    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()

    def sample_loss(x0, x1, yi):
        return (1 + -yi * model([x0, x1])).relu()  # micrograd's demo: max(0, 1 - y score)

    tape = trace(sample_loss, 0.0, 0.0, 1.0)
    reg = trace(lambda: 1e-4 * autograd.sum([p * p for p in params]))
    X0, X1 = X[:, 0].copy(), X[:, 1].copy()

    def tape_step():
        for p in params:
            p.grad = 0.0
        tape.batch_value_and_grad(X0, X1, y, reduce="mean", input_grads=False)
        reg.value_and_grad()
        for p in params:
            p.data -= 0.01 * p.grad

    out["tape"] = best(tape_step, 20, repeat)
    info["nodes"] = tape.n_nodes
    info["groups"] = tape.numpy_calls()
    info["numpy"] = count_numpy_calls(lambda: tape.batch_value_and_grad(X0, X1, y, input_grads=False))

    def eager_step():
        scores = [model(list(x)) for x in X.tolist()]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y.tolist(), scores)]
        total = autograd.sum(losses) * (1.0 / len(losses)) + 1e-4 * autograd.sum([p * p for p in params])
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= 0.01 * p.grad

    out["chalkgrad eager"] = best(eager_step, 2, repeat)
    try:
        from micrograd.engine import Value as MValue
        from micrograd.nn import MLP as MMLP

        mmodel = MMLP(2, [16, 16, 1])
        inputs = [list(map(MValue, row)) for row in X.tolist()]

        def micrograd_step():  # the demo notebook's loss(), then backward and SGD
            scores = list(map(mmodel, inputs))
            losses = [(1 + -yi * s).relu() for yi, s in zip(y.tolist(), scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = 1e-4 * sum(p * p for p in mmodel.parameters())
            total = data_loss + reg_loss
            mmodel.zero_grad()
            total.backward()
            for p in mmodel.parameters():
                p.data -= 0.01 * p.grad

        out["micrograd"] = best(micrograd_step, 1, max(2, repeat // 2))
    except ImportError:
        pass
    try:
        import torch

        tmodel = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                     torch.nn.ReLU(), torch.nn.Linear(16, 1))
        opt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
        Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

        def torch_step():
            opt.zero_grad()
            scores = tmodel(Xt).squeeze(1)
            loss = torch.relu(1 - yt * scores).mean() + 1e-4 * sum((p * p).sum() for p in tmodel.parameters())
            loss.backward()
            opt.step()

        out["PyTorch"] = best(torch_step, 50, repeat)
    except ImportError:
        pass
    return out, info


def count_numpy_calls(fn: Callable[[], object]) -> int:
    """numpy functions, ufuncs and array methods called by ``fn`` (indexing not included)."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = 0
    for (filename, _, name), (_, ncalls, *_rest) in stats.items():
        if filename == "~" and ("numpy" in name or "ndarray" in name or "ufunc" in name):
            total += ncalls
    return total


# --- 3. digits --------------------------------------------------------------------------------------------
def bench_digits(repeat: int) -> dict[str, float]:
    from sklearn.datasets import load_digits

    d = load_digits()
    X, T = d.data / 16.0, d.target
    Y = np.eye(10)[T]
    out = {}
    model = nn.MLP(64, [32, 10], seed=0)
    params = model.parameters()

    def sample_loss(*args):
        z = model(list(args[:64]))
        return autograd.logsumexp(z) - autograd.dot(z, list(args[64:]))  # -log softmax(z)_y, y one-hot

    tape = trace(sample_loss, *X[0], *Y[0])
    cols = list(np.ascontiguousarray(X.T)) + list(np.ascontiguousarray(Y.T))

    def tape_epoch():
        for p in params:
            p.grad = 0.0
        tape.batch_value_and_grad(*cols, reduce="mean", input_grads=False)
        for p in params:
            p.data -= 0.1 * p.grad

    out["tape"] = best(tape_epoch, 10, repeat)
    try:
        import torch

        tmodel = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        opt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
        Xt, Tt = torch.tensor(X, dtype=torch.float32), torch.tensor(T)

        def torch_epoch():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(Xt), Tt).backward()
            opt.step()

        out["PyTorch"] = best(torch_epoch, 20, repeat)
    except ImportError:
        pass
    return out


# --- 4. nn.fit ------------------------------------------------------------------------------------------
def bench_fit(epochs: int = 20) -> dict[str, float]:
    X, y = datasets.demo_moons(labels="sign")
    out = {}
    for name, compiled in (("tape", True), ("chalkgrad eager", False)):
        model = nn.MLP(2, [16, 16, 1], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        t0 = time.perf_counter()
        nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=epochs, regularizer=lambda ps: nn.l2(ps, 1e-4),
               progress=False, compile=compiled)
        out[name] = (time.perf_counter() - t0) / epochs
    return out


# --- memory -----------------------------------------------------------------------------------------------
def random_graph(xs: list, n: int, seed: int = 0):
    """About n nodes of + - * tanh relu over recent nodes, squashed with tanh when they grow."""
    rng = random.Random(seed)
    nodes = list(xs)
    while len(nodes) < n:
        pick = lambda: nodes[rng.randrange(max(0, len(nodes) - 50), len(nodes))]  # noqa: E731
        r = rng.random()
        v = pick().tanh() if r < 0.2 else pick().relu() if r < 0.3 else \
            pick() + pick() if r < 0.55 else pick() - pick() if r < 0.75 else pick() * pick()
        nodes.append(v.tanh() if abs(v.data) > 5 else v)
    return autograd.sum(nodes[-20:]).tanh()


def memory_per_node(n: int = 16_000) -> dict[str, float]:
    def measure(make):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        obj = make()
        used = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return obj, used

    leaves = [0.1 * i - 0.35 for i in range(8)]
    graph = lambda *xs: random_graph(list(xs), n)  # noqa: E731
    root, eager = measure(lambda: graph(*[autograd.Value(x) for x in leaves]))
    nodes = sum(not v.is_leaf for v in autograd.topological_order(root))
    del root
    tape, tape_bytes = measure(lambda: trace(graph, *leaves, mode="python"))
    _, code_bytes = measure(lambda: tape.value_and_grad(*leaves))  # compiles the generated source
    return {"nodes": nodes, "eager": eager / nodes, "tape": tape_bytes / nodes, "code": code_bytes / nodes}


def limit_threads(n: int) -> str:
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        return f"{n} thread(s) for BLAS and PyTorch"
    except ImportError:
        return f"{n} thread(s) for PyTorch, BLAS default (threadpoolctl not installed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10,000 tiny-graph replays, fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    threads = limit_threads(args.threads)
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    try:
        import torch

        versions.append(f"PyTorch {torch.__version__}")
    except ImportError:
        pass
    print(f"# tape compiler benchmark: {platform.machine()} {platform.processor() or ''}, "
          f"{', '.join(versions)}; {threads}")

    tiny_t = bench_tiny(10_000 if args.quick else 100_000, repeat)
    moons, info = bench_moons(repeat)
    try:
        digits = bench_digits(repeat)
    except ImportError:
        digits = {}
    fit = bench_fit(5 if args.quick else 20)
    mem = memory_per_node()

    print()
    print("| workload | tape | vs micrograd | vs plain floats | vs PyTorch CPU | chalkgrad eager |")
    print("|---|---|---|---|---|---|")

    def ratio(other: float | None, ours: float, faster: bool) -> str:
        if other is None:
            return "-"
        return f"{other / ours:.0f}x faster" if faster else f"{ours / other:.2f}x the time"

    t = tiny_t["tape"]
    print(f"| tiny graph (BurTorch), one replay | {fmt(t)} | {ratio(tiny_t.get('micrograd'), t, True)} | "
          f"{ratio(tiny_t['plain floats'], t, False)} | - | {ratio(tiny_t['chalkgrad eager'], t, True)} |")
    t = moons["tape"]
    print(f"| micrograd demo step (moons MLP 2-16-16-1) | {fmt(t)} | {ratio(moons.get('micrograd'), t, True)} | - | "
          f"{ratio(moons.get('PyTorch'), t, False)} | {ratio(moons['chalkgrad eager'], t, True)} |")
    if digits:
        t = digits["tape"]
        print(f"| digits epoch (64-32-10, 1,797 samples) | {fmt(t)} | - | - | "
              f"{ratio(digits.get('PyTorch'), t, False)} | - |")
    t = fit["tape"]
    print(f"| nn.fit epoch (moons, full batch, hinge + L2, SGD), compile=True | {fmt(t)} | - | - | - | "
          f"{ratio(fit['chalkgrad eager'], t, True)} |")
    print()
    print("Absolute times: " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {fmt(v)}" for k, v in d.items())
        for name, d in (("tiny", tiny_t), ("moons step", moons), ("digits epoch", digits), ("fit epoch", fit))))
    print(f"Moons MLP tape: {info['nodes']} nodes per sample replayed as {info['groups']} groups (op-rule "
          f"evaluations); one forward+backward replay over the 100 samples makes {info['numpy']} numpy "
          "function/ufunc/method calls (plus array indexing).")
    print(f"Memory per node ({mem['nodes']:,}-node random graph): eager graph {mem['eager']:.0f} B, "
          f"tape {mem['tape']:.1f} B ({mem['eager'] / mem['tape']:.0f}x less), "
          f"+ {mem['code']:.0f} B once the generated source is compiled for single-sample replay.")


if __name__ == "__main__":
    main()
