"""The IDX reader on files written here byte by byte, and Fashion-MNIST from the Debian package."""

from __future__ import annotations

import doctest
import gzip
import os
import re
import shutil
import struct

import numpy as np
import pytest

from nn import datasets, fashion_mnist, idx
from nn.idx import IdxError, read_idx


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file written from the format's description (not by the module under test)."""
    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + payload


def write_set(folder, images: np.ndarray, labels: np.ndarray, split: str = "train", compress: bool = True) -> None:
    stems = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}[split]
    for stem, raw in ((stems[0], idx_bytes(0x08, images.shape, images.astype(np.uint8).tobytes())),
                      (stems[1], idx_bytes(0x08, labels.shape, labels.astype(np.uint8).tobytes()))):
        name = os.path.join(folder, stem + (".gz" if compress else ""))
        with open(name, "wb") as f:
            f.write(gzip.compress(raw) if compress else raw)


def test_doctests():
    assert doctest.testmod(idx).failed == 0


@pytest.mark.parametrize("compress", [False, True])
def test_reader_gives_the_array_written_raw_or_gzipped(tmp_path, compress):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(0x08, a.shape, a.tobytes())
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    assert np.array_equal(got, a)
    got[0, 0, 0] = 99  # a writable array of its own


@pytest.mark.parametrize("code, dtype", [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")])
def test_reader_decodes_every_big_endian_type(tmp_path, code, dtype):
    values = np.array([-3, 0, 7, 100], dtype=dtype)
    path = tmp_path / "v.idx"
    path.write_bytes(idx_bytes(code, (4,), values.tobytes()))
    got = read_idx(str(path))
    assert got.tolist() == [-3, 0, 7, 100]
    assert got.dtype.isnative


@pytest.mark.parametrize("raw, words", [
    (b"\x00\x00", "too short"),
    (b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown value type 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "declares 3 dimensions"),
    (idx_bytes(0x08, (2, 3), bytes(5)), "needs 6 bytes of data, the file has 5"),
    (idx_bytes(0x08, (2, 3), bytes(7)), "needs 6 bytes of data, the file has 7"),
    (idx_bytes(0x0C, (2,), bytes(4)), "needs 8 bytes"),
])
def test_malformed_files_give_one_clear_error_naming_the_file(tmp_path, raw, words):
    path = tmp_path / "bad-file.idx"
    path.write_bytes(raw)
    with pytest.raises(IdxError) as info:
        read_idx(path)
    message = str(info.value)
    assert words in message and "bad-file.idx" in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_a_truncated_gzip_file_is_an_idx_error(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (100,), bytes(100)))[:20])
    with pytest.raises(IdxError, match="damaged gzip"):
        read_idx(path)


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_from_a_directory_scales_pixels_and_converts_labels(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    labels = np.array([9, 0, 3, 3, 7])
    write_set(tmp_path, images, labels, "test", compress)
    X, y = datasets.fashion_mnist("test", path=tmp_path)
    assert X.dtype == np.float64 and X.shape == (5, 784)
    assert X[0, 0] == 0.0 and X[1, 0] == 1.0
    assert np.array_equal(X, images.reshape(5, 784) / 255.0)
    assert y.tolist() == [9, 0, 3, 3, 7] and y.dtype.kind == "i"
    _, onehot = datasets.fashion_mnist("test", path=str(tmp_path), labels="onehot")
    assert onehot.shape == (5, 10) and onehot[0].tolist() == [0.0] * 9 + [1.0]


def test_fashion_mnist_refuses_labels_out_of_range_and_mismatched_counts(tmp_path):
    write_set(tmp_path, np.zeros((3, 28, 28)), np.array([0, 10, 1]))
    with pytest.raises(IdxError, match="label 10 outside the classes 0..9"):
        datasets.fashion_mnist(path=tmp_path)
    write_set(tmp_path, np.zeros((3, 28, 28)), np.array([0, 1]))
    with pytest.raises(IdxError, match="train-labels-idx1-ubyte.gz: 2 labels for the 3 images of .*train-images"):
        datasets.fashion_mnist(path=tmp_path)


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="path= must be the directory"):
        datasets.fashion_mnist(path=tmp_path)
    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.fashion_mnist()
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        datasets.fashion_mnist("validation", path=tmp_path)


@pytest.mark.skipif(not os.path.isdir(fashion_mnist.FASHION_MNIST_DIR),
                    reason="the Debian package dataset-fashion-mnist is not installed "
                           "(apt-get install dataset-fashion-mnist)")
