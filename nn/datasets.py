"""Small seeded datasets for teaching: truth tables, toy 2-D shapes, a sine, digits, Fashion-MNIST.

Every loader returns ``(X, y)``: ``X`` a float array of shape (n, features), ``y`` the labels in the
form asked for with ``labels=``:

- ``"index"`` (default): class indices 0..k-1 as ints, what ``cross_entropy`` expects;
- ``"01"``: 0.0 / 1.0 floats (two classes only), what binary cross-entropy expects;
- ``"sign"``: -1.0 / +1.0 floats (two classes only), what the hinge loss expects;
- ``"onehot"``: one row of k floats per sample, e.g. for a squared loss on k outputs.

:func:`to_labels` converts between them and :func:`labels_for` names the form a loss expects.

>>> from nn import datasets
>>> X, y = datasets.moons(100, noise=0.1, seed=1, labels="sign")   # the shape of micrograd's demo data
>>> X.shape, sorted(set(y.tolist()))
((100, 2), [-1.0, 1.0])

The generated sets (``xor(n=...)``, ``moons``, ``circles``, ``spirals``, ``blobs``, ``sine``) are
made in pure Python from ``random.Random(seed)``: the same numbers everywhere, as numpy arrays where
numpy is installed and as lists where it is not (the browser playground, docs/browser.md, uses
them).  Everything else here needs numpy; ``digits`` needs scikit-learn too.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from . import validate

if TYPE_CHECKING:
    import numpy as np

    from .fashion_mnist import FASHION_MNIST_CLASSES
else:
    try:
        import numpy as np

        from .fashion_mnist import FASHION_MNIST_CLASSES
    except ModuleNotFoundError as _missing:  # the browser: the generated sets come as lists
        if _missing.name != "numpy":
            raise
        np = None

__all__ = [
    "xor",
    "and_",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "sine",
    "digits",
    "fashion_mnist",
    "FASHION_MNIST_CLASSES",
    "demo_moons",
    "train_test_split",
    "standardize",
    "to_labels",
    "label_kind",
    "labels_for",
    "LABEL_KINDS",
]

LABEL_KINDS = ("index", "01", "sign", "onehot")

# The label form each built-in loss expects (by the name nn.fit and the CLI accept).
_INSTALL_HINT = "pip install 'chalkgrad[datasets]' (or: pip install scikit-learn)"


# --- labels ----------------------------------------------------------------------------------------
def label_kind(y: Any, *, distinct: set[float] | None = None) -> str:
    """Which form labels are in: "01", "sign", "index", "onehot" or "real".

    Two classes stored as 0/1 count as "01" (they are also valid class indices).  ``distinct``: the
    set of y's values, when the caller has it already (one sort fewer).

    >>> label_kind([0, 1, 1]), label_kind([-1, 1]), label_kind([0, 2, 1]), label_kind([0.5, 2.0])
    ('01', 'sign', 'index', 'real')
    """
    a = np.asarray(y, dtype=float)
    if a.size == 0:
        return "real"
    if a.ndim == 2 and a.shape[1] > 1:
        ok = np.isin(a, (0.0, 1.0)).all() and (a.sum(axis=1) == 1).all()
        return "onehot" if ok else "real"
    a = a.reshape(-1)
    if not np.isfinite(a).all():
        return "real"
    values = set(np.unique(a).tolist()) if distinct is None else distinct
    if values <= {0.0, 1.0}:
        return "01"
    if values <= {-1.0, 1.0}:
        return "sign"
    if all(v >= 0 and v == int(v) for v in values):
        return "index"
    return "real"


def labels_for(loss: str) -> str:
    """The label form a built-in loss trains on: "sign" for hinge, "index" for cross_entropy, ...

    Read from the loss's declaration in ``nn.losses.REGISTRY``, so it answers for exactly the names
    ``nn.losses.get`` accepts (aliases too).

    >>> labels_for("hinge"), labels_for("cross_entropy"), labels_for("mse")
    ('sign', 'index', 'real')
    """
    from . import losses

    if not isinstance(loss, str):
        raise validate.fail("labels_for", "loss", "a loss name", loss, TypeError)
    found = losses.spec(loss, "labels_for")
    assert found is not None  # a name always has a declaration (or spec raised)
    return found.labels


def to_labels(y: Any, kind: str, classes: int | None = None) -> np.ndarray:
    """Convert labels between {0,1}, {-1,1}, class indices and one-hot rows.

    ``kind`` is one of "index", "01", "sign", "onehot"; ``classes`` fixes the one-hot width
    (default: largest index + 1). Two classes map 0 <-> -1 and 1 <-> +1.

    >>> to_labels([0, 1, 1], "sign").tolist()
    [-1.0, 1.0, 1.0]
    >>> to_labels([-1, 1], "index").tolist()
    [0, 1]
    >>> to_labels([2, 0], "onehot").tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    if kind not in LABEL_KINDS:
        raise ValueError(f"to_labels: kind must be one of {', '.join(LABEL_KINDS)}, got {kind!r}")
    src = label_kind(y)
    a = np.asarray(y, dtype=float)
    if src == "onehot":
        index = a.argmax(axis=1)
    elif src == "sign":
        index = (a.reshape(-1) > 0).astype(np.int64)
    elif src in ("01", "index"):
        index = a.reshape(-1).astype(np.int64)
    else:
        raise ValueError(
            "to_labels: y must hold class labels (0/1, -1/+1, indices 0..k-1 or one-hot rows); "
            f"got values like {np.unique(a)[:5].tolist()}"
        )
    k = int(index.max()) + 1 if index.size else 0
    if classes is not None:
        if classes < k:
            raise ValueError(f"to_labels: y has class index {k - 1} but classes={classes}")
        k = classes
    if kind == "index":
        return np.asarray(index)
    if kind == "onehot":
        out = np.zeros((index.size, max(k, 1)))
        out[np.arange(index.size), index] = 1.0
        return out
    if k > 2:
        raise ValueError(f"to_labels: {kind!r} labels need two classes, but y has {k} (indices 0..{k - 1})")
    return index.astype(float) if kind == "01" else np.where(index > 0, 1.0, -1.0)


