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
    raises FileNotFoundError saying how to install them; a damaged one, or one that is not n >= 1
    28x28 unsigned-byte images with n unsigned-byte labels 0..9, :class:`nn.idx.IdxError` naming it.
    """
    if split not in _FILES:
        raise ValueError(f"fashion_mnist: split must be 'train' or 'test', got {split!r}")
    folder = os.fspath(path) if path is not None else FASHION_MNIST_DIR
    image_file, label_file = (_find(folder, stem, path is None) for stem in _FILES[split])
    images, index = _images(image_file), _labels(label_file)
    if len(index) != len(images):
        raise IdxError(f"fashion_mnist: {label_file}: {len(index):,} labels for the {len(images):,} images of "
                       f"{image_file}")
    X = images.reshape(len(images), 28 * 28).astype(np.float64)
    X /= 255.0
    return X, index.astype(np.int64)


def _images(file: str) -> np.ndarray:
    """The images of ``file``: n >= 1 28x28 unsigned bytes, else an IdxError naming the file."""
    images = read_idx(file)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28) or not len(images):
        raise IdxError(f"fashion_mnist: {file}: expected n >= 1 28x28 uint8 images (IDX type 0x08, 3 dimensions), "
                       f"got shape {images.shape} of {images.dtype}")
    return images


def _labels(file: str) -> np.ndarray:
    """The labels of ``file``: unsigned bytes 0..9 in one dimension, else an IdxError naming the file."""
    index = read_idx(file)
    if index.dtype != np.uint8 or index.ndim != 1:
        raise IdxError(f"fashion_mnist: {file}: expected n labels as unsigned bytes (IDX type 0x08, 1 dimension), "
                       f"got shape {index.shape} of {index.dtype}")
    if index.size and int(index.max()) > 9:
        raise IdxError(f"fashion_mnist: {file}: a label {int(index.max())} outside the classes 0..9")
    return index


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
