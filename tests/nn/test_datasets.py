"""nn.datasets: truth tables, seeded generators (pure Python: arrays with numpy, lists without), labels, splits,
scaling."""

from __future__ import annotations

import doctest
import sys

import numpy as np
import pytest

from nn import datasets


def test_doctests():
    assert doctest.testmod(datasets).failed == 0


def test_truth_tables_of_the_lectures():
    X, y = datasets.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [int(a != b) for a, b in X.tolist()]
    X, y = datasets.and_()
    assert y.tolist() == [int(a and b) for a, b in X.tolist()]
    assert datasets.xor(labels="sign")[1].tolist() == [-1.0, 1.0, 1.0, -1.0]
    assert datasets.and_(labels="01")[1].dtype == float


@pytest.mark.parametrize("make", ["moons", "circles", "blobs", "spirals"])
def test_generators_are_seeded_and_shaped(make):
    fn = getattr(datasets, make)
    X1, y1 = fn(120, seed=3)
    X2, y2 = fn(120, seed=3)
    X3, _ = fn(120, seed=4)
    assert X1.shape == (120, 2) and y1.shape == (120,)
    assert X1.dtype == float and y1.dtype == np.int64
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    k = len(np.unique(y1))
    assert k == (2 if make in ("moons", "circles") else 3)
    counts = np.bincount(y1)
    assert counts.max() - counts.min() <= 1, "classes are balanced"


def test_moons_have_the_two_moon_shape():
    X, y = datasets.moons(400, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= -1e-9 and lower[:, 1].max() <= 0.5 + 1e-9
    noisy, _ = datasets.moons(400, noise=0.2, seed=0)
    assert not np.allclose(noisy, X)


def test_circles_radii():
    X, y = datasets.circles(200, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)
    with pytest.raises(ValueError, match="factor"):
        datasets.circles(10, factor=1.5)


def test_blobs_features_and_spread():
    X, y = datasets.blobs(300, centers=4, std=0.1, features=5, seed=1)
    assert X.shape == (300, 5) and set(y.tolist()) == {0, 1, 2, 3}
    for c in range(4):
        assert X[y == c].std(axis=0).max() < 0.3  # tight clusters around their centre


def test_demo_moons_needs_no_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    X, y = datasets.demo_moons(labels="sign")
    assert X.shape == (100, 2) and set(y.tolist()) == {-1.0, 1.0}
    X2, _ = datasets.moons(50, seed=0)  # generated in pure Python
    assert X2.shape == (50, 2)


@pytest.mark.parametrize("make, kw", [("moons", {}), ("circles", {}), ("spirals", {}), ("blobs", {}),
                                      ("xor", {"n": 30}), ("blobs", {"centers": [(0, 1, 2), (3, 4, 5)]})])
@pytest.mark.parametrize("labels", ["index", "01", "sign", "onehot"])
def test_without_numpy_the_generated_sets_are_lists_of_the_same_numbers(make, kw, labels, monkeypatch):
    fn = getattr(datasets, make)
    args = {"labels": labels, "seed": 7, **kw}
    if make != "xor":
        args["n"] = 30
    if labels in ("01", "sign") and make in ("spirals", "blobs") and "centers" not in kw:
        with pytest.raises(ValueError, match="need two classes"):
            fn(**args)
        return
    X, y = fn(**args)
    monkeypatch.setattr(datasets, "np", None)  # what the browser (Pyodide without numpy) runs
    Xl, yl = fn(**args)
    assert type(Xl) is list and type(yl) is list
    assert Xl == X.tolist() and yl == y.tolist()


def test_sine_without_numpy_gives_the_same_numbers(monkeypatch):
    X, y = datasets.sine(20, seed=3)
    monkeypatch.setattr(datasets, "np", None)
    assert datasets.sine(20, seed=3) == (X.tolist(), y.tolist())


def test_xor_points_lie_in_the_quadrants_of_their_class():
    X, y = datasets.xor(labels="sign", n=400, noise=0.0, seed=0)
    assert X.shape == (400, 2) and np.all(np.abs(X) >= 0.1 - 1e-12) and np.all(np.abs(X) <= 1.0)
    assert np.array_equal(y, np.where(X[:, 0] * X[:, 1] < 0, 1.0, -1.0))  # 1 where x1, x2 differ, as in the table


def test_blobs_around_given_centres():
    X, y = datasets.blobs(90, centers=[(0.0, 1.0), (5.0, 5.0), (-3.0, 0.0)], std=0.01, seed=0)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    assert np.allclose(X[y == 1].mean(axis=0), [5.0, 5.0], atol=0.01)
    with pytest.raises(ValueError, match="centers"):
        datasets.blobs(10, centers=[(0.0, 1.0), (2.0,)])


def test_spirals_arms():
    X, y = datasets.spirals(301, classes=4, noise=0.0, seed=0)
    assert X.shape == (301, 2) and np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    with pytest.raises(ValueError, match="classes"):
        datasets.spirals(10, classes=1)


def test_sine_is_noisy_sine():
    X, y = datasets.sine(2000, noise=0.1, seed=0)
    assert X.shape == (2000, 1) and y.shape == (2000,)
    assert np.all(np.abs(X) <= np.pi)
    assert abs(np.std(y - np.sin(X[:, 0])) - 0.1) < 0.01
    assert np.allclose(datasets.sine(5, noise=0.0, seed=1)[1], np.sin(datasets.sine(5, noise=0.0, seed=1)[0][:, 0]))


def test_digits():
    pytest.importorskip("sklearn", reason="scikit-learn (the datasets extra) is not installed")
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0
    assert set(y.tolist()) == set(range(10))
    X3, y3 = datasets.digits(classes=3, labels="onehot")
    assert y3.shape == (len(X3), 3) and set(y3.sum(axis=1).tolist()) == {1.0}
    with pytest.raises(ValueError, match="classes"):
        datasets.digits(classes=11)


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*chalkgrad\[datasets\]"):
        datasets.digits()


@pytest.mark.parametrize("bad", [dict(n=0), dict(n=2.5), dict(noise=-0.1), dict(noise=float("nan"))])
def test_generator_arguments_are_checked(bad):
    with pytest.raises(ValueError, match="moons"):
        datasets.moons(**bad)
    with pytest.raises(ValueError, match="labels must be one of"):
        datasets.xor(labels="plusminus")


# --- labels ---------------------------------------------------------------------------------------------
def test_label_conversions_round_trip():
    index = np.array([0, 1, 1, 0])
    sign = datasets.to_labels(index, "sign")
    assert sign.tolist() == [-1.0, 1.0, 1.0, -1.0]
    assert datasets.to_labels(sign, "01").tolist() == [0.0, 1.0, 1.0, 0.0]
    assert datasets.to_labels(sign, "index").tolist() == [0, 1, 1, 0]
    onehot = datasets.to_labels([2, 0, 1], "onehot")
    assert onehot.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert datasets.to_labels(onehot, "index").tolist() == [2, 0, 1]
    assert datasets.to_labels([0, 1], "onehot", classes=4).shape == (2, 4)
    for kind in datasets.LABEL_KINDS:  # every loader offers every form
        assert datasets.label_kind(datasets.moons(10, seed=0, labels=kind)[1]) == ("01" if kind == "index" else kind)


def test_label_conversion_errors():
    with pytest.raises(ValueError, match="two classes"):
        datasets.to_labels([0, 1, 2], "sign")
    with pytest.raises(ValueError, match="kind must be one of"):
        datasets.to_labels([0, 1], "binary")
    with pytest.raises(ValueError, match="class labels"):
        datasets.to_labels([0.5, 1.5], "index")
    with pytest.raises(ValueError, match="classes=2"):
        datasets.to_labels([0, 3], "onehot", classes=2)


def test_label_kind_and_labels_for():
    assert datasets.label_kind([1, 0]) == "01"
    assert datasets.label_kind([-1.0, 1.0]) == "sign"
    assert datasets.label_kind([3, 1, 0]) == "index"
    assert datasets.label_kind([[0, 1], [1, 0]]) == "onehot"
    assert datasets.label_kind([0.3, 2.0]) == "real"
    assert datasets.labels_for("hinge") == "sign"
    assert datasets.labels_for("cross-entropy") == "index"
    assert datasets.labels_for("bce") == "01"
    with pytest.raises(ValueError, match="^labels_for: no loss named 'nope'; known: "):
        datasets.labels_for("nope")


# --- splitting and scaling -------------------------------------------------------------------------------
def test_train_test_split_partitions_the_data():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert sorted(ytr.tolist() + yte.tolist()) == list(range(20))
    assert np.array_equal(Xtr[:, 0], 2 * ytr)  # rows stay with their labels
    again = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    assert np.array_equal(again[3], yte)
    assert len(datasets.train_test_split(X, y, test_size=3)[1]) == 3


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 1))
    _, _, ytr, yte = datasets.train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    assert np.bincount(yte).tolist() == [16, 4] and np.bincount(ytr).tolist() == [64, 16]