def _finish(X: np.ndarray, index: np.ndarray, labels: str, caller: str) -> tuple[np.ndarray, np.ndarray]:
    if labels not in LABEL_KINDS:
        raise validate.fail(caller, "labels", f"one of {', '.join(LABEL_KINDS)}", labels)
    index = np.asarray(index, dtype=np.int64)
    return np.asarray(X, dtype=float), to_labels(index, labels, classes=int(index.max()) + 1)


def _made(X: list[list[float]], index: list[int], labels: str, caller: str) -> tuple[Any, Any]:
    """A generated set in the form ``labels`` asks for: numpy arrays, or lists without numpy (the same
    numbers)."""
    if labels not in LABEL_KINDS:
        raise validate.fail(caller, "labels", f"one of {', '.join(LABEL_KINDS)}", labels)
    k = max(index) + 1
    if labels in ("01", "sign") and k > 2:
        raise ValueError(f"{caller}: {labels!r} labels need two classes, but there are {k}")
    y: list[Any]
    if labels == "index":
        y = index
    elif labels == "onehot":
        y = [[1.0 if j == i else 0.0 for j in range(k)] for i in index]
    else:
        y = [float(i) if labels == "01" else (1.0 if i else -1.0) for i in index]
    if np is None:
        return X, y
    return np.array(X, dtype=float).reshape(len(X), -1), np.array(y, dtype=np.int64 if labels == "index" else float)


def _rng(caller: str, seed: int | None) -> random.Random:
    return random.Random(None if seed is None else validate.integer(caller, "seed", seed, 0))


# --- truth tables (LMU München ML Basics III; ETH Zürich Introduction to ML tutorial) ---------------
_TABLE_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]


def xor(labels: str = "index", n: int | None = None, noise: float = 0.02, seed: int | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """XOR's truth table: y = 1 when x1 != x2 (not linearly separable).

    With ``n``: n points scattered over the four quadrants instead (TensorFlow Playground's XOR),
    each coordinate ±(0.1 to 1) plus Gaussian ``noise``, y = 1 when the signs differ.

    >>> X, y = xor()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    if n is None:
        return _made([list(r) for r in _TABLE_X], [0, 1, 1, 0], labels, "xor")
    n, noise = validate.integer("xor", "n", n, 2), validate.non_negative("xor", "noise", noise)
    rng = _rng("xor", seed)
    X, index = [], []
    for _ in range(n):
        a, b = (rng.choice((-1, 1)) * rng.uniform(0.1, 1.0) for _ in range(2))
        X.append([a + rng.gauss(0, noise), b + rng.gauss(0, noise)])
        index.append(1 if a * b < 0 else 0)
    return _made(X, index, labels, "xor")


def and_(labels: str = "index") -> tuple[np.ndarray, np.ndarray]:
    """AND's truth table: y = 1 only for x = (1, 1) (the worked example of the ETH Zürich
    Introduction to ML tutorial, neural networks, by Lang and Sharma).

    >>> and_()[1].tolist()
    [0, 0, 0, 1]
    """
    return _made([list(r) for r in _TABLE_X], [0, 0, 0, 1], labels, "and_")


# --- 2-D shapes, in pure Python ----------------------------------------------------------------------
def moons(
    n: int = 100, noise: float = 0.1, seed: int | None = None, labels: str = "index"
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, n points (classes alternating), Gaussian ``noise``.

    Class 0 on the upper unit half circle, class 1 on the lower one shifted to (1, 0.5).
    (micrograd's demo data, made with scikit-learn, is :func:`demo_moons`.)
    """
    n, noise = validate.integer("moons", "n", n, 2), validate.non_negative("moons", "noise", noise)
    rng = _rng("moons", seed)
    X, index = [], []
    for i in range(n):
        t = math.pi * rng.random()
        k = i % 2
        x1, x2 = (1 - math.cos(t), 0.5 - math.sin(t)) if k else (math.cos(t), math.sin(t))
        X.append([x1 + rng.gauss(0, noise), x2 + rng.gauss(0, noise)])
        index.append(k)
    return _made(X, index, labels, "moons")


def circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None, labels: str = "index"
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1)."""
    n, noise = validate.integer("circles", "n", n, 2), validate.non_negative("circles", "noise", noise)
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must lie strictly between 0 and 1, got {factor!r}")
    rng = _rng("circles", seed)
    X, index = [], []
    for i in range(n):
        t = 2 * math.pi * rng.random()
        k = i % 2
        r = factor if k else 1.0
        X.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        index.append(k)
    return _made(X, index, labels, "circles")


def spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None, labels: str = "index",
    turns: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms, n points in all (CS231n's spiral data).

    Arm j sweeps the angle 4j..4(j+1) radians (with ``turns``: winds that many times around the
    centre, starting at 2*pi*j/classes), plus Gaussian ``noise`` on the angle, while the radius grows
    from 0 to 1; the points are shuffled.
    """
    n, noise = validate.integer("spirals", "n", n, 2), validate.non_negative("spirals", "noise", noise)
    classes = validate.integer("spirals", "classes", classes, 2)
    if turns is not None:
        turns = validate.positive("spirals", "turns", turns)
    rng = _rng("spirals", seed)
    X, index = [], []
    for j in range(classes):
        m = n // classes + (1 if j < n % classes else 0)
        for i in range(m):
            step = i / (m - 1) if m > 1 else 0.0
            t = 4.0 * (j + step) if turns is None else 2 * math.pi * (turns * step + j / classes)
            t += rng.gauss(0, noise)
            X.append([step * math.sin(t), step * math.cos(t)])
            index.append(j)
    order = list(range(n))
    rng.shuffle(order)
    return _made([X[i] for i in order], [index[i] for i in order], labels, "spirals")


