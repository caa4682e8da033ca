"""nn.fit(compile=True) against an idiomatic PyTorch float64 training loop, side by side in one process.

    python benchmarks/fit.py [--repeat 3] [--fashion-samples 60000] [--accuracy] [--only NAME ...]

Four workloads (issue 14), each timed as whole ``nn.fit`` calls (shuffling, per-epoch accuracy,
history and all) divided by the epochs, best of ``--repeat`` calls on the same model, against the
same network in PyTorch (float64 like chalkgrad, ``torch.randperm`` shuffles, per-epoch accuracy).
The calls take turns (chalkgrad, PyTorch, numpy, chalkgrad, ...), so a busy spell of the machine
slows each side alike:

1. digits 64-32-10 (relu), cross-entropy, SGD, batches of 32, one epoch over 1,797 images;
2. digits, full batch, 5 epochs per fit call;
3. micrograd's moons MLP 2-16-16-1, hinge + L2, full batch (100 points), 100 epochs per call;
4. Fashion-MNIST 784-128-10 (relu), cross-entropy, SGD with momentum, batches of 128, one epoch
   over 60,000 images (``--fashion-samples`` takes fewer, for a slow baseline).

A third column times the same training written by hand in numpy (:func:`numpy_fit`: no graph, no
tape, no checks), the floor any numpy engine can reach.  The first nn.fit call of each workload is
timed on its own: what it takes beyond a later call is tracing the model and generating its batch
program (``tape.batch_source()``).  The last column counts the numpy functions and array methods
one training step calls (cProfile; operators such as ``a * b`` are not counted), nn.fit against
numpy by hand.

``--accuracy`` also trains Fashion-MNIST for 3 epochs of SGD with momentum in both and prints the
test accuracy.  BLAS and PyTorch run on one thread.  Ratios are chalkgrad's time / PyTorch's:
below 1 chalkgrad is faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads BLAS; threadpoolctl below makes sure
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import nn  # noqa: E402
from nn import datasets  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - the benchmark is about the comparison
    raise SystemExit("benchmarks/fit.py compares with PyTorch: pip install torch") from None

from compile import count_numpy_calls, fmt, limit_threads  # noqa: E402  (benchmarks/compile.py, next to it)


def best(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """The best time of each run over ``repeat`` rounds, the runs taking turns within a round: a busy
    spell of the machine then slows all of them, not one side of the comparison."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}


# --- the PyTorch side -------------------------------------------------------------------------------
def torch_mlp(sizes: list[int]) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b, dtype=torch.float64), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def torch_fit(model: torch.nn.Module, X: np.ndarray, y: np.ndarray, loss: str, opt: torch.optim.Optimizer,
              epochs: int, batch_size: int | None, l2: float = 0.0, seed: int = 0) -> float:
    """The loop a PyTorch user writes: shuffle indices, slice, forward, loss, backward, step; accuracy per epoch."""
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y if loss == "cross_entropy" else y.astype(np.float64))
    n = len(Xt)
    size = n if batch_size is None else batch_size
    g = torch.Generator().manual_seed(seed)
    acc = 0.0
    for _ in range(epochs):
        order = torch.randperm(n, generator=g) if batch_size is not None else torch.arange(n)
        correct = 0
        total = 0.0
        for lo in range(0, n, size):
            idx = order[lo:lo + size]
            xb, yb = Xt[idx], yt[idx]
            out = model(xb)
            if loss == "cross_entropy":
                objective = torch.nn.functional.cross_entropy(out, yb)
                correct += int((out.argmax(1) == yb).sum())
            else:  # hinge, labels -1/+1
                score = out.squeeze(1)
                objective = torch.relu(1 - yb * score).mean()
                correct += int(((score > 0) == (yb > 0)).sum())
            if l2:
                objective = objective + (l2 / 2) * sum((p * p).sum() for p in model.parameters())
            opt.zero_grad()
            objective.backward()
            opt.step()
            total += objective.item() * len(idx)
        acc = correct / n
    return acc


