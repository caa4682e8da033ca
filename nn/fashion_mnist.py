"""Fashion-MNIST (Zalando Research, MIT licence): 70,000 grey 28x28 images of clothes in 10 classes.

The files are the ones Debian's ``dataset-fashion-mnist`` package installs (``apt-get install
dataset-fashion-mnist``, part of the README's set-up line) in ``/usr/share/datasets/fashion-mnist``,
or the same four IDX files downloaded by hand into any directory (``path=``), gzip-compressed or
not.  Users call ``nn.datasets.fashion_mnist`` (labels in any form); this module finds and checks
the files.
"""

from __future__ import annotations

import os

import numpy as np

from .idx import IdxError, read_idx

__all__ = ["load", "FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR"]

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # where the Debian package puts the files
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def load(split: str = "train", path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, classes)``: the 60,000 training (``split="train"``) or 10,000 test images (``"test"``).

    ``X`` is float64 of shape (n, 784), pixels scaled from 0..255 to [0, 1], row by row as in the
    file; ``classes`` the int64 classes 0..9 (names in :data:`FASHION_MNIST_CLASSES`).  ``path``
    is a directory holding the IDX files (default: :data:`FASHION_MNIST_DIR`).  A missing file
    raises FileNotFoundError saying how to install them; a damaged one :class:`nn.idx.IdxError`.
    """
    if split not in _FILES:
        raise ValueError(f"fashion_mnist: split must be 'train' or 'test', got {split!r}")
    folder = os.fspath(path) if path is not None else FASHION_MNIST_DIR
    images = read_idx(_find(folder, _FILES[split][0], path is None))
    index = read_idx(_find(folder, _FILES[split][1], path is None))
    if images.ndim != 3 or images.dtype != np.uint8 or index.ndim != 1 or len(index) != len(images):
        raise IdxError(f"fashion_mnist: {folder}: expected n 28x28 uint8 images and n labels, got images of shape "
                       f"{images.shape} ({images.dtype}) and labels of shape {index.shape}")
    if index.size and int(index.max()) > 9:
        raise IdxError(f"fashion_mnist: {folder}: a label {int(index.max())} outside the classes 0..9")
    X = images.reshape(len(images), -1).astype(np.float64)
    X /= 255.0
    return X, index.astype(np.int64)


def _find(folder: str, stem: str, default: bool) -> str:
    for name in (stem + ".gz", stem):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    where = (f"the Debian package dataset-fashion-mnist is not installed ({folder} has no {stem}[.gz]): "
             "apt-get install dataset-fashion-mnist, or download the four IDX files and pass path=<their directory>"
             if default else
             f"{folder} has no {stem}.gz or {stem} (path= must be the directory holding the four Fashion-MNIST "
             "IDX files; or apt-get install dataset-fashion-mnist and leave path out)")
    raise FileNotFoundError(f"fashion_mnist: {where}")
