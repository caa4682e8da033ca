"""The playground's data sets, in pure Python (the page has no numpy).

Binary sets (labels -1 / +1), in the shapes of ``nn.datasets`` (which needs numpy): two moons, two
circles, two spiral arms of ``turns`` turns each, and the four quadrants of XOR (TensorFlow
Playground's version, with a small gap around the axes so that 100 % training accuracy is reachable).
``blobs3``: three Gaussian blobs, labels 0 / 1 / 2.  ``sine``: regression of y = sin(pi x1) on x1
(x2 is 0: a 1-D curve).
"""

from __future__ import annotations

import math
import random

__all__ = ["DATASETS", "NOISE", "TASKS", "make", "split"]

Points = list[list[float]]
SPIRAL_TURNS = 1.25  # each arm winds 1.25 times around the centre: a network must bend its boundary often


def xor(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    X, y = [], []
    for _ in range(n):
        a, b = (rng.choice((-1, 1)) * rng.uniform(0.1, 1.0) for _ in range(2))
        X.append([a + rng.gauss(0, noise), b + rng.gauss(0, noise)])
        y.append(1.0 if a * b > 0 else -1.0)
    return X, y


def moons(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    X, y = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            x1, x2, label = 1 - math.cos(t), 0.5 - math.sin(t), 1.0
        else:
            x1, x2, label = math.cos(t), math.sin(t), -1.0
        X.append([x1 + rng.gauss(0, noise), x2 + rng.gauss(0, noise)])
        y.append(label)
    return X, y


def circles(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    X, y = [], []
    for i in range(n):
        t = 2 * math.pi * rng.random()
        r, label = (0.5, 1.0) if i % 2 else (1.0, -1.0)
        X.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        y.append(label)
    return X, y


def spirals(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    X, y = [], []
    for i in range(n):
        arm = i % 2
        r = 0.1 + 0.9 * rng.random()
        t = 2 * math.pi * SPIRAL_TURNS * r + math.pi * arm
        X.append([r * math.sin(t) + rng.gauss(0, noise), r * math.cos(t) + rng.gauss(0, noise)])
        y.append(1.0 if arm else -1.0)
    return X, y


def blobs3(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    """Three classes (0, 1, 2) around the corners of a triangle; ``noise`` is each blob's spread."""
    X, y = [], []
    for i in range(n):
        k = i % 3
        angle = math.pi / 2 + 2 * math.pi * k / 3
        X.append([0.6 * math.cos(angle) + rng.gauss(0, noise), 0.6 * math.sin(angle) + rng.gauss(0, noise)])
        y.append(float(k))
    return X, y


def sine(n: int, noise: float, rng: random.Random) -> tuple[Points, list[float]]:
    """Regression: y = sin(pi x1) + noise for x1 in [-1, 1]; x2 = 0."""
    X, y = [], []
    for _ in range(n):
        x = rng.uniform(-1.0, 1.0)
        X.append([x, 0.0])
        y.append(math.sin(math.pi * x) + rng.gauss(0, noise))
    return X, y


DATASETS = {"xor": xor, "moons": moons, "circles": circles, "spirals": spirals, "blobs3": blobs3, "sine": sine}
NOISE = {"xor": 0.02, "moons": 0.1, "circles": 0.05, "spirals": 0.02, "blobs3": 0.25, "sine": 0.1}
TASKS = {"blobs3": "multiclass", "sine": "regression"}  # the rest: "binary"


def make(name: str, n: int = 100, noise: float | None = None, seed: int = 0) -> tuple[Points, list[float]]:
    """``n`` points of data set ``name`` (one of DATASETS) and their labels, reproducible from ``seed``."""
    if name not in DATASETS:
        raise ValueError(f"make: dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"make: n must be an integer >= 2, got {n!r}")
    return DATASETS[name](n, NOISE[name] if noise is None else float(noise), random.Random(seed))


def split(n: int, test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, test indices): a seeded shuffle of range(n), the first round(n * fraction) held out."""
    order = list(range(n))
    random.Random(f"split-{seed}").shuffle(order)
    k = round(n * test_fraction)
    return sorted(order[k:]), sorted(order[:k])