def blobs(
    n: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 1.0,
    features: int = 2,
    seed: int | None = None,
    labels: str = "index",
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters (sample i in cluster i mod k) around ``centers``: k random centres
    in [-10, 10]^features, or the given points (then ``features`` is their length)."""
    n, std = validate.integer("blobs", "n", n, 1), validate.non_negative("blobs", "std", std)
    rng = _rng("blobs", seed)
    if isinstance(centers, int):
        k = validate.integer("blobs", "centers", centers, 1)
        features = validate.integer("blobs", "features", features, 1)
        where = [[rng.uniform(-10.0, 10.0) for _ in range(features)] for _ in range(k)]
    else:
        where = [[float(v) for v in c] for c in centers]
        if not where or len({len(c) for c in where}) != 1 or not where[0]:
            raise validate.fail("blobs", "centers", "a count, or points of one length", centers)
    X = [[c + rng.gauss(0, std) for c in where[i % len(where)]] for i in range(n)]
    return _made(X, [i % len(where) for i in range(n)], labels, "blobs")


def sine(n: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression data: x uniform in [-pi, pi] (shape (n, 1), sorted), y = sin(x) + Gaussian noise."""
    n, noise = validate.integer("sine", "n", n, 1), validate.non_negative("sine", "noise", noise)
    rng = _rng("sine", seed)
    xs = sorted(rng.uniform(-math.pi, math.pi) for _ in range(n))
    X, y = [[x] for x in xs], [math.sin(x) + rng.gauss(0, noise) for x in xs]
    if np is None:
        return X, y
    return np.array(X, dtype=float), np.array(y, dtype=float)


def digits(
    labels: str = "index", classes: int = 10, scale: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits: 1797 samples of 64 pixels.

    Pixels are scaled from 0..16 to 0..1 (``scale=False`` keeps them); ``classes < 10`` keeps only
    the digits 0..classes-1. Needs scikit-learn (the ``datasets`` extra).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            f"nn.datasets.digits() needs scikit-learn, which ships the 8x8 digits: {_INSTALL_HINT}"
        ) from None
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= 10:
        raise ValueError(f"digits: classes must be an integer from 2 to 10, got {classes!r}")
    data = load_digits(n_class=classes)
    X = data.data / 16.0 if scale else data.data.astype(float)
    return _finish(X, data.target, labels, "digits")


def fashion_mnist(split: str = "train", path: Any = None, labels: str = "index") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's 60,000 training (``split="train"``) or 10,000 test images (``"test"``), 28x28 each.

    ``X`` is float64 of shape (n, 784) scaled to [0, 1]; ``y`` the classes 0..9
    (:data:`FASHION_MNIST_CLASSES`) in the form ``labels`` asks for.  Reads the IDX files that
    ``apt-get install dataset-fashion-mnist`` puts in /usr/share/datasets/fashion-mnist, or those in
    the directory ``path`` (downloaded by hand, gzip or not); see :mod:`nn.fashion_mnist`.
    """
    if labels not in LABEL_KINDS:
        raise ValueError(f"fashion_mnist: labels must be one of {', '.join(LABEL_KINDS)}, got {labels!r}")
    from . import fashion_mnist as fashion_files

    X, index = fashion_files.load(split, path)
    return X, to_labels(index, labels, classes=10)


def demo_moons(labels: str = "index") -> tuple[np.ndarray, np.ndarray]:
    """The 100 two-moons points (noise 0.1) of micrograd's demo, shipped with chalkgrad as JSON.

    Needs neither scikit-learn nor a seed: this is the data ``python -m nn train`` uses by default.
    """
    text = resources.files("nn").joinpath("data").joinpath("moons.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return _finish(np.array(data["X"], dtype=float), np.array(data["y"]), labels, "demo_moons")


# --- splitting and scaling -------------------------------------------------------------------------
def train_test_split(
    X: Any, y: Any, test_size: float = 0.25, seed: int | None = None, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) (rounded up) or a count; ``stratify=True`` keeps each
    class's share to within one sample, and the test part still has exactly that size.

    >>> X, y = moons(100, seed=0)
    >>> [a.shape[0] for a in train_test_split(X, y, test_size=0.2, seed=0)]
    [80, 20, 80, 20]
    """
    X, y = np.asarray(X), np.asarray(y)
    for name, a in (("X", X), ("y", y)):
        if a.ndim == 0:
            raise validate.fail("train_test_split", name, "an array of samples", a.item(), TypeError)
    if seed is not None:
        seed = validate.integer("train_test_split", "seed", seed, minimum=0)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}; they must match")
    if isinstance(test_size, float) and 0 < test_size < 1:
        n_test = int(math.ceil(test_size * n))
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a count in 1..{n - 1}, "
            f"got {test_size!r}"
        )
    if n_test >= n:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves no training samples out of {n}")
    rng = np.random.default_rng(seed)
    if stratify:
        keys = y if y.ndim == 1 else y.argmax(axis=1)
        classes = np.unique(keys)
        members = [rng.permutation(np.flatnonzero(keys == c)) for c in classes]
        # Each class's share of n_test, floored, then the samples left over go to the largest
        # remainders (ties: the smaller class index): the counts add up to exactly n_test.
        quotas = np.array([len(m) * n_test / n for m in members])
        counts = np.floor(quotas).astype(np.int64)
        by_remainder = sorted(range(len(members)), key=lambda i: -(quotas[i] - counts[i]))
        for i in by_remainder[: n_test - int(counts.sum())]:
            counts[i] += 1
        chosen: list[int] = []
        for m, k in zip(members, counts):
            chosen.extend(m[:k].tolist())
        test = np.zeros(n, dtype=bool)
        test[chosen] = True
        test_idx = rng.permutation(np.flatnonzero(test))
        train_idx = rng.permutation(np.flatnonzero(~test))
    else:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def standardize(X: Any, *others: Any) -> np.ndarray | tuple[np.ndarray, ...]:
    """Shift and scale each column of X to mean 0, std 1; ``others`` get X's shift and scale.

    Constant columns (std 0) are only shifted. Typical use: ``X_train, X_test = standardize(X_train, X_test)``.

    >>> Z = standardize([[1.0, 5.0], [3.0, 5.0]])
    >>> Z.tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"standardize: X must be a non-empty 2-D array (samples x features), got shape {X.shape}")
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = [(X - mean) / std]
    for i, other in enumerate(others, 1):
        other = np.asarray(other, dtype=float)
        if other.ndim != 2 or other.shape[1] != X.shape[1]:
            raise ValueError(
                f"standardize: array {i} has shape {other.shape}, expected (n, {X.shape[1]}) like X"
            )
        out.append((other - mean) / std)
    return out[0] if not others else tuple(out)
