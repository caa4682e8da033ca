"""The playground's 2-D binary data sets, in pure Python (the page has no numpy): labels are -1 / +1.

Same shapes as ``nn.datasets`` (which needs numpy): two moons, two circles, two spiral arms, and the
four quadrants of XOR (TensorFlow Playground's version, with a small gap around the axes so that
100 % training accuracy is reachable).
"""

from __future__ import annotations

import math
import random

__all__ = ["DATASETS", "make"]

Points = list[list[float]]


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
        r = rng.random()
        t = 4.0 * r + math.pi * arm + rng.gauss(0, noise)
        X.append([r * math.sin(t), r * math.cos(t)])
        y.append(1.0 if arm else -1.0)
    return X, y


DATASETS = {"xor": xor, "moons": moons, "circles": circles, "spirals": spirals}
NOISE = {"xor": 0.02, "moons": 0.1, "circles": 0.05, "spirals": 0.1}


def make(name: str, n: int = 100, noise: float | None = None, seed: int = 0) -> tuple[Points, list[float]]:
    """``n`` points of data set ``name`` (one of DATASETS) and their labels, reproducible from ``seed``."""
    if name not in DATASETS:
        raise ValueError(f"make: dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"make: n must be an integer >= 2, got {n!r}")
    return DATASETS[name](n, NOISE[name] if noise is None else float(noise), random.Random(seed))