@pytest.mark.parametrize("counts, test_size", [
    ([10, 10, 10], 2),  # per-class rounding gave 3 (1 of each class)
    ([1, 1, 1, 1, 1], 0.2),  # per-class rounding gave 0: an empty test set
    ([7, 5, 1], 0.5),
    ([33, 33, 34], 0.25),
    ([2, 3], 4),
])
def test_stratified_split_has_exactly_the_test_size(counts, test_size):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y), dtype=float).reshape(-1, 1)
    n_test = test_size if isinstance(test_size, int) else int(np.ceil(test_size * len(y)))
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=test_size, seed=0, stratify=True)
    assert len(Xte) == len(yte) == n_test and len(Xtr) == len(y) - n_test
    assert sorted(np.concatenate([Xtr, Xte])[:, 0].tolist()) == X[:, 0].tolist()
    shares = np.array(counts) * n_test / len(y)  # each class within one sample of its share
    assert np.all(np.abs(np.bincount(yte, minlength=len(counts)) - shares) < 1)


@pytest.mark.parametrize("size", [0.0, 1.0, 0, 20, -0.5, "half"])
def test_split_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(np.zeros((20, 2)), np.zeros(20), test_size=size)
    with pytest.raises(ValueError, match="20 samples but y has 19"):
        datasets.train_test_split(np.zeros((20, 2)), np.zeros(19))


def test_standardize_uses_the_first_arrays_statistics():
    rng = np.random.default_rng(0)
    Xtr = rng.normal(3.0, 2.0, size=(200, 3))
    Xtr[:, 2] = 7.0  # a constant column
    Xte = rng.normal(3.0, 2.0, size=(50, 3))
    Ztr, Zte = datasets.standardize(Xtr, Xte)
    assert np.allclose(Ztr[:, :2].mean(axis=0), 0) and np.allclose(Ztr[:, :2].std(axis=0), 1)
    assert np.all(Ztr[:, 2] == 0)
    assert np.allclose(Zte[:, :2], (Xte[:, :2] - Xtr[:, :2].mean(axis=0)) / Xtr[:, :2].std(axis=0))
    with pytest.raises(ValueError, match="shape"):
        datasets.standardize(Xtr, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        datasets.standardize(np.zeros(5))