def test_the_real_data_set():
    X, y = datasets.fashion_mnist("test")
    assert X.shape == (10000, 784) and y.shape == (10000,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [1000] * 10  # the test set is balanced
    # The first test image is an ankle boot (the data set's README shows it), the second a pullover.
    assert [datasets.FASHION_MNIST_CLASSES[k] for k in y[:2]] == ["Ankle boot", "Pullover"]


@pytest.mark.skipif(not os.path.isdir(fashion_mnist.FASHION_MNIST_DIR),
                    reason="the Debian package dataset-fashion-mnist is not installed "
                           "(apt-get install dataset-fashion-mnist)")
def test_cli_trains_a_784_128_10_mlp_and_tests_on_the_official_test_set(tmp_path, capsys):
    import json

    import nn
    from nn import cli

    out = tmp_path / "fm"
    assert cli.main(["train", "--dataset", "fashion-mnist", "--samples", "400", "--epochs", "1", "--no-progress",
                     "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "MLP(784 -> [128, 10], relu -> identity)" in text and "momentum lr 0.05" in text and "compiled" in text
    assert "held out for testing" in text and "test accuracy:" in text and "(10000 samples)" in text
    run = json.loads((out / "history.json").read_text())["run"]
    assert run["dataset"] == "fashion-mnist" and run["batch_size"] == 128 and run["test_accuracy"] > 0.3
    assert nn.load(out / "model.json").nouts == [128, 10]
    # after training, every stage says what it does as it starts
    for stage in ("scoring the 400 training samples ...", "scoring the 10000 test samples ...",
                  "saving model.json and history.json", "drawing graph.svg"):
        assert stage in text
    if shutil.which("dot") is not None:
        _graph_svg_teaches(out / "graph.svg")


def _graph_svg_teaches(path):
    """The image, two hidden neurons with their weights as pictures, all ten outputs, the cross-entropy."""
    import xml.etree.ElementTree as ET

    svg = "{http://www.w3.org/2000/svg}"
    root = ET.parse(path).getroot()
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert width <= 1400 and height <= 800, (width, height)  # was 2,847 x 5,414 pt
    texts = [t.text.replace("\N{MINUS SIGN}", "-") for t in root.iter(svg + "text") if t.text]
    assert "28×28 pixels" in texts and "their grads" in texts
    assert sum(t.startswith("its 784 weights") for t in texts) == 2
    assert "126 other neurons of layers.0" in texts
    rows = [k for k, t in enumerate(texts) if any(t.startswith(f"{c} {name}") for c, name in
                                                  enumerate(datasets.FASHION_MNIST_CLASSES))]
    assert len(rows) == 10
    target = int(re.search(r"training loss of sample (\d+)", " ".join(texts))[1])
    _, y = datasets.fashion_mnist()
    label = f"{y[target]} {datasets.FASHION_MNIST_CLASSES[y[target]]} (target)"
    assert label in texts
    # each row: name, logit, gradient = softmax - one-hot: negative on the target's row only, summing to 0
    grads = [float(texts[k + 2]) for k in rows]
    assert [g < 0 for g in grads] == [texts[k] == label for k in rows]
    assert abs(sum(grads)) < 1e-2
    assert any(t.startswith("logΣexp(10 outputs): ") for t in texts)
    assert any(t.startswith(f"loss = logΣexp - output {y[target]}: ") for t in texts)
    # the pictures: 28 x 28 coloured cells each for the image, its gradient and two neurons' weights
    cells = [p for p in root.iter(svg + "polygon") if p.get("fill", "").startswith("#")
             and p.get("stroke") == "transparent"]
    assert len(cells) >= 4 * 784


# --- issue 23 §5: the files are checked against what the format says Fashion-MNIST is ---------------------
def _write(folder, images: bytes, labels: bytes) -> None:
    (folder / "train-images-idx3-ubyte").write_bytes(images)
    (folder / "train-labels-idx1-ubyte").write_bytes(labels)


def _good_images(n: int = 3) -> bytes:
    return idx_bytes(0x08, (n, 28, 28), bytes(n * 784))


@pytest.mark.parametrize("values", [[2.7, 1.0, 0.5], [np.nan, 1.0, 2.0]])
def test_float_labels_are_refused_naming_the_label_file(tmp_path, values):
    _write(tmp_path, _good_images(), idx_bytes(0x0D, (3,), np.array(values, dtype=">f4").tobytes()))
    with pytest.raises(IdxError, match=r"train-labels-idx1-ubyte: expected n labels as unsigned bytes .*float32"):
        datasets.fashion_mnist(path=tmp_path)


def test_signed_or_wide_integer_labels_are_refused_too(tmp_path):
    _write(tmp_path, _good_images(), idx_bytes(0x0C, (3,), np.array([1, 2, 3], dtype=">i4").tobytes()))
    with pytest.raises(IdxError, match="train-labels-idx1-ubyte: .*int32"):
        datasets.fashion_mnist(path=tmp_path)


def test_images_that_are_not_28x28_are_refused_naming_the_image_file(tmp_path):
    _write(tmp_path, idx_bytes(0x08, (3, 2, 3), bytes(18)), idx_bytes(0x08, (3,), bytes(3)))
    with pytest.raises(IdxError, match=r"train-images-idx3-ubyte: expected n >= 1 28x28 uint8 images .*\(3, 2, 3\)"):
        datasets.fashion_mnist(path=tmp_path)


def test_a_well_formed_file_of_0_images_is_an_idx_error_naming_it_and_read_idx_gives_an_empty_array(tmp_path):
    _write(tmp_path, idx_bytes(0x08, (0, 28, 28), b""), idx_bytes(0x08, (0,), b""))
    with pytest.raises(IdxError, match=r"train-images-idx3-ubyte: expected n >= 1 .*\(0, 28, 28\)"):
        datasets.fashion_mnist(path=tmp_path)
    empty = read_idx(tmp_path / "train-images-idx3-ubyte")
    assert empty.shape == (0, 28, 28) and empty.dtype == np.uint8


def test_a_header_whose_sizes_overflow_int64_is_an_idx_error_naming_the_file(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    for shape in ((2**32 - 1,) * 3, (2**31, 2**31, 4)):  # 2**64 wraps to 0 in int64 arithmetic
        path.write_bytes(idx_bytes(0x08, shape, b""))
        with pytest.raises(IdxError, match=r"huge-idx3-ubyte: shape .* needs [\d,]+ bytes of data, the file has 0"):
            read_idx(path)