# --- the floor: the same training written by hand in numpy ---------------------------------------------
def numpy_fit(sizes: list[int], X: np.ndarray, y: np.ndarray, loss: str, lr: float, momentum: float, epochs: int,
              batch_size: int | None, l2: float = 0.0, seed: int = 0) -> float:
    """The same MLP (relu hidden layers), loss, SGD and per-epoch accuracy as three-line numpy per layer:
    no graph, no tape, no checks.  What any numpy engine can at best reach; chalkgrad's tape calls these
    same kinds of numpy functions, so its ratio to this is its own overhead."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0.0, np.sqrt(2.0 / a), (b, a)) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    vel = [np.zeros_like(p) for p in Ws + bs]
    n = len(X)
    size = n if batch_size is None else batch_size
    acc = 0.0
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size is not None else np.arange(n)
        correct = 0
        for lo in range(0, n, size):
            idx = order[lo:lo + size]
            h, yb = X[idx], y[idx]
            acts = [h]
            for i, (W, b) in enumerate(zip(Ws, bs)):
                h = h @ W.T + b
                if i < len(Ws) - 1:
                    h = np.maximum(h, 0.0)
                acts.append(h)
            B = len(idx)
            if loss == "cross_entropy":
                e = np.exp(h - h.max(1, keepdims=True))
                g = e / e.sum(1, keepdims=True)
                g[np.arange(B), yb] -= 1.0
                correct += int((h.argmax(1) == yb).sum())
            else:  # hinge, labels -1/+1, one output
                score = h[:, 0]
                g = np.where(1.0 - yb * score > 0.0, -yb, 0.0)[:, None]
                correct += int(((score > 0) == (yb > 0)).sum())
            g /= B
            grads = []
            for i in range(len(Ws) - 1, -1, -1):
                grads.append((i, g.T @ acts[i], g.sum(0)))
                if i:
                    g = (g @ Ws[i]) * (acts[i] > 0.0)
            for i, gw, gb in grads:
                for k, (p, gp) in enumerate(((Ws[i], gw + l2 * Ws[i]), (bs[i], gb + l2 * bs[i]))):
                    v = vel[i + k * len(Ws)]
                    v *= momentum
                    v += gp
                    p -= lr * v
        acc = correct / n
    return acc


# --- the workloads ----------------------------------------------------------------------------------
class Workload:
    def __init__(self, name: str, X: np.ndarray, y: np.ndarray, sizes: list[int], loss: str, batch_size: int | None,
                 epochs: int, lr: float, momentum: float = 0.0, l2: float = 0.0) -> None:
        self.name, self.X, self.y, self.sizes, self.loss = name, X, y, sizes, loss
        self.batch_size, self.epochs, self.lr, self.momentum, self.l2 = batch_size, epochs, lr, momentum, l2

    def chalkgrad(self, compile: bool | None = True) -> Callable[[], None]:
        """One nn.fit call (``epochs`` epochs) on a model made once: called again, it trains on."""
        model = nn.MLP(self.sizes[0], self.sizes[1:], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum)
        reg = (lambda ps: nn.l2(ps, self.l2)) if self.l2 else None

        def run() -> None:
            nn.fit(model, self.X, self.y, loss=self.loss, optimizer=opt, epochs=self.epochs,
                   batch_size=self.batch_size, regularizer=reg, progress=False, seed=0, compile=compile)

        return run

    def steps(self) -> int:
        """Training steps (batches) one call makes."""
        size = len(self.X) if self.batch_size is None else self.batch_size
        return self.epochs * -(-len(self.X) // size)

    def numpy(self) -> Callable[[], Any]:
        return lambda: numpy_fit(self.sizes, self.X, self.y, self.loss, self.lr, self.momentum, self.epochs,
                                 self.batch_size, self.l2)

    def pytorch(self) -> Callable[[], Any]:
        torch.manual_seed(0)
        model = torch_mlp(self.sizes)
        opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum)
        return lambda: torch_fit(model, self.X, self.y, self.loss, opt, self.epochs, self.batch_size, self.l2)


def workloads(fashion_samples: int) -> list[Workload]:
    out = []
    try:
        X, y = datasets.digits()
        out.append(Workload("digits 64-32-10, batch 32", X, y, [64, 32, 10], "cross_entropy", 32, 1, 0.1))
        out.append(Workload("digits 64-32-10, full batch", X, y, [64, 32, 10], "cross_entropy", None, 5, 0.5))
    except ImportError:
        print("(digits skipped: scikit-learn is not installed)")
    X, y = datasets.demo_moons(labels="sign")
    out.append(Workload("moons 2-16-16-1, hinge + L2, full batch", X, y, [2, 16, 16, 1], "hinge", None, 100, 0.1,
                        l2=2e-4))
    try:
        X, y = datasets.fashion_mnist()
        X, y = X[:fashion_samples], y[:fashion_samples]
        out.append(Workload(f"Fashion-MNIST 784-128-10, batch 128, {len(X):,} images", X, y, [784, 128, 10],
                            "cross_entropy", 128, 1, 0.05, momentum=0.9))
    except FileNotFoundError as e:
        print(f"(Fashion-MNIST skipped: {e})")
    return out


def fashion_accuracy(epochs: int = 3) -> tuple[float, float, float, float]:
    """Test accuracy of 784-128-10 after ``epochs`` of SGD with momentum: (chalkgrad, PyTorch, their seconds)."""
    X, y = datasets.fashion_mnist()
    Xt, yt = datasets.fashion_mnist("test")
    model = nn.MLP(784, [128, 10], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    t0 = time.perf_counter()
    nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=epochs, batch_size=128, progress=False, seed=0,
           compile=True)
    ours_s = time.perf_counter() - t0
    ours = nn.evaluate(model, Xt, yt, loss="cross_entropy")["accuracy"]
    torch.manual_seed(0)
    tm = torch_mlp([784, 128, 10])
    t0 = time.perf_counter()
    torch_fit(tm, X, y, "cross_entropy", torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9), epochs, 128)
    theirs_s = time.perf_counter() - t0
    with torch.no_grad():
        theirs = float((tm(torch.from_numpy(Xt)).argmax(1) == torch.from_numpy(yt)).double().mean())
    return ours, theirs, ours_s, theirs_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fashion-samples", type=int, default=60_000)
    parser.add_argument("--accuracy", action="store_true", help="also train Fashion-MNIST 3 epochs, test accuracy")
    parser.add_argument("--eager", action="store_true", help="also time compile=False on moons")
    parser.add_argument("--only", nargs="*", default=None, help="workloads whose name starts with these words")
    args = parser.parse_args()
    threads = limit_threads(1)
    print(f"# nn.fit vs PyTorch: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"PyTorch {torch.__version__}; {threads}; load average {os.getloadavg()[0]:.1f}")
    print("| workload | nn.fit(compile=True) per epoch | PyTorch loop per epoch | ratio | numpy by hand | "
          "its ratio to PyTorch | nn.fit / by hand | first call: trace + generate | numpy calls per step |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in workloads(args.fashion_samples):
        if args.only and not any(w.name.lower().startswith(o.lower()) for o in args.only):
            continue
        runs = {"pytorch": w.pytorch(), "chalkgrad": w.chalkgrad(), "numpy": w.numpy()}
        if args.eager and w.name.startswith("moons"):
            runs["eager"] = w.chalkgrad(compile=False)
        t0 = time.perf_counter()
        runs["chalkgrad"]()  # the first call: traces the model and generates its batch program
        first = time.perf_counter() - t0
        calls = {name: count_numpy_calls(runs[name]) / w.steps() for name in ("chalkgrad", "numpy")}
        seconds = best(runs, args.repeat)
        t = {name: s / w.epochs for name, s in seconds.items()}
        theirs, ours, floor = t["pytorch"], t["chalkgrad"], t["numpy"]
        extra = first - seconds["chalkgrad"]
        trace_time = fmt(extra) if extra > 0 else "lost in noise"
        print(f"| {w.name} | {fmt(ours)} | {fmt(theirs)} | {ours / theirs:.2f}x | {fmt(floor)} | "
              f"{floor / theirs:.2f}x | {ours / floor:.2f}x | {trace_time} | "
              f"{calls['chalkgrad']:.0f} / {calls['numpy']:.0f} |", flush=True)
        if "eager" in t:
            eager = t["eager"]
            print(f"| {w.name}, compile=False | {fmt(eager)} | {fmt(theirs)} | {eager / theirs:.2f}x |", flush=True)
    if args.accuracy:
        ours, theirs, ours_s, theirs_s = fashion_accuracy()
        print(f"Fashion-MNIST 784-128-10, 3 epochs SGD momentum 0.9, lr 0.05, batch 128: test accuracy "
              f"chalkgrad {100 * ours:.1f} % ({ours_s:.1f} s), PyTorch {100 * theirs:.1f} % ({theirs_s:.1f} s)")


if __name__ == "__main__":
    main()
